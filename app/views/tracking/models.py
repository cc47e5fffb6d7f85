"""The Tracking screen's list: a paged model over ``services.tracking.queries.list_shipments``
with the ETA model's prediction (``queries.with_predictions``), the risk column coloured (late
red, at risk amber, also when only the ETA model flags it) and times in local time."""

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


def predicted_text(row: ShipmentRow) -> str:
    """The ETA model's median arrival day to the day 90 % arrive by: "09-10 Dec", "30 Nov-02 Dec",
    "09 Dec" when both fall on one day (the tooltip has the hours)."""
    p = row.predicted
    if p is None or not p.predicted:
        return ""
    med, p90 = p.median.astimezone().date(), p.p90.astimezone().date()
    if med == p90:
        return f"{med:%d %b}"
    return f"{med:%d}–{p90:%d %b}" if (med.year, med.month) == (p90.year, p90.month) else f"{med:%d %b}–{p90:%d %b}"


def risk_text(row: ShipmentRow) -> str:
    if row.model_at_risk:
        return "at risk (ETA)"
    return RISK_TEXT.get(row.risk, row.risk)


def risk_key(row: ShipmentRow) -> str:
    """The colour of the risk cell: the rule's, or amber when only the ETA model flags it."""
    return "at_risk" if row.model_at_risk else row.risk


def prediction_tip(row: ShipmentRow) -> str:
    p = row.predicted
    if p is None:
        return ""
    if not p.predicted:
        return f"No predicted arrival: {p.why}"
    med, p90 = p.median.astimezone(), p.p90.astimezone()
    return (f"ETA model: {p.label}; median arrival {med:%a %d %b %H:%M}, 90% by {p90:%a %d %b %H:%M} "
            f"(carrier's promise {p.promised.astimezone():%a %d %b %H:%M})\n{p.why}")


COLUMNS = (
    Column("Shipment", "number"),
    Column("Order", "order"),
    Column("Customer", "customer"),
    Column("Carrier", "carrier_code"),
    Column("Tracking no.", "tracking_number"),
    Column("Status", get=status_text),
    Column("Promised", "promised", fmt=day),
    Column("ETA", get=lambda r: local(r.delivered_at, "%a %d %b") if r.status == "delivered" else day(r.eta)),
    Column("Predicted", get=predicted_text),
    Column("Risk", get=risk_text),
    Column("Last event", "last_event_at", fmt=local),
    Column("Next poll", get=next_poll),
)
PREDICTED_COLUMN = 8
RISK_COLUMN = 9


def fetch_shipments(session: Session, f: Filter | None, after: Any, limit: int) -> tuple[list[ShipmentRow], Any]:
    offset = int(after or 0)
    rows = queries.list_shipments(session, f, limit=limit + 1, offset=offset)
    page, _note = queries.with_predictions(session, rows[:limit])  # the note is each open row's tooltip
    return page, (offset + limit if len(rows) > limit else None)


class ShipmentModel(PagedTableModel):
    """Shipments, late first; the risk cell coloured, the flag and the status in the tooltip."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        row: ShipmentRow = self.row(index.row())
        if index.column() == RISK_COLUMN and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            bg, fg = RISK_COLOURS.get(risk_key(row), ("", ""))
            colour = bg if role == Qt.ItemDataRole.BackgroundRole else fg
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{row.status_text or row.status}"
            if row.flag:
                tip += f"\n⚑ {row.flag}"
            if row.poll_outcome and row.poll_outcome != "ok":
                tip += f"\nlast poll: {row.poll_outcome}"
            if index.column() in (PREDICTED_COLUMN, RISK_COLUMN) and row.predicted is not None:
                tip = prediction_tip(row) + "\n" + tip
            return tip
        return super().data(index, role)
