"""history index: sales_history keeps no (item, warehouse, day) index (issue 19)

Revision ID: 0024b_history_index
Revises: 0024_structure

``ix_sales_history_pair_day`` is 57 MB of the large data set (1.08 M legacy sales days: two ids and
a day per entry). The only query that read it is the importer's duplicate check when a sales
history file is imported on top of history already there; that check now joins the file's keys
with a temporary table of the keys already in the table, made once per import (a scan and a sort,
``importer.sales_history``).
Weekly demand is read from ``sales_week``, which the table's trigger keeps; the seed, replication
and the forecasts never read history by that key. Downgrade recreates the index.
"""

from __future__ import annotations

from alembic import op

revision = "0024b_history_index"
down_revision = "0024_structure"
branch_labels = None
depends_on = None

INDEX = "ix_sales_history_pair_day"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="sales_history")


def downgrade() -> None:
    op.create_index(INDEX, "sales_history", ["item_id", "warehouse_id", "sale_date"], unique=False)
