"""The Tracking screen's list: a paged model over ``services.tracking.queries.list_shipments``,
with the risk column coloured (late red, at risk amber) and times in local time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from sqlalchemy.orm import Session

from app.services.tracking import queries
from app.services.tracking.queries import Filter, ShipmentRow
from app.views.widgets.paged import Column, Index, PagedTableModel

RISK_TEXT = {"late": "late", "at_risk": "at risk", "on_time": "on time", "": "-"}
RISK_COLOURS = {"late": ("#fde2e2", "#9b1c1c"), "at_risk": ("#fff1c2", "#7a5200"), "on_time": ("", "#1e6b34")}
STATUS_VIEWS = (("moving", "On the way"), ("trouble", "Needs attention"), ("delivered", "Delivered"), ("all", "All"))
RISK_FILTERS = (("", "Any risk"), ("late", "Late"), ("at_risk", "At risk"), ("on_time", "On time"))


def local(v: dt.datetime | None, fmt: str = "%d %b %H:%M") -> str:
    return v.astimezone().strftime(fmt) if v is not None else ""


def day(v: dt.date | None) -> str:
    return v.strftime("%a %d %b") if v is not None else ""


def status_text(row: ShipmentRow) -> str:
    text = row.status.replace("_", " ")
    if row.flag:
        text += " ⚑"
    if row.stopped in ("stale", "invalid"):
        text += f" ({'no movement' if row.stopped == 'stale' else 'number refused'})"
    return text


def next_poll(row: ShipmentRow) -> str:
    if row.next_poll_at is not None:
        return local(row.next_poll_at, "%H:%M")
    return {"delivered": "done", "returned": "done", "cancelled": "done", "stale": "stopped",
            "invalid": "stopped"}.get(row.stopped, "")


COLUMNS = (
    Column("Shipment", "number"),
    Column("Order", "order"),
    Column("Customer", "customer"),
    Column("Carrier", "carrier_code"),
    Column("Tracking no.", "tracking_number"),
    Column("Status", get=status_text),
    Column("Promised", "promised", fmt=day),
    Column("ETA", get=lambda r: local(r.delivered_at, "%a %d %b") if r.status == "delivered" else day(r.eta)),
    Column("Risk", "risk", fmt=lambda v: RISK_TEXT.get(v, v)),
    Column("Last event", "last_event_at", fmt=local),
    Column("Next poll", get=next_poll),
)
RISK_COLUMN = 8


def fetch_shipments(session: Session, f: Filter | None, after: Any, limit: int) -> tuple[list[ShipmentRow], Any]:
    offset = int(after or 0)
    rows = queries.list_shipments(session, f, limit=limit + 1, offset=offset)
    return rows[:limit], (offset + limit if len(rows) > limit else None)


class ShipmentModel(PagedTableModel):
    """Shipments, late first; the risk cell coloured, the flag and the status in the tooltip."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        row: ShipmentRow = self.row(index.row())
        if index.column() == RISK_COLUMN and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            bg, fg = RISK_COLOURS.get(row.risk, ("", ""))
            colour = bg if role == Qt.ItemDataRole.BackgroundRole else fg
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{row.status_text or row.status}"
            if row.flag:
                tip += f"\n⚑ {row.flag}"
            if row.poll_outcome and row.poll_outcome != "ok":
                tip += f"\nlast poll: {row.poll_outcome}"
            return tip
        return super().data(index, role)
