"""warehouse_figures: each warehouse's figures for sister branches' transfer-vs-buy (issue 20)

Revision ID: 0021_warehouse_figures
Revises: 0020_billing_due

A branch document published by the warehouse's own branch and pulled by every branch under
selective replication (app/models/demand.py, app/services/replenishment/sister_figures.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0021_warehouse_figures"
down_revision = "0020_billing_due"
branch_labels = None
depends_on = None

TABLES = ["warehouse_figures"]


def upgrade() -> None:
    op.create_table(
        "warehouse_figures",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.Column("outbound", sa.BigInteger(), nullable=False),
        sa.Column("order_up_to", sa.BigInteger(), nullable=False),
        sa.Column("demand_weeks", sa.BigInteger(), nullable=False),
        sa.Column("demand_sum", sa.BigInteger(), nullable=False),
        sa.Column("demand_sq", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_warehouse_figures_item_id_item")),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouse.id"],
                                name=op.f("fk_warehouse_figures_warehouse_id_warehouse")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_figures")),
    )
    op.create_index(op.f("ix_warehouse_figures_owner_branch_id"), "warehouse_figures", ["owner_branch_id"], unique=False)
    op.create_index("ix_warehouse_figures_pair", "warehouse_figures", ["warehouse_id", "item_id"], unique=False)
    install_capture(TABLES)


def downgrade() -> None:
    drop_capture(TABLES)
    op.drop_table("warehouse_figures")
