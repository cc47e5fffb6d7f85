"""ReceivingScreen (nav "Receiving"): receive by scan, put away by scanning the bin, decide holds.

Tab "Receive": expected receipts of a day and dock; pick one (Enter), then everything is one scan
field: a scanner types a code and Enter — GTIN, SKU, SSCC, GS1-128, lot, serial, quantity keys
(``*12``) — with the answer shown right under the field (green ok, red refused); no dialog per
scan. Scanning runs in memory on the GUI thread (``ReceivingSession`` is pure Python); only
loading the receipt and posting it run as ops. Ctrl+Return posts, Esc drops units waiting for a
lot/serial. Tab "Putaway": open tasks with the proposed bin and why; select a task and scan the
bin. Tab "Quality hold": release (QA -> dock -> putaway) or reject (return to vendor).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import masterdata
from app.services.changes import Change
from app.services.receiving.documents import labels_pdf, putaway_list_pdf, receipt_labels
from app.services.receiving.holds import reject_holds, release_holds
from app.services.receiving.post import PostedReceipt, post_receipt
from app.services.receiving.putaway import TaskRow, confirm_putaway, list_tasks
from app.services.receiving.queries import ExpectedRow, HoldRow, list_expected, list_holds, mark_arrived
from app.services.receiving.session import (
    LineView,
    ReceivingContext,
    ReceivingSession,
    catalogue_codes,
    load_context,
)
from app.views.context import AppContext
from app.views.receiving.models import Col, RowsModel
from app.views.widgets.columns import fit_columns
from app.views.widgets.keys import shortcut
from app.views.widgets.scan import ScanLineEdit

KINDS = frozenset({Change.RECEIPT, Change.STOCK, Change.PO, Change.PUTAWAY})
OK_STYLE = "color: #1e6b30; font-weight: bold;"
BAD_STYLE = "color: #a01818; font-weight: bold;"


def _table(model: RowsModel, name: str) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    v.horizontalHeader().setStretchLastSection(True)
    v.setWordWrap(False)
    fit_columns(v, f"receiving_{name}")
    v.setTextElideMode(Qt.TextElideMode.ElideRight)  # a why reads left to right; its tooltip has it whole
    return v


class ReceivingScreen(QWidget):
    """Signals:
    expected_loaded(int): rows in the expected-receipts list.
    receipt_opened(str): the expected receipt now being scanned.
    scanned(bool, str): the result of one scan (ok, message) — also shown at the field.
    posted(object): the PostedReceipt after a successful post.
    tasks_loaded(int) / holds_loaded(int): rows in the putaway / hold lists.
    """

    expected_loaded = Signal(int)
    receipt_opened = Signal(str)
    scanned = Signal(bool, str)
    posted = Signal(object)
    tasks_loaded = Signal(int)
    holds_loaded = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("receivingScreen")
        self.rs: ReceivingSession | None = None
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_receive(), "&Receive")
        self.tabs.addTab(self._build_putaway(), "&Putaway")
        self.tabs.addTab(self._build_holds(), "&Quality hold")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._connect_signals()
        self.ctx.runner.submit(lambda s: masterdata.warehouses(s, ctx.actor.branch_id), self._on_warehouses, write=False,
                               label="warehouses")
        self.catalogue: dict[str, str] | None = None
        self.load_catalogue()

    # ---- building ------------------------------------------------------------------------
    def _build_receive(self) -> QWidget:
        w = QWidget()
        self.warehouse = QComboBox()
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.any_day = QCheckBox("any day")
        self.any_day.setChecked(True)
        self.dock = QLineEdit()
        self.dock.setPlaceholderText("dock")
        self.dock.setMaximumWidth(80)
        bar = QHBoxLayout()
        for label, wid in (("Warehouse", self.warehouse), ("Date", self.day)):
            bar.addWidget(QLabel(label))
            bar.addWidget(wid)
        bar.addWidget(self.any_day)
        bar.addWidget(self.dock)
        bar.addStretch(1)
        self.expected = RowsModel([
            Col("Expected", lambda r: r.expected_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.expected_at else ""),
            Col("Dock", lambda r: r.dock), Col("Document", lambda r: r.number), Col("Source", lambda r: r.source),
            Col("Supplier", lambda r: r.supplier), Col("Lines", lambda r: r.lines, True),
            Col("Units", lambda r: r.units, True), Col("Status", lambda r: r.status)], self)
        self.expected_view = _table(self.expected, "expectedReceipts")
        self.expected_view.setMaximumHeight(200)
        self.title = QLabel("Choose an expected receipt (Enter)")
        self.title.setObjectName("receiptTitle")
        self.scan = ScanLineEdit(placeholder="Scan: GTIN, SKU, SSCC, GS1-128, lot, serial, *qty")
        self.scan.setObjectName("scanField")
        self.scan.setEnabled(False)
        self.message = QLabel("")
        self.message.setObjectName("scanMessage")
        self.message.setWordWrap(True)
        self.lines = RowsModel([
            Col("SKU", lambda r: r.sku), Col("Description", lambda r: r.description),
            Col("Expected", lambda r: r.expected, True), Col("Before", lambda r: r.previously_received, True),
            Col("Scanned", lambda r: r.scanned, True), Col("Detail", lambda r: r.detail + (" SHORT" if r.short else ""))],
            self, highlight=lambda r: r.previously_received + r.scanned != r.expected)
        self.lines_view = _table(self.lines, "receiptLines")
        self.arrived_btn = QPushButton("Mark &arrived")
        self.drop_btn = QPushButton("&Drop waiting (Esc)")
        self.labels_btn = QPushButton("Receiving &labels PDF")
        self.labels_btn.setEnabled(False)
        self.last_posted: str = ""
        self.post_btn = QPushButton("&Post receipt (Ctrl+Enter)")
        self.post_btn.setEnabled(False)
        btns = QHBoxLayout()
        for b in (self.arrived_btn, self.drop_btn, self.labels_btn):
            btns.addWidget(b)
        btns.addStretch(1)
        btns.addWidget(self.post_btn)
        lay = QVBoxLayout(w)
        lay.addLayout(bar)
        lay.addWidget(self.expected_view)
        lay.addWidget(self.title)
        lay.addWidget(self.scan)
        lay.addWidget(self.message)
        lay.addWidget(self.lines_view, 1)
        lay.addLayout(btns)
        return w

    def _build_putaway(self) -> QWidget:
        w = QWidget()
        self.tasks = RowsModel([
            Col("Receipt", lambda r: r.receipt_number), Col("SKU", lambda r: r.sku), Col("Lot", lambda r: r.lot),
            Col("Qty", lambda r: r.qty, True), Col("From", lambda r: r.from_code),
            Col("To bin", lambda r: r.proposed_code or "(choose)"), Col("Why", lambda r: r.reason)], self,
            highlight=lambda r: not r.proposed_code)
        self.tasks_view = _table(self.tasks, "putawayTasks")
        self.bin_scan = ScanLineEdit(placeholder="Select a task, then scan the bin")
        self.bin_scan.setObjectName("binScan")
        self.bin_message = QLabel("")
        self.bin_message.setObjectName("binMessage")
        self.pdf_btn = QPushButton("Putaway list P&DF")
        lay = QVBoxLayout(w)
        lay.addWidget(self.tasks_view, 1)
        lay.addWidget(self.bin_scan)
        lay.addWidget(self.bin_message)
        lay.addWidget(self.pdf_btn, 0, Qt.AlignmentFlag.AlignRight)
        return w

    def _build_holds(self) -> QWidget:
        w = QWidget()
        self.holds = RowsModel([
            Col("Receipt", lambda r: r.receipt_number), Col("SKU", lambda r: r.sku), Col("Lot", lambda r: r.lot),
            Col("Qty", lambda r: r.qty, True), Col("Reason", lambda r: r.reason)], self)
        self.holds_view = _table(self.holds, "qualityHolds")
        self.reject_note = QLineEdit()
        self.reject_note.setPlaceholderText("why rejected (required to reject)")
        self.release_btn = QPushButton("Re&lease to putaway")
        self.reject_btn = QPushButton("Re&ject: return to vendor")
        self.hold_message = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.release_btn)
        row.addWidget(self.reject_note, 1)
        row.addWidget(self.reject_btn)
        lay = QVBoxLayout(w)
        lay.addWidget(self.holds_view, 1)
        lay.addLayout(row)
        lay.addWidget(self.hold_message)
        return w

    def _connect_signals(self) -> None:
        self.warehouse.currentIndexChanged.connect(lambda _i: self.refresh())
        self.day.dateChanged.connect(lambda _d: self.refresh_expected())
        self.any_day.toggled.connect(lambda _b: self.refresh_expected())
        self.dock.editingFinished.connect(self.refresh_expected)
        self.expected_view.activated.connect(lambda idx: self.open_receipt(self.expected.row(idx.row())))
        self.scan.scanned.connect(self.apply_scan)
        self.post_btn.clicked.connect(self.post)
        self.drop_btn.clicked.connect(self.drop_pending)
        self.arrived_btn.clicked.connect(self.mark_arrived)
        self.bin_scan.scanned.connect(self.confirm_bin)
        self.pdf_btn.clicked.connect(self._ask_pdf)
        self.labels_btn.clicked.connect(self._ask_labels)
        self.release_btn.clicked.connect(self.release_selected)
        self.reject_btn.clicked.connect(self.reject_selected)
        shortcut("Ctrl+Return", self, "Post the receipt", self.post)
        self.scan.installEventFilter(self)  # Esc in the scan field drops units waiting for a lot/serial
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self.scan and event.type() == QEvent.Type.KeyPress and \
                isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            self.drop_pending()
            return True
        return super().eventFilter(obj, event)

    # ---- lists ---------------------------------------------------------------------------
    def warehouse_id(self) -> uuid.UUID | None:
        data = self.warehouse.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def _on_warehouses(self, rows: list[masterdata.WarehouseRef]) -> None:
        self.warehouse.blockSignals(True)
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.id)
        self.warehouse.blockSignals(False)
        self.refresh()

    def load_catalogue(self) -> None:
        """Every SKU/GTIN -> SKU, read in the background (names items that are not on the receipt)."""
        def done(codes: dict[str, str]) -> None:
            self.catalogue = codes

        self.ctx.runner.submit(catalogue_codes, done, write=False, label="item codes", latest=(id(self), "codes"))

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if kinds & KINDS:
            self.refresh()
        if Change.ITEM in kinds:
            self.load_catalogue()

    def refresh(self) -> None:
        self.refresh_expected()
        self.refresh_tasks()
        self.refresh_holds()

    def refresh_expected(self) -> None:
        wid = self.warehouse_id()
        day = None if self.any_day.isChecked() else self.day.date().toPython()
        dock = self.dock.text().strip()

        def fetch(s: Session) -> list[ExpectedRow]:
            return list_expected(s, warehouse_id=wid, day=day, dock=dock)  # type: ignore[arg-type]

        self.ctx.runner.submit(fetch, self._on_expected, write=False, label="expected receipts",
                               latest=(id(self), "expected"))

    def _on_expected(self, rows: list[ExpectedRow]) -> None:
        self.expected.set_rows(rows)
        self.expected_loaded.emit(len(rows))

    def refresh_tasks(self) -> None:
        wid = self.warehouse_id()
        if wid is None:
            return
        self.ctx.runner.submit(lambda s: list_tasks(s, wid), self._on_tasks, write=False, label="putaway tasks",
                               latest=(id(self), "tasks"))

    def _on_tasks(self, rows: list[TaskRow]) -> None:
        self.tasks.set_rows(rows)
        self.tasks_loaded.emit(len(rows))

    def refresh_holds(self) -> None:
        wid = self.warehouse_id()
        self.ctx.runner.submit(lambda s: list_holds(s, wid), self._on_holds, write=False, label="quality holds",
                               latest=(id(self), "holds"))

    def _on_holds(self, rows: list[HoldRow]) -> None:
        self.holds.set_rows(rows)
        self.holds_loaded.emit(len(rows))

    # ---- receiving -----------------------------------------------------------------------
    def open_receipt(self, row: ExpectedRow) -> None:
        # The background catalogue read may not have finished yet (a receipt opened straight after
        # the screen): then this op reads it itself, so "that is an item code" never depends on timing.
        known = self.catalogue

        def fetch(s: Session) -> ReceivingContext:
            return load_context(s, row.id, catalogue=known if known is not None else catalogue_codes(s))

        self.ctx.runner.submit(fetch, self._on_context, write=False, label=f"open {row.number}",
                               latest=(id(self), "open"))  # opening B after A: A must not land last

    def _on_context(self, rc: ReceivingContext) -> None:
        self.rs = ReceivingSession(rc)
        self.title.setText(f"{rc.number}  supplier {rc.supplier_code or '-'}  status {rc.status}")
        self.scan.setEnabled(True)
        self.post_btn.setEnabled(self.ctx.can("receipt.post"))
        self._show(True, "scan the first item" if rc.status not in ("received", "closed") else f"{rc.number} is {rc.status}")
        self._refresh_lines()
        self.scan.setFocus()
        self.receipt_opened.emit(rc.number)

    def _show(self, ok: bool, text: str, label: QLabel | None = None) -> None:
        lab = label or self.message
        lab.setText(text)
        lab.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    def _refresh_lines(self) -> None:
        rows: list[LineView] = self.rs.view() if self.rs else []
        self.lines.set_rows(rows)

    def apply_scan(self, code: str) -> None:
        if self.rs is None:
            self._show(False, "choose an expected receipt first")
            return
        r = self.rs.scan(code)
        self._show(r.ok, r.message)
        self._refresh_lines()
        self.scan.clear()
        self.scanned.emit(r.ok, r.message)

    def drop_pending(self) -> None:
        if self.rs is not None:
            self._show(True, self.rs.cancel_pending())
            self._refresh_lines()

    def mark_arrived(self) -> None:
        if self.rs is None:
            return
        rid, actor = self.rs.ctx.receipt_id, self.ctx.actor
        self.ctx.runner.submit(lambda s: mark_arrived(s, actor, rid), lambda _r: self._show(True, "arrival recorded"),
                               on_error=lambda e: self._show(False, str(e)), kinds={Change.RECEIPT}, label="arrived")

    def post(self) -> None:
        if self.rs is None:
            return
        rs, actor = self.rs, self.ctx.actor
        try:
            lines = rs.post_lines()
        except Exception as e:  # noqa: BLE001 - a DomainError text for the scan field
            self._show(False, str(e))
            return
        self.post_btn.setEnabled(False)

        def op(s: Session) -> PostedReceipt:
            return post_receipt(s, actor, rs.ctx.receipt_id, lines, shortages=rs.shortages, arrived_at=rs.started_at)

        self.ctx.runner.submit(op, self._on_posted, on_error=self._on_post_error, kinds=KINDS, label="post receipt")

    def _on_posted(self, p: PostedReceipt) -> None:
        extra = f", {p.held_units} to quality hold" if p.held_units else ""
        extra += f"; released orders {', '.join(p.released_orders)}" if p.released_orders else ""
        # what happens elsewhere or later: the PO owner's update, the remainder still owed
        extra += "".join(f"; {n}" for n in p.notes if "quality hold" not in n)
        self._show(True, f"posted {p.number}: {p.units} unit(s) on {p.lines} line(s), "
                         f"{len(p.putaway_task_ids)} putaway task(s){extra}")
        if self.rs is not None:  # the header said "status expected": say what it is now
            rc = self.rs.ctx
            self.title.setText(f"{rc.number}  supplier {rc.supplier_code or '-'}  status received as {p.number}")
        self.rs = None
        self.last_posted = p.number
        self.ctx.signals.message.emit(f"posted {p.number}: {p.units} unit(s), {len(p.putaway_task_ids)} putaway task(s)")
        self.labels_btn.setEnabled(True)
        self.scan.setEnabled(False)
        self.lines.set_rows([])
        self.posted.emit(p)

    def _on_post_error(self, e: BaseException) -> None:
        self.post_btn.setEnabled(True)
        self._show(False, str(e))

    # ---- putaway ---------------------------------------------------------------------------
    def selected_task(self) -> TaskRow | None:
        idx = self.tasks_view.selectionModel().selectedRows()
        return self.tasks.row(idx[0].row()) if idx else None

    def confirm_bin(self, code: str) -> None:
        task = self.selected_task()
        self.bin_scan.clear()
        if task is None:
            self._show(False, "select a task first, then scan the bin", self.bin_message)
            return
        actor = self.ctx.actor

        def op(s: Session) -> None:
            confirm_putaway(s, actor, [(task.task_id, code)])

        self.ctx.runner.submit(
            op,
            lambda _r: self._show(True, f"{task.qty} x {task.sku} put away in {code.upper()}", self.bin_message),
            on_error=lambda e: self._show(False, str(e), self.bin_message), kinds={Change.PUTAWAY, Change.STOCK, Change.RECEIPT},
            label="confirm putaway")

    def export_putaway_pdf(self, path: Path) -> None:
        wid = self.warehouse.currentText()

        def op(s: Session) -> int:
            data = putaway_list_pdf(s, wid)
            path.write_bytes(data)
            return len(data)

        self.ctx.runner.submit(op, lambda n: self._show(True, f"wrote {path} ({n:,} bytes)", self.bin_message),
                               write=False, label="putaway list")

    def _ask_pdf(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getSaveFileName(self, "Putaway list", f"putaway-{dt.date.today()}.pdf", "PDF (*.pdf)")
        if name:
            self.export_putaway_pdf(Path(name))

    def export_receipt_labels(self, number: str, path: Path) -> None:
        def op(s: Session) -> int:
            labels = receipt_labels(s, number)
            path.write_bytes(labels_pdf(labels, f"Receiving labels {number}"))
            return len(labels)

        self.ctx.runner.submit(op, lambda n: self._show(True, f"wrote {n} label(s) to {path}"),
                               on_error=lambda e: self._show(False, str(e)), write=False, label="receiving labels")

    def _ask_labels(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        if not self.last_posted:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Receiving labels", f"{self.last_posted}-labels.pdf", "PDF (*.pdf)")
        if name:
            self.export_receipt_labels(self.last_posted, Path(name))

    # ---- holds ---------------------------------------------------------------------------
    def _selected_holds(self) -> list[uuid.UUID]:
        return [self.holds.row(i.row()).id for i in self.holds_view.selectionModel().selectedRows()]

    def release_selected(self) -> None:
        ids, actor = self._selected_holds(), self.ctx.actor
        self._decide(lambda s: release_holds(s, actor, ids), "released to putaway")

    def reject_selected(self) -> None:
        ids, actor, note = self._selected_holds(), self.ctx.actor, self.reject_note.text()
        self._decide(lambda s: reject_holds(s, actor, ids, note=note), "returned to vendor")

    def _decide(self, fn: Any, what: str) -> None:
        self.ctx.runner.submit(fn, lambda _r: self._show(True, what, self.hold_message),
                               on_error=lambda e: self._show(False, str(e), self.hold_message),
                               kinds={Change.STOCK, Change.PUTAWAY, Change.RECEIPT}, label=what)
