"""Packing tab: the packing station, keyboard (scanner) first.

Choose an order (F6, or scan its number); every scan goes into the open carton. The scan station
(``widgets.scan_station``, shared with Picking) keeps the focus in its field whatever was clicked;
each scan answers in big letters on green (packed) or red (refused, with the reason, and a beep). What the field takes: an item (SKU, GTIN or GS1 label), ``*N`` (the
quantity of the next item), ``SN:serial`` when asked for a serial, ``OPEN [BOX]`` (a new carton),
a weight as a scale types it (``1.25 kg``: closes the open carton), ``LAST 1.25 kg`` (closes the
last carton: the shipment is packed), ``UNDO SKU`` (takes one back out). Each scan is one op on the
writer; a refused scan writes nothing.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.dispatch import documents, packing, ship_queries
from app.views.allocation.common import table
from app.views.context import AppContext
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel
from app.views.widgets.scan_station import ScanStation

KINDS = frozenset({Change.PACKING, Change.SHIPMENT, Change.ORDER, Change.STOCK})
HELP = ("Scan items  ·  *N quantity  ·  OPEN [box]  ·  weight (1.25 kg) closes the carton  ·  LAST 1.25 kg "
        "finishes  ·  UNDO sku")
_WEIGHT = re.compile(r"^\s*(LAST\s+)?(\d+(?:\.\d+)?\s*(?:kg|g|lb|lbs|oz))\s*$", re.IGNORECASE)

LINE_COLUMNS = [
    Column("#", "line_no", align_right=True), Column("SKU", "sku"), Column("Description", "description"),
    Column("Ordered", "ordered", align_right=True), Column("To pack", "packable", align_right=True),
    Column("Packed", "packed", align_right=True), Column("Missing", get=lambda r: r.missing or "", align_right=True),
]
CARTON_COLUMNS = [
    Column("Carton", "seq", align_right=True), Column("SSCC", "sscc"), Column("Box", "type"),
    Column("Status", "status"), Column("Units", "units", align_right=True),
    Column("Weight", get=lambda r: f"{r['weight_g'] / 1000:.2f} kg" if r["weight_g"] else "", align_right=True),
]


class PackingTab(QWidget):
    """Signals:
    answered(bool, str): a scan's outcome (ok, message) after it is shown.
    """

    answered = Signal(bool, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.shipment: str | None = None
        self.qty = 1
        self.pending_serial: str | None = None
        self._busy = False
        self._last = ""
        self.last_pdf = ""
        self.order = QComboBox()
        self.order.setObjectName("packOrder")
        self.order.setMinimumWidth(460)
        self.station = ScanStation("pack", "Choose an order to pack (F6) or scan its number", prompt_name="packTitle",
                                   feedback_height=80)
        self.title, self.scan, self.feedback = self.station.prompt, self.station.scan, self.station.feedback
        self.suggestion = QLabel("")
        self.suggestion.setObjectName("packSuggestion")
        self.suggestion.setWordWrap(True)
        self.help = QLabel(HELP)
        self.help.setWordWrap(True)
        self.lines = RowsModel(LINE_COLUMNS, self, highlight=lambda r: bool(r.missing))
        self.lines_view = table(self.lines, "packLines")
        self.cartons = RowsModel(CARTON_COLUMNS, self, highlight=lambda r: r["status"] == "open")
        self.cartons_view = table(self.cartons, "packCartons")
        for v in (self.lines_view, self.cartons_view):
            v.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slip_btn = QPushButton("Packing slip (F8)")
        self.labels_btn = QPushButton("Carton labels (F9)")
        for b in (self.slip_btn, self.labels_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top = FlowRow()  # wraps on a narrow window (1,024 px)
        top.addWidget(QLabel("Order:"))
        top.addWidget(self.order)
        top.addStretch(1)
        top.addWidget(self.slip_btn)
        top.addWidget(self.labels_btn)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.lines_view)
        split.addWidget(self.cartons_view)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.station)
        lay.addWidget(self.suggestion)
        lay.addWidget(self.help)
        lay.addWidget(split, 1)
        if not ctx.can("dispatch.ship"):
            self.station.disable("Packing needs the dispatch.ship right (a dispatcher or the warehouse).")
        self._connect_signals()
        self.refresh()

    def _key(self, key: str, what: str) -> Any:
        """A key of this tab only (the other tabs of the Dispatch screen use F5, F6 and Escape too)."""
        return shortcut(key, self, what, local=True).activated

    def _connect_signals(self) -> None:
        self.station.entered.connect(self.take)
        self.order.activated.connect(lambda _i: self.choose(str(self.order.currentData() or "")))
        self.slip_btn.clicked.connect(lambda: self.print_doc("slip"))
        self.labels_btn.clicked.connect(lambda: self.print_doc("labels"))
        self._key("F6", "Choose the order to pack").connect(self.order.showPopup)
        self._key("F8", "Print the packing slip").connect(lambda: self.print_doc("slip"))
        self._key("F9", "Print the carton labels").connect(lambda: self.print_doc("labels"))
        self._key("Escape", "Back to the scan field").connect(self.focus_scan)
        # the order list open: the packer is choosing an order
        self.station.keep_focus(self, lambda new: new is self.order or self.order.view().isVisible())
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)

    # --- focus ------------------------------------------------------------------------------------
    def focus_scan(self) -> None:
        self.station.focus()

    # --- lists ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: ship_queries.ready_orders(s), self._on_orders, write=False,
                               label="orders to pack", latest=(id(self), "orders"),
                               on_error=lambda e: self._show(str(e), False))
        if self.shipment:
            self._load(self.shipment)

    def _on_orders(self, rows: list[ship_queries.ReadyOrder]) -> None:
        self.order.blockSignals(True)
        self.order.clear()
        for r in rows:
            extra = f"  packing {r.shipment}" if r.shipment else ""
            self.order.addItem(f"{r.number}  {r.customer[:24]}  {r.units} units{extra}", r.number)
        self.order.blockSignals(False)

    def choose(self, order: str) -> None:
        """Start (or go on) packing ``order``."""
        if not order:
            return
        actor = self.ctx.actor
        self.ctx.runner.submit(lambda s: packing.start(s, actor, order).number, self._on_started, label="start packing",
                               kinds=(Change.SHIPMENT,), on_error=lambda e: self._show(str(e), False))
        self.focus_scan()

    def _on_started(self, number: str) -> None:
        self.shipment = number
        self.qty, self.pending_serial = 1, None
        self._show(f"Packing {number}: scan the items", None)
        self._load(number)

    def _load(self, number: str) -> None:
        self.ctx.runner.submit(lambda s: packing.state(s, number), self._on_state, write=False, label="packing state",
                               latest=(id(self), "state"), on_error=lambda e: self._show(str(e), False))

    def _on_state(self, st: packing.PackState) -> None:
        self.title.setText(f"{st.shipment}  ·  order {st.order}  ·  {st.customer}  ·  {st.carrier}  ·  {st.status}")
        self.suggestion.setText(f"Suggested cartons: {st.suggestion}" if st.suggestion else "")
        self.lines.set_rows(st.lines)
        self.cartons.set_rows(st.cartons)

    # --- scanning -----------------------------------------------------------------------------------
    def take(self, text: str) -> None:
        text = text.strip()
        if not text or self._busy:
            return
        if self.shipment is None:
            self.scan.clear()
            self.choose(text.upper())  # an order number scanned off the pick list
            return
        if text.startswith("*") and text[1:].isdigit() and int(text[1:]) > 0:
            self.qty = int(text[1:])
            self.scan.clear()
            self._show(f"Quantity {self.qty}: scan the item", None)
            return
        number, actor, qty = self.shipment, self.ctx.actor, self.qty
        up = text.upper()
        m = _WEIGHT.match(text)
        fn: Any
        if m:
            grams = packing.scale_reading(m.group(2))
            last = bool(m.group(1))
            fn = lambda s: packing.close_carton(s, actor, number, grams, last=last).message  # noqa: E731
        elif up.startswith("OPEN"):
            box = text[4:].strip() or None
            fn = lambda s: f"carton {packing.open_carton(s, actor, number, box).seq} opened"  # noqa: E731
        elif up.startswith("UNDO "):
            code = text[5:].strip()
            fn = lambda s: packing.unpack(s, actor, number, code, qty=qty).message  # noqa: E731
        elif self.pending_serial is not None:
            item, serial = self.pending_serial, text[3:].strip() if up.startswith("SN:") else text
            fn = lambda s: packing.pack(s, actor, number, item, serial=serial).message  # noqa: E731
        else:
            fn = lambda s: packing.pack(s, actor, number, text, qty=qty).message  # noqa: E731
        self._busy = True
        self._last = text
        self.ctx.runner.submit(fn, self._on_done, label="pack scan", kinds=(Change.PACKING,), on_error=self._on_error)

    def _on_done(self, message: str) -> None:
        self._busy = False
        self.scan.clear()
        self.qty, self.pending_serial = 1, None
        self._show(message, True)
        if self.shipment:
            self._load(self.shipment)
        self.focus_scan()
        self.answered.emit(True, message)

    def _on_error(self, e: BaseException) -> None:
        self._busy = False
        self.scan.clear()
        self.qty = 1
        if isinstance(e, packing.NeedSerial):
            self.pending_serial = self._last
            self.station.show_answer(f"{str(e).split(': ', 1)[-1]}", None, beep=True)
        else:
            self.pending_serial = None
            self._show(str(e), False)
        self.focus_scan()
        self.answered.emit(False, str(e))

    def _show(self, text: str, ok: bool | None) -> None:
        self.station.show_answer(text, ok)

    # --- documents ---------------------------------------------------------------------------------
    def print_doc(self, which: str) -> None:
        if not self.shipment:
            self._show("Choose an order first", False)
            return
        number = self.shipment

        def work(s: Session) -> str:
            pdf = documents.packing_slip_pdf(s, number) if which == "slip" else documents.carton_labels_pdf(s, number)
            path = Path(tempfile.mkdtemp(prefix="depot-pack-")) / f"{number}-{which}.pdf"
            path.write_bytes(pdf)
            return str(path)

        self.ctx.runner.submit(work, self._on_pdf, write=False, label="render PDF",
                               on_error=lambda e: self._show(str(e), False))

    def _on_pdf(self, path: str) -> None:
        self.last_pdf = path
        if self.open_url(QUrl.fromLocalFile(path)):
            self._show(f"opened {Path(path).name}", True)
        else:
            self._show(f"saved {path} (no PDF viewer is set up here)", True)
        self.focus_scan()

    #: how a PDF is handed to the system viewer (tests replace it)
    open_url = staticmethod(QDesktopServices.openUrl)
