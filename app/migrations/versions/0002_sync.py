"""replication bookkeeping: sync_state, sync_conflict, sync_history (all local-only)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_conflict",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("tbl", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("local_row", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_conflict")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_history",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("pulled", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_history")),
        sqlite_autoincrement=True,
    )
    # the outbox is read in seq order per batch and probed by (tbl, row_id) on every pull
    with op.batch_alter_table("sync_outbox") as b:
        b.create_index("ix_sync_outbox_tbl_row", ["tbl", "row_id"])


def downgrade() -> None:
    with op.batch_alter_table("sync_outbox") as b:
        b.drop_index("ix_sync_outbox_tbl_row")
    op.drop_table("sync_history")
    op.drop_table("sync_conflict")
    op.drop_table("sync_state")
