"""gui: a covering index for the item list's search

Revision ID: 0008
Revises: 0001

The item list walks items in SKU order and tests every word against SKU and description
(``app.services.items``). Through the unique SKU index alone each step is a lookup into the
item table, scattered over the file when SKU order differs from insertion order: ~200 ms per
keystroke on the large data set. This index holds every column the list reads, so the walk
never leaves it (~15 ms). Only an index on the foundation's ``item`` table: nothing to capture.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ["sku", "description", "deleted_at", "active", "base_uom", "velocity_class", "gtin", "id"]


def upgrade() -> None:
    op.create_index("ix_item_search", "item", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_item_search", table_name="item")
