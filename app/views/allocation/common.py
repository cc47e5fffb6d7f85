"""What the Allocation screen's tabs share: table factory, formats, the data kinds they refresh on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QTableView

from app.services.changes import Change
from app.services.money import fmt_money
from app.views.widgets.columns import fit_columns

#: data_changed kinds the order book depends on
KINDS = frozenset({Change.ORDER, Change.ALLOCATION, Change.STOCK, Change.RECEIPT, Change.SYNC, Change.CUSTOMER,
                   Change.EXCEPTION})
OK_STYLE = "color: #1e6b30; font-weight: bold;"
WARN_STYLE = "color: #8a5a00; font-weight: bold;"
BAD_STYLE = "color: #a01818; font-weight: bold;"


def table(model: Any, name: str, *, multi: bool = False) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                       else QAbstractItemView.SelectionMode.SingleSelection)
    v.setAlternatingRowColors(False)  # tinted rows mean something here (short, taken back, lead time only)
    fit_columns(v, name)
    return v


def day(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def when(t: dt.datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""


def money(v: Decimal | None, currency: str = "USD") -> str:
    return fmt_money(v or Decimal(0), currency)


def status_text(s: str) -> str:
    return s.replace("_", " ")
