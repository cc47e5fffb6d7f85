"""TrackingScreen: shipments on their way with status, promised date, ETA and risk; filters by
status, carrier, customer and risk; one shipment's timeline, proof of delivery, notices and cases;
"Poll now" for the selected shipment.

Reads are ops on the runner's read pool (the list is paged); polling is the window's
``TrackingPoller`` (its own thread: a carrier that is slow never freezes the window). The list
reloads when a cycle, a sync or another screen changed shipments or tracking.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.tracking import queries
from app.services.tracking.poll_report import CycleReport
from app.services.tracking.queries import Filter, ShipmentDetail
from app.views.context import AppContext
from app.views.tracking.detail import ShipmentDetailPane
from app.views.tracking.models import (
    COLUMNS,
    RISK_FILTERS,
    STATUS_VIEWS,
    ShipmentModel,
    fetch_shipments,
    local,
)
from app.views.tracking.poller import TrackingPoller
from app.views.widgets.columns import fit_columns
from app.views.widgets.keys import shortcut

REFRESH_KINDS = frozenset({"shipment", "tracking", "order", "exception", "sync"})


class TrackingScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("TrackingScreen")
        self._poller: TrackingPoller | None = None
        self.search = QLineEdit()
        self.search.setObjectName("trackingSearch")
        self.search.setPlaceholderText("Shipment, tracking or order number (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.view = QComboBox()
        self.view.setObjectName("trackingView")
        for key, text in STATUS_VIEWS:
            self.view.addItem(text, key)
        self.carrier = QComboBox()
        self.carrier.setObjectName("trackingCarrier")
        self.carrier.addItem("All carriers", "")
        self.customer = QLineEdit()
        self.customer.setObjectName("trackingCustomer")
        self.customer.setPlaceholderText("Customer code or name")
        self.customer.setClearButtonEnabled(True)
        self.risk = QComboBox()
        self.risk.setObjectName("trackingRisk")
        for key, text in RISK_FILTERS:
            self.risk.addItem(text, key)
        self.count_label = QLabel("")
        self.count_label.setObjectName("trackingCount")
        self.poll_button = QPushButton("Poll now")
        self.poll_button.setObjectName("trackingPollNow")
        self.poll_button.setToolTip("Ask the carrier about the selected shipment now (Ctrl+P)")
        self.poll_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setObjectName("trackingStatus")
        self.status.setWordWrap(True)
        self.model = ShipmentModel(ctx.runner, fetch_shipments, COLUMNS, parent=self)
        self.table = QTableView()
        self.table.setObjectName("trackingTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        fit_columns(self.table, "tracking/shipments", max_width=140)  # 11 columns in what 1366 px leaves
        self.detail = ShipmentDetailPane()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._selected: Any = None
        self._detail_gen = 0

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        filters.addWidget(self.view)
        filters.addWidget(self.carrier)
        filters.addWidget(self.customer, 1)
        filters.addWidget(self.risk)
        filters.addWidget(self.poll_button)
        info = QHBoxLayout()
        info.addWidget(self.count_label)
        info.addStretch(1)
        info.addWidget(self.status, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("trackingSplit")
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(info)
        layout.addWidget(split, 1)
        self._connect_signals()
        self._load_carriers()
        self.refresh()

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.customer.textChanged.connect(lambda _t: self._debounce.start())
        self._debounce.timeout.connect(self.refresh)
        for combo in (self.view, self.carrier, self.risk):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._on_select(cur.row()))
        self.model.page_loaded.connect(self._on_page)
        self.model.load_failed.connect(lambda text: self.count_label.setText(f"could not load: {text}"))
        self.poll_button.clicked.connect(self.poll_now)
        shortcut("Ctrl+P", self, "Poll the carriers now", self.poll_now, local=True)
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    # filters and list ---------------------------------------------------------------------
    def current_filter(self) -> Filter:
        return Filter(view=str(self.view.currentData()), carrier=str(self.carrier.currentData() or ""),
                      customer=self.customer.text().strip(), risk=str(self.risk.currentData() or ""),
                      search=self.search.text().strip())

    @property
    def poller(self) -> TrackingPoller:
        """The window's carrier poller (looked up when needed: the background jobs start after the
        first paint, possibly after this screen was built)."""
        found = TrackingPoller.of(self.ctx, fallback=self._poller)
        if found is not self._poller:
            self._poller = found
            found.cycle_done.connect(self._on_cycle)
            found.failed.connect(self._on_failed)
            found.running_changed.connect(self._on_running)
        return found

    def refresh(self) -> None:
        f = self.current_filter()
        self.model.set_query(f)
        self._count(f)
        self._read_last_cycle()

    def _count(self, f: Filter) -> None:
        def show(counts: dict[str, int]) -> None:
            self.count_label.setText(queries.count_sentence(counts))

        self.ctx.runner.submit(lambda s: queries.count_shipments(s, f, with_model=True), show, write=False,
                               label="count shipments", latest=(id(self), "count"))

    def _read_last_cycle(self) -> None:
        """The status line from this workstation's cycle log (a cycle run by the window, or by
        ``depot track poll`` on the same file)."""
        def show(line: queries.CycleLine | None) -> None:
            if getattr(self, "_poll_target", None):
                return  # a poll-now is on its way: its answer is shown when it comes
            shown = getattr(self, "_shown_cycle", None)
            if line is not None and shown is not None and line.started_at <= shown:
                return  # the cycle whose answer is on the line already (a poll-now's own words)
            if line is None:
                self.status.setText("Tracking: no poll yet on this workstation")
                return
            self.status.setStyleSheet("color: #b00020;" if line.problems else "")
            self.status.setText(f"Last poll {local(line.started_at, '%H:%M')}: {line.text()}")

        self.ctx.runner.submit(queries.last_cycle, show, write=False, label="last poll", latest=(id(self), "cycle"))

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _load_carriers(self) -> None:
        def fill(rows: list[tuple[str, str]]) -> None:
            for code, name in rows:
                self.carrier.addItem(f"{code} ({name})", code)

        self.ctx.runner.submit(queries.carriers_in_use, fill, write=False, label="carriers")

    def _on_page(self, _rows: int) -> None:
        if self._selected is not None:
            for r in range(self.model.rowCount()):
                if self.model.row(r).id == self._selected:
                    self.table.selectRow(r)
                    return
        if self.model.rowCount() and self.table.currentIndex().row() < 0:
            self.table.selectRow(0)
        elif not self.model.rowCount():
            self._on_select(-1)

    def _on_data_changed(self, kinds: Any) -> None:
        if REFRESH_KINDS & set(kinds):
            self.model.reload()
            self._count(self.current_filter())
            self._read_last_cycle()
            self.refresh_detail()

    # one shipment ----------------------------------------------------------------------------
    def _on_select(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            self._selected = None
            self.poll_button.setEnabled(False)
            self.detail.clear()
            return
        self._selected = self.model.row(row).id
        self.poll_button.setEnabled(self.ctx.can("tracking.poll"))
        if not self.ctx.can("tracking.poll"):
            self.poll_button.setToolTip("Your roles may not ask the carrier (dispatcher, clerk, manager)")
        self.refresh_detail()

    def refresh_detail(self) -> None:
        if self._selected is None:
            return
        number = next((self.model.row(r).number for r in range(self.model.rowCount())
                       if self.model.row(r).id == self._selected), None)
        if number is None:
            return
        self._detail_gen += 1
        gen, wanted = self._detail_gen, self._selected

        def show(d: ShipmentDetail) -> None:
            if gen == self._detail_gen and wanted == self._selected:
                self.detail.show_detail(d)

        self.ctx.runner.submit(lambda s: queries.show(s, number), show, write=False, label="shipment",
                               latest=(id(self), "detail"))

    def selected_row(self) -> Any:
        r = self.table.currentIndex().row()
        return self.model.row(r) if 0 <= r < self.model.rowCount() else None

    # polling ------------------------------------------------------------------------------------
    def poll_now(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can("tracking.poll"):
            return
        self.poll_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(f"Asking {row.carrier} about {row.number} ({row.tracking_number})…")
        self._poll_target = row.number
        self.poller.poll_now([row.id])

    def _on_running(self, running: bool) -> None:
        if not running and self._selected is not None:
            self.poll_button.setEnabled(self.ctx.can("tracking.poll"))

    def _on_cycle(self, report: CycleReport) -> None:
        self._shown_cycle = report.started_at
        self.status.setStyleSheet("color: #b00020;" if report.problems else "")
        when = local(report.started_at, "%H:%M")
        target = getattr(self, "_poll_target", None)
        if target and report.shipments <= 1:
            self._poll_target = None
            self.status.setText(f"Polled {target} at {when}: " + _one_line(report))
        else:
            self._poll_target = None
            self.status.setText(f"Last poll {when}: {report.line()}"
                                + (f" · {report.problems[0]}" if report.problems else ""))
        held = [t for t in report.leases.values() if not t.endswith("polled here")]
        if held:
            self.status.setToolTip("\n".join(held))

    def _on_failed(self, text: str) -> None:
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(f"Tracking: {text}")


def _one_line(report: CycleReport) -> str:
    if report.problems:
        return report.problems[0]
    if not report.shipments:
        return "not polled here: " + next((t for t in report.leases.values() if not t.endswith("polled here")),
                                          "nothing to ask")
    outcome = next(iter(report.outcomes), "ok")
    if outcome != "ok":
        return f"the carrier answered {outcome.replace('_', ' ')}; asked again later"
    return f"{report.new_events} new event{'s' if report.new_events != 1 else ''}" + (
        ", status changed" if report.status_changes else "")
