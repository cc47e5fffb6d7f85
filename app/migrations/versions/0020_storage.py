"""storage: the ledgers' owner indexes dropped, stock_balance stored by its key (issue 19)

Revision ID: 0020_storage
Revises: every head before it (a merge point: it runs after all of them)

Measured on the large data set (docs/data.md, "Storage"): ``ix_stock_move_owner_branch_id``
(84 MB) and ``ix_sales_history_owner_branch_id`` (51 MB) are never read on a workstation (no
query filters those ledgers by owner; the server keeps its own owner index for row-level
security), yet every insert and every bulk load pays for them. ``stock_balance`` becomes a
WITHOUT ROWID table clustered by its primary key (location, item, lot): the 89 MB primary-key
index that duplicated every balance row goes, and a balance look-up by key reads one b-tree.

Converts an existing file in place, in the migration's transaction: the trigger that writes
balances is set aside while the table is rebuilt, rows are copied in key order, the trigger is
put back with its own SQL. The pages freed are given back by ``schema.upgrade``'s VACUUM.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_storage"
# Every head of the day, not only 0011_onboard (sales_history): a revision hung below one branch
# changes the order Alembic applies the others in (it once made a new file fail to build: 0016_billing
# altered a table of 0012_orders before depending on it). Run last, after everything.
down_revision = ("0002", "0004", "0005", "0007", "0008", "0010_carriers", "0011_onboard", "0018_forecast", "0019_kpi", "0020_billing_due", "0020_branch_gs1")  # noqa: E501 (one line: schema reads it as text)
branch_labels = None
depends_on = None

_OWNER_INDEXES = {"ix_stock_move_owner_branch_id": "stock_move",
                  "ix_sales_history_owner_branch_id": "sales_history"}


def _rebuild_balance(with_rowid: bool) -> None:
    conn = op.get_bind()
    # triggers on other tables that write stock_balance (the balance trigger; later issues may add
    # more): dropped for the swap and recreated from their own stored SQL
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'stock_balance' "
        "AND sql LIKE '%stock_balance%' ORDER BY name").fetchall()
    for name, _sql in triggers:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP INDEX IF EXISTS ix_stock_balance_item")
    op.execute("ALTER TABLE stock_balance RENAME TO stock_balance_old")
    op.create_table(
        "stock_balance",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("lot_key", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("location_id", "item_id", "lot_key", name=op.f("pk_stock_balance")),
        sqlite_with_rowid=with_rowid,
    )
    op.execute("INSERT INTO stock_balance (location_id, item_id, lot_key, qty) "
               "SELECT location_id, item_id, lot_key, qty FROM stock_balance_old "
               "ORDER BY location_id, item_id, lot_key")
    op.execute("DROP TABLE stock_balance_old")
    op.create_index("ix_stock_balance_item", "stock_balance", ["item_id", "location_id"], unique=False)
    for _name, sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    for index, table in _OWNER_INDEXES.items():
        op.drop_index(index, table_name=table)
    _rebuild_balance(with_rowid=False)


def downgrade() -> None:
    _rebuild_balance(with_rowid=True)
    for index, table in _OWNER_INDEXES.items():
        op.create_index(index, table, ["owner_branch_id"], unique=False)
