"""The item list model: item x warehouse rows, fetched a page of items at a time.

Why item x warehouse rows (not one row per item with a column per warehouse): the number
of warehouses differs per customer and grows; rows keep the columns fixed, sort and filter
the same way everywhere, and the warehouse filter turns the list into "this warehouse only".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.services import items as items_q
from app.views.ops import OpRunner
from app.views.widgets.delegates import format_qty
from app.views.widgets.paged import Column, PagedTableModel

COLUMNS = (
    Column("SKU", "sku"),
    Column("Description", "description"),
    Column("Warehouse", "warehouse_code"),
    Column("On hand", "on_hand", align_right=True, fmt=format_qty),
    Column("UoM", "base_uom"),
    Column("Class", "velocity_class"),
    Column("Active", "active", fmt=lambda v: "yes" if v else "no"),
)


@dataclass(frozen=True)
class ItemQuery:
    text: str = ""
    warehouse_id: uuid.UUID | None = None
    active_only: bool = False


def fetch_items(session: Session, query: ItemQuery | None, after: Any, limit: int) -> tuple[list[Any], Any]:
    q = query or ItemQuery()
    page = items_q.search_items(session, q.text, after_sku=after, limit=limit,
                                warehouse_id=q.warehouse_id, active_only=q.active_only)
    return page.rows, page.next_after


#: items per page: 100 items x 3 warehouses = 300 rows, ten screens of rows per fetch
SCREEN_PAGE = 100


class ItemTableModel(PagedTableModel):
    def __init__(self, runner: OpRunner, *, page_size: int = SCREEN_PAGE, parent: Any = None) -> None:
        super().__init__(runner, fetch_items, COLUMNS, page_size=page_size, parent=parent)

    def item_id_at(self, row: int) -> uuid.UUID:
        return self.row(row).item_id  # type: ignore[no-any-return]

    def first_row_of(self, item_id: uuid.UUID) -> int | None:
        for i, r in enumerate(self.rows()):
            if r.item_id == item_id:
                return i
        return None
