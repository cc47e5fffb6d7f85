"""PrintCentreScreen: the clerk's one queue of every printable document (POs, invoices, credit notes,
statements, and whatever other areas register), with preview, print, save as PDF, e-mail and bulk.

The queue and every action are service calls on the op runner: the queue is a read op
(``printing.queue``); preview renders on a reader (``printing.render``, then pdfium to images);
print and save are write ops that render, record and output in one transaction (a printer that
fails rolls the record back); e-mail queues the PDF in the outbox (``billing.printables.mail_document``);
bulk runs ``print_batch.run`` on the I/O pool with progress, cancel and resume. The printer, tray
and copies are remembered per document type (this workstation's).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import print_batch, printing, wiring
from app.services.billing.printables import mail_document
from app.services.changes import Change
from app.services.db import session_scope
from app.services.printing import QueueEntry
from app.views.context import AppContext
from app.views.printcentre.dialogs import PrintDialog
from app.views.printcentre.preview import PreviewPane, render_pages
from app.views.printcentre.printer import FILE_PREFIX, make_printer, print_pdf, printer_sink
from app.views.widgets.columns import fit_columns, header_min_width
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut

REFRESH_KINDS = frozenset({Change.INVOICE, Change.PO, Change.PRINT, Change.CUSTOMER})
#: the queue shows at most this many documents (newest first)
QUEUE_LIMIT = 500
HEADERS = ("Date", "Type", "Number", "Customer / supplier", "Status", "Amount", "Last output")
#: the statuses the filter offers (any kind's documents may carry others: typed in, they work too)
STATUSES = ("pending_approval", "approved", "sent", "released", "open", "overdue", "cancelled")
#: a queue column grows to at most this (a long name is elided in the middle), so every column
#: fits beside the preview on a 1366 px screen
QUEUE_MAX_WIDTH = 140


def status_text(status: str) -> str:
    """A status as the clerk reads it: 'pending_approval' -> 'pending approval'."""
    return status.replace("_", " ")


class QueueModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[QueueEntry] = []

    def set_rows(self, rows: list[QueueEntry]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        e = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (e.row.date.isoformat(), e.label, e.row.ref, e.row.party, status_text(e.row.status),
                    e.row.amount, e.last or "not printed")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (3, 6):  # elided in the column
            return (e.row.party, e.last)[index.column() == 6] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class _ElideRight(QStyledItemDelegate):
    """Names and notes cut at their end ('SUP0001 Pioneer Indus…'), not in the middle like codes."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight


class _BatchSignals(QObject):
    """Progress of a bulk run, emitted on the I/O thread, delivered on the GUI thread."""

    progressed = Signal(int, int, str)


class PrintCentreScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("PrintCentreScreen")
        wiring.load()  # the areas register their printable documents when loaded
        self.kind = QComboBox()
        self.kind.addItem("All documents", "")
        for p in printing.kinds():
            if p.queue is not None:
                self.kind.addItem(p.label, p.doc_type)
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30))
        self.until = QDateEdit(today)
        for d in (self.since, self.until):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        self.status = QComboBox()
        self.status.setEditable(True)
        for s in ("", *STATUSES):
            self.status.addItem(status_text(s) if s else "any status", s)
        self.count = QLabel("")
        self.refresh_button = QPushButton("Refresh")
        self.model = QueueModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setHighlightSections(False)  # a bold title would outgrow its column
        fit_columns(self.table, "printcentre.queue", max_width=QUEUE_MAX_WIDTH)
        self._elide_right = _ElideRight(self.table)
        for col in (3, 6):
            self.table.setItemDelegateForColumn(col, self._elide_right)
        self.preview = PreviewPane()
        self.preview_button = QPushButton("Preview")
        self.print_button = QPushButton("Print…")
        self.save_button = QPushButton("Save as PDF…")
        self.mail_button = QPushButton("E-mail…")
        self.bulk_button = QPushButton("Print all shown…")
        self.cancel_button = QPushButton("Cancel batch")
        self.resume_button = QPushButton("Resume batch")
        for b, keys in ((self.preview_button, "Return"), (self.print_button, "Ctrl+P"), (self.save_button, "Ctrl+S"),
                        (self.mail_button, "Ctrl+E"), (self.bulk_button, "Ctrl+Shift+P")):
            b.setToolTip(keys)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("PrintCentreMessage")
        self.history = QTableView()
        self.history_model = _HistoryModel(self)
        self.history.setModel(self.history_model)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.verticalHeader().setVisible(False)
        self._batch_id: Any = None
        self._batch_handle: Any = None
        self._batch_signals = _BatchSignals()
        self._build()
        self._connect_signals()
        self._update_buttons()
        self.reload()
        self.ctx.runner.submit(print_batch.unfinished, self._offer_resume, write=False, label="unfinished print batch",
                               on_error=lambda e: self.message.setText(str(e)))

    def _offer_resume(self, left: print_batch.Unfinished | None) -> None:
        """A batch left unfinished (cancelled, failed, or the window closed mid-run): Resume carries on."""
        if left is None or self._batch_handle is not None:
            return
        self._batch_id = left.batch_id
        self.message.setText(f"an unfinished batch of {left.total} {left.doc_type} documents to {left.target}: "
                             f"{left.total - left.left} printed, {left.left} left ({left.state}"
                             + (f": {left.message}" if left.message else "") + "); Resume batch carries on")
        self._update_buttons()

    def _build(self) -> None:
        filters = FlowRow()  # wraps on a narrow window (1,024 px)
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.kind)
        filters.addWidget(QLabel("from"))
        filters.addWidget(self.since)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.until)
        filters.addWidget(self.status)
        filters.addStretch(1)
        filters.addWidget(self.count)
        filters.addWidget(self.refresh_button)
        actions = FlowRow()
        for b in (self.preview_button, self.print_button, self.save_button, self.mail_button):
            actions.addWidget(b)
        actions.addStretch(1)
        for b in (self.bulk_button, self.cancel_button, self.resume_button):
            actions.addWidget(b)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 1)
        split.setSizes([850, 330])  # the queue's columns whole on a 1366 px screen; pages fit the rest
        self.split = split
        queue_tab = QWidget()
        qv = QVBoxLayout(queue_tab)
        qv.addLayout(filters)
        qv.addWidget(split, 1)
        qv.addLayout(actions)
        qv.addWidget(self.progress)
        self.tabs = QTabWidget()
        self.tabs.addTab(queue_tab, "Queue")
        self.tabs.addTab(self.history, "Printed (who, when)")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)

    def _connect_signals(self) -> None:
        for combo in (self.kind, self.status):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.since.dateChanged.connect(lambda _d: self.reload())
        self.until.dateChanged.connect(lambda _d: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.preview_button.clicked.connect(self.preview_selected)
        self.print_button.clicked.connect(self.print_selected)
        self.save_button.clicked.connect(self.save_selected)
        self.mail_button.clicked.connect(self.mail_selected)
        self.bulk_button.clicked.connect(self.print_all)
        self.cancel_button.clicked.connect(self.cancel_batch)
        self.resume_button.clicked.connect(self.resume_batch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.table.doubleClicked.connect(lambda _i: self.preview_selected())
        self.split.splitterMoved.connect(lambda _pos, _i: self._squeeze_last_column())
        self.table.viewport().installEventFilter(self)
        self.tabs.currentChanged.connect(lambda i: self.reload_history() if i == 1 else None)
        self._batch_signals.progressed.connect(self._on_batch_progress)
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        shortcut("Ctrl+P", self, "Print the selected document", self.print_selected)
        shortcut("Ctrl+S", self, "Save the selected document as PDF", self.save_selected)
        shortcut("Ctrl+E", self, "E-mail the selected document", self.mail_selected)
        shortcut("Ctrl+Shift+P", self, "Print every document listed", self.print_all)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._squeeze_last_column()
        return False

    # -- data --------------------------------------------------------------------------
    def _filters(self) -> dict[str, Any]:
        kind = self.kind.currentData()
        status = (self.status.currentData() if self.status.currentText() == self.status.itemText(
            self.status.currentIndex()) else self.status.currentText()) or ""
        return {"doc_types": [kind] if kind else None, "since": self.since.date().toPython(),
                "until": self.until.date().toPython(), "status": status.strip().replace(" ", "_") or None}

    def refresh(self) -> None:
        """F5 (the window's Refresh: a key of its own here would make it ambiguous, and neither fire)."""
        self.reload()

    def reload(self) -> None:
        f = self._filters()
        self.ctx.runner.submit(lambda s: printing.queue(s, limit=QUEUE_LIMIT, **f), self._on_rows, write=False, latest="printcentre.queue",
                               on_error=lambda e: self.message.setText(str(e)), label="print queue")

    def _on_rows(self, rows: list[QueueEntry]) -> None:
        keep = {(e.row.doc_type, e.row.ref) for e in self.selected()}
        self.model.set_rows(rows)
        sel = self.table.selectionModel()
        for i, e in enumerate(rows):  # a reload after printing keeps what the clerk had selected
            if (e.row.doc_type, e.row.ref) in keep:
                sel.select(self.model.index(i, 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
        if len(rows) >= QUEUE_LIMIT:  # never a silent cut: say more exist and how to see them
            self.count.setText(f"newest {QUEUE_LIMIT} shown")
            self.count.setToolTip(f"the newest {QUEUE_LIMIT} documents: more exist, narrow the type or the dates")
        else:
            self.count.setText(f"{len(rows)} document{'s' if len(rows) != 1 else ''}")
            self.count.setToolTip("")
        self._squeeze_last_column()
        self._update_buttons()

    def _squeeze_last_column(self) -> None:
        """'Last output' takes what the other columns leave (its long text elided, whole in the
        tooltip), so the queue never scrolls sideways; never narrower than its title."""
        header = self.table.horizontalHeader()
        last = header.count() - 1
        bar = self.table.verticalScrollBar()  # not shown yet when the rows have just come: leave it room
        spare = 0 if bar.isVisible() else self.table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        room = self.table.viewport().width() - spare - sum(header.sectionSize(c) for c in range(last))
        want = max(room, header_min_width(self.table, last))
        if header.sectionSize(last) > want:
            header.resizeSection(last, want)

    def reload_history(self) -> None:
        self.ctx.runner.submit(lambda s: printing.history(s, limit=300), self._on_history, write=False,
                               on_error=lambda e: self.message.setText(str(e)), label="print history")

    def _on_history(self, rows: list[Any]) -> None:
        self.history_model.set_rows(rows)
        self.history.resizeColumnsToContents()

    def _on_data_changed(self, kinds: object) -> None:
        if isinstance(kinds, frozenset | set) and kinds & REFRESH_KINDS:
            self.reload()
            if self.tabs.currentIndex() == 1:
                self.reload_history()

    def selected(self) -> list[QueueEntry]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r] for r in rows if r < len(self.model.rows)]

    def _on_selection(self) -> None:
        self._update_buttons()
        if len(self.selected()) == 1:
            self.preview_selected()

    def _update_buttons(self) -> None:
        one = len(self.selected()) == 1
        may = self.ctx.can("print.documents")
        for b in (self.preview_button, self.save_button, self.print_button, self.mail_button):
            b.setEnabled(one and may)
        running = self._batch_handle is not None
        self.bulk_button.setEnabled(may and bool(self.model.rows) and not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self._batch_id is not None)
        if not may:
            self.message.setText(f"{self.ctx.actor.username} may look at the queue but not print")

    # -- one document --------------------------------------------------------------------
    def preview_selected(self) -> None:
        sel = self.selected()
        if len(sel) != 1:
            return
        e = sel[0]
        self.preview.show_message(f"Rendering {e.row.ref}…")

        def work(s: Session) -> tuple[str, list[Any]]:
            out = printing.render(s, e.row.doc_type, e.row.ref)
            return out.name, render_pages(out.pdf)
        self.ctx.runner.submit(work, lambda r: self.preview.show_pages(r[0], r[1]), write=False,
                               latest="printcentre.preview", label=f"preview {e.row.ref}",
                               on_error=lambda err: self.preview.show_message(str(err)))

    def print_selected(self) -> None:
        sel = self.selected()
        if len(sel) != 1:
            return
        e = sel[0]
        doc_type, ref, actor = e.row.doc_type, e.row.ref, self.ctx.actor
        pref = _read(self.ctx, lambda s: printing.preference(s, doc_type))
        dlg = PrintDialog.ask(self, f"Print {ref}", pref)
        if dlg is None:
            return

        def work(s: Session) -> str:
            printer = make_printer(dlg.printer, tray=dlg.tray, copies=dlg.copies)  # a missing printer: refused first
            out = printing.produce(s, actor, doc_type, ref, channel="printer", target=dlg.printer, copies=dlg.copies)
            pages = print_pdf(printer, out.pdf, out.name)  # fails -> raises -> the record is rolled back
            printing.remember(s, doc_type, dlg)
            return f"{ref}: {pages} page{'s' if pages != 1 else ''} x {dlg.copies} to {dlg.printer}" + \
                (" (COPY)" if out.reprint else "")
        self.ctx.runner.submit(work, self.message.setText, on_error=lambda err: self.message.setText(str(err)),
                               kinds={Change.PRINT}, label=f"print {ref}")

    def save_selected(self) -> None:
        sel = self.selected()
        if len(sel) != 1:
            return
        e = sel[0]
        path, _f = QFileDialog.getSaveFileName(self, f"Save {e.row.ref} as PDF", f"{e.row.ref}.pdf", "PDF (*.pdf)")
        if path:
            self.save_to(e, Path(path))

    def save_to(self, e: QueueEntry, path: Path) -> None:
        doc_type, ref, actor = e.row.doc_type, e.row.ref, self.ctx.actor

        def work(s: Session) -> str:
            out = printing.produce(s, actor, doc_type, ref, channel="pdf", target=str(path))
            sink = print_batch.folder_sink(path.parent)
            sink(path.name, out.pdf, 1)
            return f"{ref} saved to {path}" + (" (COPY)" if out.reprint else "")
        self.ctx.runner.submit(work, self.message.setText, on_error=lambda err: self.message.setText(str(err)),
                               kinds={Change.PRINT}, label=f"save {ref}")

    def mail_selected(self, to: str | None = None) -> None:
        sel = self.selected()
        if len(sel) != 1:
            return
        e = sel[0]
        if to is None:
            text, ok = QInputDialog.getText(self, f"E-mail {e.row.ref}", "To (empty: the customer's invoice address):")
            if not ok:
                return
            to = text
        actor, address = self.ctx.actor, to.strip()
        self.ctx.runner.submit(
            lambda s: mail_document(s, actor, e.row.doc_type, e.row.ref, to=address).to_addr,
            lambda addr: self.message.setText(f"{e.row.ref} queued for {addr} (sent with the outbox)"),
            on_error=lambda err: self.message.setText(str(err)), kinds={Change.MAIL, Change.PRINT},
            label=f"e-mail {e.row.ref}")

    # -- bulk ---------------------------------------------------------------------------
    def print_all(self, target: str | None = None) -> None:
        rows = [e for e in self.model.rows if e.row.status != "cancelled"]
        types = {e.row.doc_type for e in rows}
        if not rows:
            return
        if len(types) != 1:
            self.message.setText("choose one document type to print in bulk (Show: Invoices, ...)")
            return
        (doc_type,) = types
        if target is None:
            pref = _read(self.ctx, lambda s: printing.preference(s, doc_type))
            dlg = PrintDialog.ask(self, f"Print {len(rows)} documents", pref)
            if dlg is None:
                return
            target, copies = dlg.printer, dlg.copies
        else:
            copies = 1
        refs = [e.row.ref for e in reversed(rows)]
        actor = self.ctx.actor
        channel = "pdf" if target.startswith(FILE_PREFIX) and target.endswith("/") else "printer"
        self.ctx.runner.submit(
            lambda s: print_batch.start(s, actor, doc_type, refs, channel=channel, target=target, copies=copies).id,
            self._run_batch, on_error=lambda err: self.message.setText(str(err)), kinds={Change.PRINT},
            label="start print batch")

    def _run_batch(self, batch_id: Any) -> None:
        self._batch_id = batch_id
        engine, actor, signals = self.ctx.engine, self.ctx.actor, self._batch_signals
        target = _read(self.ctx, lambda s: print_batch.get(s, batch_id).target)
        holder: dict[str, Any] = {}

        def work() -> print_batch.BatchReport:
            if target.startswith(FILE_PREFIX) and target.endswith("/"):
                sink = print_batch.folder_sink(target[len(FILE_PREFIX):])
            else:
                sink = printer_sink(target)
            return print_batch.run(engine, actor, batch_id, sink, progress=signals.progressed.emit,
                                   cancelled=lambda: bool(holder.get("handle") and holder["handle"].cancelled))
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self._batch_handle = self.ctx.runner.submit_io(work, self._on_batch_done, kinds={Change.PRINT},
                                                       on_error=self._on_batch_error, label="print batch")
        holder["handle"] = self._batch_handle
        self._update_buttons()

    def _on_batch_progress(self, done: int, total: int, ref: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total}" + (f" — {ref}" if ref else ""))

    def _on_batch_done(self, report: print_batch.BatchReport) -> None:
        self._batch_handle = None
        self.message.setText(f"printed {report.done} of {report.total} ({report.state})"
                             + (f": {report.message}; Resume batch carries on" if report.state != "done" else ""))
        if report.state == "done":
            self._batch_id = None
        self._update_buttons()

    def _on_batch_error(self, err: BaseException) -> None:
        self._batch_handle = None
        self.message.setText(str(err))
        self._update_buttons()

    def cancel_batch(self) -> None:
        if self._batch_handle is not None:
            self._batch_handle.cancel()
            self.message.setText("cancelling after the document being printed…")

    def resume_batch(self) -> None:
        if self._batch_id is not None and self._batch_handle is None:
            self._run_batch(self._batch_id)


def _read(ctx: AppContext, fn: Any) -> Any:
    """A small read on the GUI thread (a preference row, one batch row): well under 100 ms."""
    with session_scope(ctx.engine, write=False) as s:
        return fn(s)


class _HistoryModel(QAbstractTableModel):
    HEAD = ("When", "Type", "Number", "How", "Where", "Copies", "Pages", "COPY", "Who")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEAD)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.HEAD):
            return self.HEAD[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        local = r.created_at.astimezone() if isinstance(r.created_at, dt.datetime) else r.created_at
        return (f"{local:%Y-%m-%d %H:%M}", r.doc_type, r.doc_ref, r.channel, r.target, r.copies, r.pages,
                "COPY" if r.reprint else "", r.username)[index.column()]
