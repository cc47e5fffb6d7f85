"""structure: indexes no workstation query needs (issue 19)

Revision ID: 0024_structure
Revises: 0023_numeric_times

Measured on the large data set (docs/data.md, "Structure"): every index of every table checked
against the queries that read it (grep, EXPLAIN QUERY PLAN).

* An index on ``(a)`` beside a UNIQUE constraint on ``(a, b)`` of the same table answers nothing the
  unique index does not: SQLite searches a prefix of an index as it searches a whole one. Dropped:
  ``purchase_order_line.po_id`` (8.7 MB on the large set), ``location.warehouse_id`` (3.8),
  ``lot.item_id`` (3.0), ``item_uom.item_id`` (2.4), ``item_supplier.item_id`` (1.6),
  ``sales_order_line.order_id`` (1.5), ``price_list_line.price_list_id`` (1.2).
* ``owner_branch_id`` indexes of tables no workstation query filters by owner: master data (one
  owner, head office: the index can select nothing), document lines (read through their
  document), figures and ledgers read by item or warehouse. 28 MB on the large set. Documents that
  are listed per branch (purchase_order, sales_order, shipment, requisition, ...) keep theirs; the
  server keeps its own owner index on every table (row-level security).

Dropping an index changes no row; ``schema.upgrade``'s VACUUM gives the pages back. Downgrade
recreates them.
"""

from __future__ import annotations

from alembic import op

revision = "0024_structure"
down_revision = "0023_numeric_times"
branch_labels = None
depends_on = None

#: index -> (table, columns): a prefix of a UNIQUE constraint of the same table
PREFIX_INDEXES = {
    "ix_purchase_order_line_po_id": ("purchase_order_line", ["po_id"]),
    "ix_location_warehouse_id": ("location", ["warehouse_id"]),
    "ix_lot_item_id": ("lot", ["item_id"]),
    "ix_item_uom_item_id": ("item_uom", ["item_id"]),
    "ix_item_supplier_item_id": ("item_supplier", ["item_id"]),
    "ix_sales_order_line_order_id": ("sales_order_line", ["order_id"]),
    "ix_price_list_line_price_list_id": ("price_list_line", ["price_list_id"]),
}

#: tables whose owner index no workstation query reads
OWNER_TABLES = ("purchase_order_line", "warehouse_figures", "location", "lot", "item_uom", "item_supplier",
                "sales_order_line", "item", "price_list_line", "pick_line", "allocation")


def _all() -> dict[str, tuple[str, list[str]]]:
    out = dict(PREFIX_INDEXES)
    out.update({f"ix_{t}_owner_branch_id": (t, ["owner_branch_id"]) for t in OWNER_TABLES})
    return out


def upgrade() -> None:
    for index, (table, _cols) in _all().items():
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for index, (table, cols) in _all().items():
        op.create_index(index, table, cols, unique=False)
