"""Manifest tab: the day's confirmed shipments per carrier and the end-of-day manifests.

Pick the day (today by default) and a carrier: the confirmed shipments not on a manifest yet are
listed; **Build manifest** (F5) puts them on the carrier's open manifest, **Close** (the truck has
left), **PDF** and **CSV** write the manifest and open it (PDF) or say where it went.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDateEdit,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.dispatch import documents, manifest, ship_queries
from app.views.allocation.common import table
from app.views.context import AppContext
from app.views.ops import OpHandle, Progress
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

KINDS = frozenset({Change.SHIPMENT})
OK_CSS = "background: #1e7b34; color: white; padding: 10px; border-radius: 6px;"
BAD_CSS = "background: #b3261e; color: white; padding: 10px; border-radius: 6px;"
IDLE_CSS = "background: #e8eef4; color: #1f2d3d; padding: 10px; border-radius: 6px;"

MANIFEST_COLUMNS = [
    Column("Manifest", "number"), Column("Carrier", "carrier"), Column("Warehouse", "warehouse"),
    Column("Date", get=lambda m: m.ship_date.isoformat()), Column("Shipments", "shipments", align_right=True),
    Column("Cartons", "cartons", align_right=True), Column("Weight", get=lambda m: f"{m.weight_g / 1000:.1f} kg",
                                                           align_right=True),
    Column("Status", "status"),
]
CONFIRMED_COLUMNS = [
    Column("Shipment", "number"), Column("Order", "order"), Column("Customer", "customer"), Column("Carrier", "carrier"),
    Column("Service", "service"), Column("Tracking", "tracking"), Column("Cartons", "cartons", align_right=True),
    Column("Billed", get=lambda r: "" if r.billed is None else f"{r.billed:.2f}", align_right=True),
]


class ManifestTab(QWidget):
    """Signals:
    done(bool, str): an action's outcome after it is shown.
    """

    done = Signal(bool, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.last_file = ""
        self.day = QDateEdit()
        self.day.setObjectName("manifestDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setDate(QDate.currentDate())
        self.carrier = QComboBox()
        self.carrier.setObjectName("manifestCarrier")
        self.carrier.setMinimumWidth(220)
        self.build_btn = QPushButton("Build manifest (F5)")
        self.close_btn = QPushButton("Close manifest")
        self.pdf_btn = QPushButton("PDF")
        self.csv_btn = QPushButton("CSV")
        self.slips_btn = QPushButton("Packing slips of the day (F8)")
        self.cancel_btn = QPushButton("Cancel printing")
        self.cancel_btn.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("slipsProgress")
        self.progress.setVisible(False)
        self._print: OpHandle | None = None
        self.last_run: documents.BulkResult | None = None
        self.manifests = RowsModel(MANIFEST_COLUMNS, self, highlight=lambda m: m.status == "open")
        self.manifests_view = table(self.manifests, "manifestList")
        self.confirmed = RowsModel(CONFIRMED_COLUMNS, self)
        self.confirmed_view = table(self.confirmed, "manifestShipments")
        self.feedback = QLabel("")
        self.feedback.setObjectName("manifestFeedback")
        self.feedback.setWordWrap(True)
        f = QFont()
        f.setPointSize(12)
        f.setBold(True)
        self.feedback.setFont(f)
        self.feedback.setStyleSheet(IDLE_CSS)
        top = FlowRow()  # wraps on a narrow window (1,024 px)
        top.addWidget(QLabel("Day:"))
        top.addWidget(self.day)
        top.addWidget(QLabel("Carrier:"))
        top.addWidget(self.carrier)
        top.addWidget(self.build_btn)
        top.addStretch(1)
        for b in (self.close_btn, self.pdf_btn, self.csv_btn):
            top.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(QLabel("Manifests of the day:"))
        lay.addWidget(self.manifests_view, 1)
        lay.addWidget(QLabel("Shipments confirmed that day (not on a manifest yet are what Build adds):"))
        lay.addWidget(self.confirmed_view, 2)
        bottom = FlowRow()
        bottom.addWidget(self.slips_btn)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.cancel_btn)
        bottom.addStretch(0)
        lay.addLayout(bottom)
        lay.addWidget(self.feedback)
        if not ctx.can("dispatch.ship"):
            for b in (self.build_btn, self.close_btn):
                b.setEnabled(False)
        self._connect_signals()
        self.ctx.runner.submit(ship_queries.carriers, self._on_carriers, write=False, label="carriers")
        self.refresh()

    def _key(self, key: str, what: str) -> Any:
        """A key of this tab only (the other tabs of the Dispatch screen use F5, F6 and Escape too)."""
        return shortcut(key, self, what, local=True).activated

    def _connect_signals(self) -> None:
        self.day.dateChanged.connect(lambda _d: self.refresh())
        self.carrier.activated.connect(lambda _i: self.refresh())
        self.build_btn.clicked.connect(self.build)
        self.close_btn.clicked.connect(self.close_selected)
        self.pdf_btn.clicked.connect(lambda: self.write("pdf"))
        self.csv_btn.clicked.connect(lambda: self.write("csv"))
        self._key("F8", "Write the day's packing slips to a folder").connect(self.print_slips)
        self.slips_btn.clicked.connect(self.print_slips)
        self.cancel_btn.clicked.connect(self.cancel_print)
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)

    def _on_carriers(self, rows: list[tuple[str, str]]) -> None:
        self.carrier.clear()
        for code, name in rows:
            self.carrier.addItem(name, code)

    def selected_day(self) -> dt.date:
        d = self.day.date()
        return dt.date(d.year(), d.month(), d.day())

    def refresh(self) -> None:
        day = self.selected_day()
        self.ctx.runner.submit(lambda s: manifest.listing(s, day=day), self.manifests.set_rows, write=False,
                               label="manifests", latest=(id(self), "manifests"), on_error=self._on_error)
        branch = self.ctx.actor.branch_id
        self.ctx.runner.submit(lambda s: ship_queries.shipments(s, statuses=_CONFIRMED, day=day, branch_id=branch),
                               self.confirmed.set_rows,
                               write=False, label="confirmed shipments", latest=(id(self), "confirmed"),
                               on_error=self._on_error)

    def build(self) -> None:
        code, day, actor = self.carrier.currentData(), self.selected_day(), self.ctx.actor
        if not code:
            self._show("Choose a carrier", False)
            return
        self.ctx.runner.submit(lambda s: manifest.build(s, actor, str(code), day=day).sentence(), self._ok,
                               on_error=self._on_error, kinds=(Change.SHIPMENT,), label="build manifest")

    def _selected(self) -> str | None:
        idx = self.manifests_view.currentIndex()
        if not idx.isValid():
            self._show("Choose a manifest in the list first", False)
            return None
        return str(self.manifests.row(idx.row()).number)

    def close_selected(self) -> None:
        number, actor = self._selected(), self.ctx.actor
        if number is None:
            return
        self.ctx.runner.submit(lambda s: manifest.close(s, actor, number).sentence(), self._ok,
                               on_error=self._on_error, kinds=(Change.SHIPMENT,), label="close manifest")

    def write(self, kind: str) -> None:
        number = self._selected()
        if number is None:
            return

        def work(s: Session) -> str:
            data = manifest.manifest_pdf(s, number) if kind == "pdf" else manifest.manifest_csv(s, number)
            path = Path(tempfile.mkdtemp(prefix="depot-manifest-")) / f"{number}.{kind}"
            path.write_bytes(data)
            return str(path)

        self.ctx.runner.submit(work, lambda p: self._written(p, kind), write=False, label=f"manifest {kind}",
                               on_error=self._on_error)

    def _written(self, path: str, kind: str) -> None:
        self.last_file = path
        if kind == "pdf" and self.open_url(QUrl.fromLocalFile(path)):
            self._ok(f"opened {Path(path).name}")
        else:
            self._ok(f"written to {path}")

    # --- packing slips of the day, in the background ------------------------------------------------
    def print_slips(self, folder: Path | None = None) -> None:
        """Every slip of the day's confirmed shipments into a folder, with progress and cancel; a
        second run resumes (slips already written are skipped)."""
        numbers = [r.number for r in self.confirmed.rows()]
        if not numbers:
            self._show("No confirmed shipments that day", False)
            return
        if self._print is not None:
            self._show("A print run is going on; cancel it first", False)
            return
        target = folder or Path(tempfile.gettempdir()) / f"depot-slips-{self.selected_day().isoformat()}"
        engine = self.ctx.engine

        def run(_s: Session, progress: Progress) -> documents.BulkResult:
            return documents.print_slips(engine, numbers, target, progress=progress.report,
                                         cancelled=lambda: progress.cancelled)

        self.progress.setRange(0, len(numbers))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_btn.setVisible(True)
        self._print = self.ctx.runner.submit(run, self._on_slips, write=False, progress=True, label="packing slips",
                                             on_error=self._on_slips_failed)
        self._print.progressed.connect(self._on_progress)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} {text}")

    def cancel_print(self) -> None:
        if self._print is not None:
            self._print.cancel()
            self._show("Cancelling after the slip being written…", None)

    def _slips_done(self) -> None:
        self._print = None
        self.progress.setVisible(False)
        self.cancel_btn.setVisible(False)

    def _on_slips(self, res: documents.BulkResult) -> None:
        self._slips_done()
        self.last_run = res
        folder = res.written[0].parent if res.written else None
        text = res.sentence() + (f" in {folder}" if folder else "")
        if res.failed or res.remaining:
            self._show(text, False)
            self.done.emit(False, text)
        else:
            self._ok(text)

    def _on_slips_failed(self, e: BaseException) -> None:
        self._slips_done()
        self._on_error(e)

    #: how a PDF is handed to the system viewer (tests replace it)
    open_url = staticmethod(QDesktopServices.openUrl)

    def _ok(self, text: str) -> None:
        self._show(text, True)
        self.done.emit(True, text)

    def _on_error(self, e: BaseException) -> None:
        self._show(str(e), False)
        self.done.emit(False, str(e))

    def _show(self, text: str, ok: bool | None) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(IDLE_CSS if ok is None else OK_CSS if ok else BAD_CSS)
        if ok is False:
            QApplication.beep()


#: shipments that have left (or are waiting at the dock with a confirmed label)
_CONFIRMED = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delayed", "exception",
              "delivery_attempted", "available_for_pickup", "delivered", "returned")
