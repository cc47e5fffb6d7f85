"""onboard: the company profile, legacy sales history and per-pair replenishment policies

Revision ID: 0011_onboard
Revises: 0003

``company`` is head-office master data (one row: the letterhead of every document).
``sales_history`` is an insert-only ledger of legacy demand owned by its warehouse's branch;
a trigger adds each row to ``sales_week`` (revision 0003), so replenishment reads it as
demand without any stock move. ``replenishment_policy`` is a branch document (the warehouse's
branch sets how its items are replenished: today fixed min/max).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture, install_ledger_guard

revision = "0011_onboard"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ["company", "sales_history", "replenishment_policy"]

#: written out here (not imported) so this migration keeps doing what it did
_SALES_HISTORY_WEEK = """CREATE TRIGGER IF NOT EXISTS trg_sales_history_sales_week
    AFTER INSERT ON sales_history
    BEGIN
      INSERT INTO sales_week (item_id, warehouse_id, week, qty)
      VALUES (NEW.item_id, NEW.warehouse_id, (CAST(julianday(NEW.sale_date) + 0.5 AS INTEGER) / 7), NEW.qty)
      ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty;
    END"""


def _versioned() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        *_replicated(),
    ]


def _replicated() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=200), nullable=False),
        sa.Column("tax_id", sa.String(length=40), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("logo_b64", sa.Text(), nullable=False),
        sa.Column("logo_mime", sa.String(length=16), nullable=False),
        *_versioned(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    op.create_index(op.f("ix_company_owner_branch_id"), "company", ["owner_branch_id"], unique=False)

    op.create_table(
        "sales_history",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        *_replicated(),
        sa.CheckConstraint("qty > 0", name=op.f("ck_sales_history_qty_positive")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_sales_history_item_id_item")),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouse.id"],
                                name=op.f("fk_sales_history_warehouse_id_warehouse")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_sales_history_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_history")),
    )
    op.create_index(op.f("ix_sales_history_owner_branch_id"), "sales_history", ["owner_branch_id"], unique=False)
    op.create_index("ix_sales_history_pair_day", "sales_history", ["item_id", "warehouse_id", "sale_date"],
                    unique=False)

    op.create_table(
        "replenishment_policy",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("min_qty", sa.BigInteger(), nullable=False),
        sa.Column("max_qty", sa.BigInteger(), nullable=False),
        *_versioned(),
        sa.CheckConstraint("min_qty >= 0 AND max_qty > 0 AND min_qty <= max_qty",
                           name=op.f("ck_replenishment_policy_min_max")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_replenishment_policy_item_id_item")),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouse.id"],
                                name=op.f("fk_replenishment_policy_warehouse_id_warehouse")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replenishment_policy")),
        sa.UniqueConstraint("item_id", "warehouse_id", name=op.f("uq_replenishment_policy_item_id_warehouse_id")),
    )
    op.create_index(op.f("ix_replenishment_policy_owner_branch_id"), "replenishment_policy", ["owner_branch_id"],
                    unique=False)
    op.create_index(op.f("ix_replenishment_policy_warehouse_id"), "replenishment_policy", ["warehouse_id"],
                    unique=False)

    op.execute(_SALES_HISTORY_WEEK)
    install_ledger_guard(["sales_history"])
    install_capture(TABLES)


def downgrade() -> None:
    drop_capture(TABLES)
    op.execute("DROP TRIGGER IF EXISTS trg_sales_history_sales_week")
    op.execute("DROP TRIGGER IF EXISTS trg_sales_history_no_update")
    op.execute("DROP TRIGGER IF EXISTS trg_sales_history_no_delete")
    op.drop_table("replenishment_policy")
    op.drop_table("sales_history")
    op.drop_table("company")
