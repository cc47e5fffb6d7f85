"""DashboardScreen: a tile per KPI with its trend against the target, the chosen KPI's chart
(branches side by side for head office), and the rows behind any point of it (click a point).

Figures come from ``app.services.kpi`` (the same service as ``depot kpi``), computed on the
runner's read pool with progress; the screen opens with the last figures it showed (a small cache
file) and refreshes after. Exports: the chart as PNG, its data and the rows as CSV.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from app.services.kpi import cache
from app.services.kpi.compute import Figure, compute, dimension_labels, drill
from app.services.kpi.core import Scope
from app.services.kpi.export import figures_csv, format_value, rows_csv
from app.services.kpi.scope import default_branches, make_scope
from app.services.kpi.targets import targets
from app.views.context import AppContext
from app.views.dashboard.chart import KpiChart, _label
from app.views.dashboard.tiles import KpiTile
from app.views.widgets.columns import fit_columns
from app.views.widgets.flow import FlowRow
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

REFRESH_KINDS = frozenset({"po", "receipt", "order", "shipment", "tracking", "stock", "exception", "sync",
                           "settings", "count"})
PERIODS = (("Last 12 months", "12m"), ("Last 6 months", "6m"), ("Last 13 weeks", "13w"), ("Last 30 days", "30d"),
           ("This year", "ytd"))
def row_columns(unit: str) -> tuple[Column, ...]:
    """The drill-down's columns; a row's value reads in the KPI's unit (a late PO line: 0 %)."""
    return (Column("Document", "doc"), Column("When", "at"), Column("Who", "party"), Column("Warehouse", "warehouse"),
            Column("Value", "value", align_right=True, fmt=lambda v: format_value(unit, v) if v is not None else ""),
            Column("Why it counts", "detail"))


ROW_COLUMNS = row_columns("money")


class DashboardScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("DashboardScreen")
        self.figures: list[Figure] = []
        self.scope: Scope | None = None
        self.selected = ""
        self._branch_codes: list[str] | None = None  # None until the first computation set the default
        self._rows: list[dict[str, Any]] = []
        self._drill_what = ""

        self.period = QComboBox()
        self.period.setObjectName("dashPeriod")
        for text, key in PERIODS:
            self.period.addItem(text, key)
        year = dt.date.today().year
        self.period.addItem(f"Year {year - 1}", str(year - 1))
        self.branch = QComboBox()
        self.branch.setObjectName("dashBranch")
        self.branch.addItem("All branches", "")
        self.side = QCheckBox("Branches side by side")
        self.side.setObjectName("dashSideBySide")
        self.side.setToolTip("Head-office view: every branch as its own line")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("dashRefresh")
        self.refresh_button.setToolTip("Compute the figures again (F5)")
        self.progress = QProgressBar()
        self.progress.setObjectName("dashProgress")
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setObjectName("dashStatus")
        self.status.setWordWrap(True)  # a long status (an error) wraps instead of widening the window

        self.tiles: dict[str, KpiTile] = {}
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        holder = QWidget()
        holder.setLayout(self.grid)
        self.tile_area = QScrollArea()
        self.tile_area.setObjectName("dashTiles")
        self.tile_area.setWidgetResizable(True)
        self.tile_area.setWidget(holder)
        self.tile_area.setMinimumWidth(380)

        self.chart = KpiChart()
        self.definition = QLabel("")
        self.definition.setObjectName("dashDefinition")
        self.definition.setWordWrap(True)
        self.png_button = QPushButton("Chart as PNG…")
        self.png_button.setObjectName("dashExportPng")
        self.csv_button = QPushButton("Data as CSV…")
        self.csv_button.setObjectName("dashExportCsv")
        self.rows_label = QLabel("Click a point of the chart to see the documents behind it.")
        self.rows_label.setObjectName("dashRowsLabel")
        self.rows_label.setWordWrap(True)
        self.all_rows_button = QPushButton("Rows of the whole period")
        self.all_rows_button.setObjectName("dashAllRows")
        self.rows_csv_button = QPushButton("Rows as CSV…")
        self.rows_csv_button.setObjectName("dashRowsCsv")
        self.rows_model = RowsModel(ROW_COLUMNS, self, highlight=lambda r: bool(r.get("bad")))
        self.rows_view = QTableView()
        self.rows_view.setObjectName("dashRows")
        self.rows_view.setModel(self.rows_model)
        self.rows_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rows_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows_view.verticalHeader().setVisible(False)
        fit_columns(self.rows_view, "dashboard/rows", max_width=170)

        top = FlowRow()  # wraps on a narrow window (1,024 px); the status goes to its own line
        top.addWidget(QLabel("Period"))
        top.addWidget(self.period)
        top.addWidget(QLabel("Branch"))
        top.addWidget(self.branch)
        top.addWidget(self.side)
        top.addWidget(self.refresh_button)
        top.addWidget(self.progress)
        top.addWidget(self.status, 1)
        chart_bar = QHBoxLayout()
        chart_bar.addWidget(self.definition, 1)
        chart_bar.addWidget(self.png_button)
        chart_bar.addWidget(self.csv_button)
        rows_bar = QHBoxLayout()
        rows_bar.addWidget(self.rows_label, 1)
        rows_bar.addWidget(self.all_rows_button)
        rows_bar.addWidget(self.rows_csv_button)
        chart_box = QWidget()
        cl = QVBoxLayout(chart_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.chart, 1)
        cl.addLayout(chart_bar)
        rows_box = QWidget()
        rl = QVBoxLayout(rows_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(rows_bar)
        rl.addWidget(self.rows_view, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(chart_box)
        right.addWidget(rows_box)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("dashSplit")
        split.addWidget(self.tile_area)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([390, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._set_export_enabled()
        self._connect_signals()
        self._show_cached()
        QTimer.singleShot(0, self, self.refresh)  # with self as context: dropped if the screen goes first

    def set_period(self, text: str, title: str = "") -> None:
        """Show another period ('2026-01..2026-03', '2025'); it is added to the choices if new."""
        i = self.period.findData(text)
        if i < 0:
            self.period.addItem(title or text, text)
            i = self.period.count() - 1
        self.period.setCurrentIndex(i)

    def _connect_signals(self) -> None:
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.branch.activated.connect(self._branch_chosen)
        self.side.toggled.connect(self._side_toggled)
        self.refresh_button.clicked.connect(self.refresh)
        self.chart.point_clicked.connect(self.show_rows)
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button.clicked.connect(self._ask_csv)
        self.rows_csv_button.clicked.connect(self._ask_rows_csv)
        self.all_rows_button.clicked.connect(lambda: self.show_rows("", ""))
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    # --- computing --------------------------------------------------------------------------

    def _args(self) -> dict[str, Any]:
        return {"period": self.period.currentData(), "branches": self._branch_codes,
                "by": "branch" if self.side.isChecked() else ""}

    def _cache_key(self) -> str:
        a = self._args()
        branches = "default" if a["branches"] is None else ",".join(a["branches"]) or "all"
        return f"{self.ctx.engine.url.database}|{self.ctx.actor.username}|{a['period']}|{branches}|{a['by']}"

    def _cache_path(self) -> Path:
        return self.ctx.settings.path.parent / "kpi-cache.json"

    def _show_cached(self) -> None:
        hit = cache.load(self._cache_path(), self._cache_key())
        if hit is not None:
            at, figs = hit
            self._show(figs)
            self.status.setText(f"Figures of {at}; refreshing…")

    def refresh(self) -> None:
        """Compute the figures again (the window's Refresh, F5, calls this)."""
        args = self._args()
        actor, settings = self.ctx.actor, self.ctx.settings

        def work(session: Session, progress: Any) -> tuple[Scope, list[Figure], list[str] | None, list[str]]:
            codes = [r[0] for r in session.connection().exec_driver_sql(
                "SELECT code FROM branch WHERE deleted_at IS NULL AND is_head_office = 0 ORDER BY code")]
            branches = args["branches"]
            if branches is None:
                branches = default_branches(session, actor)
            scope = make_scope(session, period=args["period"], branches=branches or None, by=args["by"])
            figs = compute(session, scope, roles=actor.roles, targets=targets(settings), progress=progress.report)
            return scope, figs, branches, codes

        key = self._cache_key()  # the figures are saved under what was asked (the default branches too)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.refresh_button.setEnabled(False)
        if not self.figures:
            self.status.setText("Computing the figures…")
        handle = self.ctx.runner.submit(work, lambda r: self._computed(r, key), on_error=self._failed, write=False, progress=True,
                                        label="compute KPIs", latest=(id(self), "kpi"))
        handle.progressed.connect(self._progressed)

    def _progressed(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if done < total:
            self.status.setText(f"Computing {text}… ({done + 1} of {total})")

    def _computed(self, result: tuple[Scope, list[Figure], list[str] | None, list[str]], key: str) -> None:
        scope, figs, branches, codes = result
        self.scope = scope
        self._fill_branches(codes, branches)
        self._show(figs)
        self.progress.hide()
        self.refresh_button.setEnabled(True)
        at = dt.datetime.now().strftime("%H:%M")
        self.status.setText(f"{scope.start:%d %b %Y} – {scope.end - dt.timedelta(days=1):%d %b %Y} by {scope.bucket}; "
                            f"computed at {at}")
        cache.save(self._cache_path(), key, at, figs)

    def _failed(self, error: BaseException) -> None:
        self.progress.hide()
        self.refresh_button.setEnabled(True)
        self.status.setText(str(error) if isinstance(error, DomainError) else f"Could not compute the figures: {error}")

    def _fill_branches(self, codes: list[str], chosen: list[str] | None) -> None:
        self._branch_codes = chosen or []
        self.branch.blockSignals(True)
        self.branch.clear()
        self.branch.addItem("All branches", "")
        for c in codes:
            self.branch.addItem(c, c)
        self.branch.setCurrentIndex(max(self.branch.findData(chosen[0]) if chosen else 0, 0))
        self.branch.blockSignals(False)

    def _branch_chosen(self, _index: int) -> None:
        code = self.branch.currentData()
        self._branch_codes = [code] if code else []
        self.refresh()

    def _side_toggled(self, on: bool) -> None:
        """Branches side by side is the head-office view: every branch, one line each."""
        if on:
            self._branch_codes = []
            self.branch.setCurrentIndex(0)
        self.refresh()

    def _on_data_changed(self, kinds: frozenset[str]) -> None:
        if kinds & REFRESH_KINDS and self.isVisible():
            self.refresh()

    # --- showing ----------------------------------------------------------------------------

    def _show(self, figs: list[Figure]) -> None:
        self.figures = figs
        keys = [f.key for f in figs]
        if list(self.tiles) != keys:
            for tile in self.tiles.values():
                tile.deleteLater()
            self.tiles = {}
            for n, f in enumerate(figs):
                tile = KpiTile(f.key)
                tile.clicked.connect(self.select)
                self.grid.addWidget(tile, n // 2, n % 2)
                self.tiles[f.key] = tile
        for f in figs:
            self.tiles[f.key].set_figure(f)
        if self.selected not in self.tiles:
            first = next((f.key for f in figs if f.state == "ok"), keys[0] if keys else "")
            self.selected = first
        self.select(self.selected, keep_rows=True)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    def select(self, key: str, keep_rows: bool = False) -> None:
        changed = key != self.selected
        self.selected = key
        for k, tile in self.tiles.items():
            tile.set_selected(k == key)
        fig = self.figure(key)
        self.chart.show_figure(fig if fig is not None and fig.state == "ok" else None)
        if fig is None:
            self.definition.setText("")
        else:
            value = format_value(fig.unit, fig.value) if fig.state == "ok" else fig.note
            self.definition.setText(f"<b>{fig.title}: {value}</b> — {fig.definition}.")
        if changed or not keep_rows:
            self._rows = []
            self.rows_model.set_rows([])
            self.rows_label.setText("Click a point of the chart to see the documents behind it."
                                    if fig is not None and fig.state == "ok" else "")
        self._set_export_enabled()

    def _set_export_enabled(self) -> None:
        fig = self.figure(self.selected)
        ok = fig is not None and fig.state == "ok"
        self.png_button.setEnabled(ok)
        self.csv_button.setEnabled(ok)
        self.all_rows_button.setEnabled(ok and self.scope is not None)
        self.rows_csv_button.setEnabled(bool(self._rows))

    # --- drill-down -------------------------------------------------------------------------

    def show_rows(self, bucket: str, group: str) -> None:
        scope, key = self.scope, self.selected
        if scope is None or not key:
            return
        fig = self.figure(key)
        where = _label(bucket) if bucket else "the whole period"
        if group and fig is not None:
            where += " · " + next((g.label for g in fig.groups if g.key == group), group)
        self.rows_label.setText(f"Loading the rows behind {where}…")

        def work(session: Session) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
            rows, total = drill(session, key, scope, bucket, group)
            return rows, total, dimension_labels(session, "warehouse", [])

        def done(result: tuple[list[dict[str, Any]], int, dict[str, str]]) -> None:
            rows, total, _names = result
            self._rows = rows
            self._drill_what = f"{key}-{bucket or 'period'}"
            self.rows_model.columns = row_columns(fig.unit if fig else "money")
            self.rows_model.set_rows(rows)
            bad = sum(1 for r in rows if r["bad"])
            shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
            title = fig.title if fig else key
            some = f"{bad} of the {len(rows)} shown" if total > len(rows) else f"{bad}"
            self.rows_label.setText(f"{title}, {where}: {shown} rows; {some} hurt the figure (highlighted, first)."
                                    if total else f"{title}, {where}: no rows behind this point.")
            self._set_export_enabled()

        self.ctx.runner.submit(work, done, on_error=lambda e: self.rows_label.setText(str(e)), write=False,
                               label="KPI rows", latest=(id(self), "rows"))

    # --- exports ----------------------------------------------------------------------------

    def export_png(self, path: Path) -> None:
        self.chart.save_png(path)
        self.status.setText(f"Chart saved to {path}")

    def export_csv(self, path: Path) -> None:
        fig = self.figure(self.selected)
        path.write_text(figures_csv([fig] if fig else []), encoding="utf-8")
        self.status.setText(f"Data saved to {path}")

    def export_rows_csv(self, path: Path) -> None:
        path.write_text(rows_csv(self._rows), encoding="utf-8")
        self.status.setText(f"{len(self._rows)} rows saved to {path}")

    def _ask(self, what: str, suffix: str, default: str) -> Path | None:
        name, _f = QFileDialog.getSaveFileName(self, what, str(Path.home() / default), f"*{suffix}")
        return Path(name) if name else None

    def _ask_png(self) -> None:
        self._export(self.export_png, self._ask("Save the chart", ".png", f"{self.selected}.png"))

    def _ask_csv(self) -> None:
        self._export(self.export_csv, self._ask("Save the chart's data", ".csv", f"{self.selected}.csv"))

    def _ask_rows_csv(self) -> None:
        self._export(self.export_rows_csv, self._ask("Save the rows", ".csv", f"{self._drill_what}-rows.csv"))

    def _export(self, fn: Any, path: Path | None) -> None:
        if path is None:
            return
        try:
            fn(path)
        except OSError as e:
            self.status.setText(f"Could not save {path}: {e.strerror or e}")
