"""Waves tab: the plan per carrier (cut-off and a live countdown, lines, whether the pickers make
it), release and take back, picking progress, and the selected wave's lines in walking order.
Pick lists print in the background to PDF files (progress, cancel, resume by printing again).

Every read and write is an op off the GUI thread; the countdown ticks on a timer without asking
the database; the list reloads when waves, orders, allocations or stock change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.services.allocation.runs import scope
from app.services.changes import Change
from app.services.dispatch import queries, waves
from app.services.dispatch.printing import PrintRun, print_picklists
from app.services.ownership import ownership
from app.services.paths import user_data_dir
from app.views.allocation.common import BAD_STYLE, OK_STYLE, table
from app.views.context import AppContext
from app.views.ops import OpHandle, Progress
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

KINDS = frozenset({Change.WAVE, Change.ORDER, Change.ALLOCATION})
LATE = QColor("#f8d7da")
SOON = QColor("#fff3cd")
DONE = QColor("#e2efe4")


def countdown(row: queries.WaveRow, now: dt.datetime | None = None) -> str:
    """Time left to the cut-off, as a dispatcher reads it ("1 h 05 min", "12 min", "passed 20 min ago")."""
    left = row.minutes_left(now)
    if left is None:
        return ""
    if left < 0:
        return f"passed {_span(-left)} ago"
    return _span(left)


def _span(minutes: int) -> str:
    if minutes >= 24 * 60:
        return f"{minutes // (24 * 60)} d {minutes % (24 * 60) // 60} h"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _tint(row: queries.WaveRow) -> QColor | bool:
    if row.status == "picked":
        return DONE
    left = row.minutes_left()
    if not row.in_time or (left is not None and left < 0):
        return LATE
    if left is not None and left < 60:
        return SOON
    return False


COLUMNS = [
    Column("Wave", "number"), Column("WH", "warehouse"), Column("Carrier", "carrier"),
    Column("Cut-off", get=lambda r: r.local(r.cutoff_at)), Column("Left", get=countdown),
    Column("Status", "status"), Column("Orders", "orders", align_right=True),
    Column("Picked", get=lambda r: f"{r.lines_done}/{r.lines}" + (f" ({100 * r.lines_done // r.lines} %)"
                                                                   if r.lines else ""), align_right=True),
    Column("Short", get=lambda r: r.lines_short or "", align_right=True), Column("Units", "units", align_right=True),
    Column("Min", "pick_minutes", align_right=True), Column("Done by", get=lambda r: r.local(r.done_by)),
    Column("In time", get=lambda r: "yes" if r.in_time else "NO"),
    Column("Walk m", get=lambda r: f"{r.walk_m} vs {r.walk_line_order_m}", align_right=True,
           tooltip=lambda r: f"planned path {r.walk_m} m; picking in order-line order {r.walk_line_order_m} m"),
    Column("Note", "note"),
]
LINE_COLUMNS = [
    Column("#", "seq", align_right=True), Column("Bin", "bin"), Column("SKU", "sku"), Column("Description", "description"),
    Column("Qty", "qty", align_right=True), Column("Picked", "qty_picked", align_right=True), Column("Status", "status"),
    Column("Tote", get=lambda r: r.tote or "", align_right=True), Column("Order", get=lambda r: f"{r.order}/{r.line_no}"),
    Column("Lot", "lot"), Column("Expiry", get=lambda r: r.expiry.isoformat() if r.expiry else ""),
    Column("Short reason", "short_reason"),
]


class FolderChoice:
    """Where a print run writes (a folder of its own); tests replace ``ask``."""

    @staticmethod
    def ask(_parent: QWidget | None) -> Path:
        return user_data_dir() / "print" / f"picklists-{dt.datetime.now():%Y%m%d-%H%M%S}"


class WavesTab(QWidget):
    """Signals:
    loaded(int): waves listed.
    pick_wave(str): the dispatcher wants to pick this wave (the screen opens Picking).
    printed(object): a print run finished (its PrintRun).
    """

    loaded = Signal(int)
    pick_wave = Signal(str)
    printed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._print: OpHandle | None = None
        #: a run stopped by a cancel or a failure: its waves and folder (Print resumes it)
        self._unfinished: tuple[list[str], Path] | None = None
        #: picked waves older than the board's days that it leaves out
        self._hidden = 0
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("waveWarehouse")
        self.warehouse.addItem("All my warehouses", None)
        self.plan_btn = QPushButton("&Plan waves (F5)")
        self.release_btn = QPushButton("&Release")
        self.back_btn = QPushButton("&Take back")
        self.print_btn = QPushButton("Print pick &lists")
        self.pick_btn = QPushButton("Pic&k this wave")
        self.cancel_btn = QPushButton("Cancel printing")
        for b, name in ((self.plan_btn, "planButton"), (self.release_btn, "releaseButton"), (self.back_btn, "backButton"),
                        (self.print_btn, "printButton"), (self.pick_btn, "pickButton"), (self.cancel_btn, "cancelPrint")):
            b.setObjectName(name)
        may = ctx.can("dispatch.wave")
        for b in (self.plan_btn, self.release_btn, self.back_btn):
            b.setEnabled(may)
            if not may:
                b.setToolTip("needs the dispatch.wave right (a dispatcher)")
        self.progress = QProgressBar()
        self.progress.setObjectName("printProgress")
        self.progress.setVisible(False)
        self.cancel_btn.setVisible(False)
        self.model = RowsModel(COLUMNS, self, highlight=_tint)
        self.view = table(self.model, "waveTable", multi=True)
        self.lines = RowsModel(LINE_COLUMNS, self)
        self.lines_view = table(self.lines, "waveLineTable")
        self.older = QCheckBox("Show older picked")
        self.older.setObjectName("waveOlder")
        self.older.setToolTip(f"Picked waves of any age (the board shows those picked in the last "
                              f"{queries.RECENT_DAYS} days)")
        self.summary = QLabel("")
        self.summary.setObjectName("waveSummary")
        # a counts line that grows with the data (late waves, older ones hidden) wraps instead of
        # widening the window past a 1366 px laptop (it once pushed the demo's window to 1380 px)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message = QLabel("")
        self.message.setObjectName("waveMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = FlowRow()  # wraps on a narrow window (1,024 px)
        top.addWidget(self.warehouse)
        for b in (self.plan_btn, self.release_btn, self.back_btn, self.print_btn, self.pick_btn):
            top.addWidget(b)
        top.addWidget(self.older)
        top.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.lines_view)
        split.setSizes([300, 200])
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addLayout(bottom)
        self.tick = QTimer(self)
        self.tick.setInterval(30_000)
        self._connect_signals()
        self.tick.start()
        self._load_warehouses()
        self.refresh()

    def _key(self, keys: str, what: str) -> QShortcut:
        """A shortcut of this tab only (the other tabs of the screen use the same keys)."""
        return shortcut(keys, self, what, local=True)

    def _connect_signals(self) -> None:
        self.plan_btn.clicked.connect(self.plan)
        self.release_btn.clicked.connect(self.release_selected)
        self.back_btn.clicked.connect(self.take_back)
        self.print_btn.clicked.connect(self.print_selected)
        self.cancel_btn.clicked.connect(self.cancel_print)
        self.pick_btn.clicked.connect(self._pick_selected)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.refresh())
        self.older.toggled.connect(lambda _on: self.refresh())
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_lines(cur.row()))
        self.view.doubleClicked.connect(lambda _i: self._pick_selected())
        self.tick.timeout.connect(self._tick)
        self._key("Ctrl+R", "Release the selected waves").activated.connect(self.release_selected)
        self._key("Ctrl+P", "Print the pick lists").activated.connect(self.print_selected)
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)

    # --- reading ----------------------------------------------------------------------------------
    def _load_warehouses(self) -> None:
        def own(s: Any) -> list[str]:
            mine = ownership(s)
            return [w.code for w in scope(s) if mine.owns(w.branch_id)]

        self.ctx.runner.submit(own, self._on_warehouses, write=False, label="warehouses",
                               on_error=lambda e: self.message.setText(str(e)))

    def _on_warehouses(self, codes: list[str]) -> None:
        for code in codes:
            self.warehouse.addItem(code, code)

    def refresh(self) -> None:
        wh, older = self.warehouse.currentData(), self.older.isChecked()

        def read(s: Any) -> tuple[list[queries.WaveRow], int]:
            return (queries.list_waves(s, warehouse=wh, older=older),
                    0 if older else queries.older_picked(s, warehouse=wh))

        self.ctx.runner.submit(read, self._on_board, write=False,
                               label="waves", latest=(id(self), "waves"), on_error=lambda e: self._say(str(e), False))

    def _on_board(self, board: tuple[list[queries.WaveRow], int]) -> None:
        rows, self._hidden = board
        self._on_rows(rows)

    def _on_rows(self, rows: list[queries.WaveRow]) -> None:
        current = self._selected_numbers()
        self.model.set_rows(rows)
        for r, row in enumerate(rows):
            if row.number in current:
                self.view.selectRow(r)
        if rows and not self.view.selectionModel().hasSelection():
            self.view.selectRow(0)
        late = sum(1 for r in rows if r.status != "picked" and not r.in_time)
        active = sum(1 for r in rows if r.status in ("released", "picking"))
        hidden = self._hidden
        self.summary.setText(f"{len(rows)} wave(s), {active} being picked" + (f", {late} late" if late else "")
                             + (f" ({hidden} older picked not shown)" if hidden else ""))
        self.summary.setStyleSheet(BAD_STYLE if late else "")
        if not rows:
            self._say("No waves yet: Plan waves (F5) groups the allocated orders by carrier cut-off.", True)
        self.loaded.emit(len(rows))

    def _tick(self) -> None:
        for r in range(self.model.rowCount()):
            self.model.refresh_row(r)

    def _selected_rows(self) -> list[queries.WaveRow]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows]

    def _selected_numbers(self) -> list[str]:
        return [r.number for r in self._selected_rows()]

    def _show_lines(self, r: int) -> None:
        if r < 0 or r >= self.model.rowCount():
            self.lines.set_rows([])
            return
        number = self.model.row(r).number
        self.ctx.runner.submit(lambda s: queries.wave_lines(s, number), self.lines.set_rows, write=False,
                               label="wave lines", latest=(id(self), "lines"), on_error=lambda e: self._say(str(e), False))

    # --- acting -------------------------------------------------------------------------------------
    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    def plan(self) -> None:
        if not self.ctx.can("dispatch.wave"):
            return
        wh = self.warehouse.currentData()
        actor = self.ctx.actor
        self._say("planning…", True)
        self.ctx.runner.submit(lambda s: waves.plan_waves(s, actor, warehouse=wh), self._on_planned,
                               label="plan waves", on_error=lambda e: self._say(str(e), False))

    def _on_planned(self, res: waves.PlanResult) -> None:
        if not res.waves:
            self._say("No allocated orders to plan" + (f" (replaced {', '.join(res.cancelled)})." if res.cancelled
                                                       else "."), True)
            return
        late = [w.number for w in res.waves if not w.in_time]
        text = (f"Planned {len(res.waves)} wave(s), {sum(len(w.stops) for w in res.waves)} line(s)"
                + (f"; {len(late)} cannot make the cut-off: {', '.join(late)}" if late else "; all in time")
                + (f". {len(res.notes)} note(s): {res.notes[0]}" if res.notes else ""))
        self._say(text, not late)

    def release_selected(self) -> None:
        numbers = [r.number for r in self._selected_rows() if r.status == "planned"]
        if not numbers:
            self._say("Choose planned waves to release.", False)
            return
        actor = self.ctx.actor
        self.ctx.runner.submit(lambda s: waves.release(s, actor, numbers), self._on_released, label="release waves",
                               on_error=lambda e: self._say(str(e), False))

    def _on_released(self, res: waves.ReleaseResult) -> None:
        self._say(f"Released {', '.join(res.waves)}: {res.orders} order(s), {res.lines} line(s) to pick.", True)

    def take_back(self) -> None:
        rows = self._selected_rows()
        if len(rows) != 1:
            self._say("Choose one released wave to take back.", False)
            return
        number, actor = rows[0].number, self.ctx.actor
        self.ctx.runner.submit(lambda s: waves.unrelease(s, actor, number),
                               lambda w: self._say(f"{w.number} is planned again; its orders are allocated.", True),
                               label="take back wave", on_error=lambda e: self._say(str(e), False))

    def _pick_selected(self) -> None:
        rows = self._selected_rows()
        if rows and rows[0].status in ("released", "picking"):
            self.pick_wave.emit(rows[0].number)
        elif rows:
            self._say(f"{rows[0].number} is {rows[0].status}: only a released wave is picked.", False)

    # --- printing in the background ------------------------------------------------------------------
    def print_selected(self) -> None:
        """Print the selected waves (else every released one) to a new folder; after a cancelled or
        failed run, resume that run instead (what is in its folder is not printed again)."""
        if self._print is not None:
            self._say("A print run is going on; cancel it first.", False)
            return
        if self._unfinished is not None:
            numbers, folder = self._unfinished
            self._say(f"Resuming the print run in {folder}…", True)
        else:
            numbers = self._selected_numbers() or [r.number for r in self.model.rows()
                                                    if r.status in ("released", "picking")]
            if not numbers:
                self._say("Choose the waves to print (or release some first).", False)
                return
            folder = FolderChoice.ask(self)
        self._unfinished = (numbers, folder)  # until the run says it finished

        def run(s: Any, progress: Progress) -> PrintRun:
            return print_picklists(s, numbers, folder, report=progress.report, stop=lambda: progress.cancelled)

        self.progress.setRange(0, len(numbers))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_btn.setVisible(True)
        self._print = self.ctx.runner.submit(run, self._on_printed, write=False, progress=True, label="print pick lists",
                                             on_error=self._on_print_failed)
        self._print.failed.connect(lambda _e: self._print_done())  # also a cancel before it started
        self._print.progressed.connect(self._on_progress)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} {text}")

    def cancel_print(self) -> None:
        if self._print is not None:
            self._print.cancel()
            self._say("Cancelling after the pick list being printed…", False)

    def _print_done(self) -> None:
        self._print = None
        self.progress.setVisible(False)
        self.cancel_btn.setVisible(False)

    def _on_printed(self, run: PrintRun) -> None:
        self._print_done()
        if not run.cancelled and not run.failed:
            self._unfinished = None
        self._say(run.summary(), not run.failed and not run.cancelled)
        if run.printed and not run.cancelled and not run.failed:
            DesktopOpener.open(run.folder)
        self.printed.emit(run)

    def _on_print_failed(self, e: BaseException) -> None:
        self._print_done()
        self._say(str(e), False)


class DesktopOpener:
    """Shows the folder of a finished print run; tests replace ``open``."""

    @staticmethod
    def open(folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

