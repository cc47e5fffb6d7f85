"""billing_due: the invoicing follow-ups of carrier events, queued in the tracking transaction and
settled by the billing job in batches (local, never replicated)

Revision ID: 0020_billing_due
Revises: 0016_billing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0020_billing_due"
down_revision = "0016_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_due",
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "step", name=op.f("pk_billing_due")),
    )


def downgrade() -> None:
    op.drop_table("billing_due")
