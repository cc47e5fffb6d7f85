"""Picking tab: a picker (or a dispatcher at a terminal) confirms a wave by scanning, keyboard only.

The scan station (``widgets.scan_station``, shared with Packing) keeps the focus in its field and
answers each scan in big letters on green (taken) or red (refused, with the reason, and a beep). The sequence is the
service's ``ScanFlow``: bin, item, quantity (Enter = all the line asks; a number; ``SHORT n
reason``). Each scan is one op on the writer: a refused scan writes nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.services.changes import Change
from app.services.dispatch import queries
from app.services.dispatch.scanflow import Feedback, ScanFlow
from app.views.allocation.common import table
from app.views.context import AppContext
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel
from app.views.widgets.scan_station import ScanStation

KINDS = frozenset({Change.WAVE})
STEP_WORDS = {"bin": "Scan the BIN", "item": "Scan the ITEM", "qty": "Quantity: Enter = all, a number, or SHORT n reason",
              "done": "Wave picked"}
LINE_COLUMNS = [
    Column("#", "seq", align_right=True), Column("Bin", "bin"), Column("SKU", "sku"), Column("Description", "description"),
    Column("Qty", get=lambda r: r.qty - r.qty_picked, align_right=True),
    Column("Tote", get=lambda r: r.tote or "", align_right=True), Column("Order", "order"), Column("Lot", "lot"),
]


class PickingTab(QWidget):
    """Signals:
    answered(object): the Feedback of a scan (after it is shown).
    """

    answered = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.flow: ScanFlow | None = None
        self._busy = False
        self.wave = QComboBox()
        self.wave.setObjectName("pickWave")
        self.wave.setMinimumWidth(260)
        self.station = ScanStation("pick", "Choose a released wave", prompt_name="pickStep")
        self.step, self.scan, self.feedback = self.station.prompt, self.station.scan, self.station.feedback
        self.progress = QLabel("")
        self.progress.setObjectName("pickProgress")
        self.lines = RowsModel(LINE_COLUMNS, self)
        self.lines_view = table(self.lines, "pickOpenLines")
        self.lines_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top = QHBoxLayout()
        top.addWidget(QLabel("Wave:"))
        top.addWidget(self.wave)
        top.addStretch(1)
        top.addWidget(self.progress)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.station)
        lay.addWidget(QLabel("Still to pick, in walking order:"))
        lay.addWidget(self.lines_view, 1)
        self.setEnabled(True)
        if not ctx.can("dispatch.pick"):
            self.station.disable("Confirming picks needs the dispatch.pick right (a dispatcher or the warehouse).")
        self._connect_signals()
        self.refresh()

    def _key(self, keys: str, what: str) -> QShortcut:
        """A shortcut of this tab only (the other tabs of the screen use the same keys)."""
        return shortcut(keys, self, what, local=True)

    def _connect_signals(self) -> None:
        self.station.entered.connect(self.take)
        self.wave.activated.connect(lambda _i: self._start(self.wave.currentData()))
        self._key("Escape", "Back to the scan field").activated.connect(self.focus_scan)
        self._key("F6", "Choose the wave to pick").activated.connect(self.wave.showPopup)
        # the wave list open: the picker is choosing a wave
        self.station.keep_focus(self, lambda new: new is self.wave or self.wave.view().isVisible())
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)

    # --- the field keeps the focus --------------------------------------------------------------------
    def focus_scan(self) -> None:
        self.station.focus()

    # --- waves to pick ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: queries.list_waves(s, statuses=("released", "picking")), self._on_waves,
                               write=False, label="waves to pick", latest=(id(self), "waves"),
                               on_error=lambda e: self._show(str(e), False))
        if self.flow is not None:
            self._load_lines(self.flow.wave)

    def _on_waves(self, rows: list[queries.WaveRow]) -> None:
        current = self.flow.wave if self.flow else None
        self.wave.blockSignals(True)
        self.wave.clear()
        for r in rows:
            self.wave.addItem(f"{r.number}  {r.carrier or '-'}  {r.lines_done}/{r.lines}  cut-off {r.local(r.cutoff_at)}",
                              r.number)
        self.wave.blockSignals(False)
        if current is not None:
            i = self.wave.findData(current)
            if i >= 0:
                self.wave.setCurrentIndex(i)
                r = rows[i]
                self.progress.setText(f"{r.lines_done} of {r.lines} line(s) picked" +
                                      (f", {r.lines_short} short" if r.lines_short else ""))
        elif rows:
            self.step.setText("Choose a wave (F6) or scan after choosing one")

    def choose(self, number: str) -> None:
        """Start picking ``number`` (from the Waves tab)."""
        self._start(number)

    def _start(self, number: Any) -> None:
        if not number:
            return
        self.flow = ScanFlow(str(number))
        flow = self.flow
        self.ctx.runner.submit(lambda s: flow.prompt(s), self._on_prompt, write=False, label="next stop",
                               on_error=lambda e: self._show(str(e), False))
        self._load_lines(flow.wave)
        i = self.wave.findData(number)
        if i >= 0:
            self.wave.setCurrentIndex(i)
        self.focus_scan()

    def _on_prompt(self, text: str) -> None:
        self.step.setText(f"{self.flow.wave if self.flow else ''}: {STEP_WORDS['bin']}")
        self._show(text[0].upper() + text[1:], None)

    def _load_lines(self, number: str) -> None:
        def open_lines(s: Any) -> list[queries.PickRow]:
            return [r for r in queries.wave_lines(s, number) if r.status == "open"]

        self.ctx.runner.submit(open_lines, self.lines.set_rows, write=False, label="open pick lines",
                               latest=(id(self), "lines"), on_error=lambda e: self._show(str(e), False))

    # --- scanning ------------------------------------------------------------------------------------
    def take(self, text: str) -> None:
        if self.flow is None:
            self._show("Choose the wave first (F6).", False)
            return
        if self._busy:
            return  # the scanner's next code waits for the answer to this one
        self._busy = True
        flow, actor = self.flow, self.ctx.actor
        self.ctx.runner.submit(lambda s: flow.scan(s, actor, text), self._on_feedback, label="pick scan",
                               on_error=self._on_error)

    def _on_error(self, e: BaseException) -> None:
        self._busy = False
        self._show(str(e), False)

    def _on_feedback(self, fb: Feedback) -> None:
        self._busy = False
        self.scan.clear()
        self._show(fb.message, fb.ok)
        self.step.setText(f"{self.flow.wave if self.flow else ''}: {STEP_WORDS.get(fb.expect, '')}")
        if fb.outcome is not None and self.flow is not None:
            self._load_lines(self.flow.wave)
        self.focus_scan()
        self.answered.emit(fb)

    def _show(self, text: str, ok: bool | None) -> None:
        self.station.show_answer(text, ok)
