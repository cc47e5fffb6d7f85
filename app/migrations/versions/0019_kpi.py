"""kpi: local-only digests of the ledger for the manager KPIs (issue 17)

Revision ID: 0019_kpi
Revises: 0006

``kpi_po_line`` (receipts and putaways per PO line) and ``kpi_stock_day`` (stock value in and
cost of goods out per warehouse and day) are kept in step by triggers on ``stock_move`` and filled
from the ledger here; never replicated, so no change capture. The SQL lives in app/models/kpi.py
(the seed rebuilds them with the same statements).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.models.kpi import KPI_TEXT_PO_LINE_REBUILD_SQL, KPI_TEXT_STOCK_DAY_REBUILD_SQL, KPI_TEXT_TRIGGERS_SQL

revision = "0019_kpi"
down_revision = "0006"  # receipt_line
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_po_line",
        sa.Column("po_line_id", sa.Uuid(), nullable=False),
        sa.Column("po_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("qty_ordered", sa.BigInteger(), nullable=False),
        sa.Column("first_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("last_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("put_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.PrimaryKeyConstraint("po_line_id", name=op.f("pk_kpi_po_line")),
    )
    op.create_index("ix_kpi_po_line_first", "kpi_po_line", ["first_at"])
    op.create_index("ix_kpi_po_line_put", "kpi_po_line", ["put_at"])
    op.create_index("ix_kpi_po_line_po", "kpi_po_line", ["po_id"])
    op.create_table(
        "kpi_stock_day",
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("inflow", sa.BigInteger(), nullable=False),
        sa.Column("cogs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id", "day", name=op.f("pk_kpi_stock_day")),
        sqlite_with_rowid=False,
    )
    # the ISO-text forms of the time this ran (0023_numeric_times converts them with moved_at)
    for sql in KPI_TEXT_TRIGGERS_SQL:
        op.execute(sql)
    op.execute(KPI_TEXT_PO_LINE_REBUILD_SQL)
    op.execute(KPI_TEXT_STOCK_DAY_REBUILD_SQL)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_stock_move_kpi_po_line")
    op.execute("DROP TRIGGER IF EXISTS trg_stock_move_kpi_stock_day")
    op.execute("DROP TRIGGER IF EXISTS trg_receipt_line_kpi_po_line")
    op.drop_table("kpi_stock_day")
    op.drop_table("kpi_po_line")
