"""One KPI's chart: its trend per bucket (a line for rates and times, bars for counts and money),
one line per group when split (branches side by side), the target as a dashed line, the value
under the mouse as a tooltip, and a click on a point asking for the rows behind it.

Signals: point_clicked(str bucket, str group_key).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.services.kpi.compute import Figure, Point
from app.services.kpi.export import format_value

PALETTE = ("#1f6fb2", "#d9822b", "#2e9e5b", "#b23a48", "#7a4fb5", "#8c6d1f", "#2a9d9d", "#c2569b")
BAR_UNITS = ("count", "money")

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


def _label(bucket: str) -> str:
    """'2026-03' -> 'Mar 26'; a week's Monday '2026-03-02' -> '2 Mar'."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    if len(bucket) == 7:
        return f"{months[int(bucket[5:7]) - 1]} {bucket[2:4]}"
    return f"{int(bucket[8:10])} {months[int(bucket[5:7]) - 1]}"



#: what a unit key reads as beside a chart's title ('' = nothing: an amount is in the company's
#: currency, as on the tiles, and a count needs no word)
UNIT_WORDS = {"%": "%", "days": "days", "hours": "hours", "x": "turns a year", "money": "", "count": ""}


def chart_title(title: str, unit: str) -> str:
    """'Freight per shipment', 'Fill rate (lines) (%)', 'Inventory turns (turns a year)': never the
    unit's key ('(money)')."""
    word = UNIT_WORDS.get(unit, unit)
    return f"{title} ({word})" if word else title


class _Plot(pg.PlotWidget):  # type: ignore[misc]
    """The plot, telling its chart when it has painted figures."""

    def __init__(self, chart: KpiChart) -> None:
        super().__init__()
        self._chart = chart

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self._chart.figure is not None:
            self._chart._painted = True


class KpiChart(QWidget):
    point_clicked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiChart")
        self.plot = _Plot(self)
        self.plot.setObjectName("kpiPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.getPlotItem().addLegend(offset=(-10, 5))
        self.figure: Figure | None = None
        self._painted = False
        #: what is drawn, for tests: (group key, [(bucket, value)])
        self.drawn: list[tuple[str, list[tuple[str, float]]]] = []
        self._buckets: list[str] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    #: the room one month's label needs on the time axis ("Mar 26" and a gap)
    TICK_PX = 58

    def _set_ticks(self) -> None:
        """At most 12 labels, and fewer on a narrow chart (a 1,024-px screen): they never overlap."""
        fit = max(2, self.plot.width() // self.TICK_PX) if self.plot.width() > 0 else 12
        step = max(1, math.ceil(len(self._buckets) / min(12, fit)))
        self.plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i, _label(b)) for i, b in enumerate(self._buckets) if i % step == 0]])

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._buckets:
            self._set_ticks()

    def painted_figure(self) -> bool:
        """Whether the plot has painted a figure since it was last given one (the benchmark's stop)."""
        return self._painted

    def show_figure(self, fig: Figure | None) -> None:
        self._painted = False
        self.figure = fig
        item = self.plot.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        self.drawn = []
        self._buckets = []
        if fig is None or not fig.series:
            self.plot.setTitle("")
            return
        self.plot.setTitle(chart_title(fig.title, fig.unit), color="#333", size="11pt")
        self._buckets = [p.bucket for p in fig.series]
        self._set_ticks()
        lines = [("", "All" if fig.groups else fig.title, fig.series)] if not fig.groups else \
            [(g.key, g.label, g.series) for g in fig.groups]
        bars = fig.unit in BAR_UNITS and not fig.groups
        for n, (key, label, series) in enumerate(lines):
            color = QColor(PALETTE[n % len(PALETTE)])
            xs = [i for i, p in enumerate(series) if p.value is not None]
            ys = [float(p.value) for p in series if p.value is not None]
            self.drawn.append((key, [(series[i].bucket, float(series[i].value or 0)) for i in xs]))
            if not xs:
                continue
            if bars:
                item.addItem(pg.BarGraphItem(x=xs, height=ys, width=0.6, brush=color.lighter(130), pen=color))
            else:
                yfull = [float(p.value) if p.value is not None else float("nan") for p in series]
                item.addItem(pg.PlotDataItem(list(range(len(series))), yfull, pen=pg.mkPen(color, width=2),
                                             connect="finite", name=label if fig.groups else None))
            spots = [{"pos": (x, y), "data": (series[x].bucket, key, label)} for x, y in zip(xs, ys, strict=True)]
            scatter = pg.ScatterPlotItem(spots=spots, size=9, brush=color, pen=pg.mkPen("w"), hoverable=True,
                                         hoverSize=13, tip=self._tip)
            scatter.sigClicked.connect(self._clicked)
            item.addItem(scatter)
        if fig.target is not None:
            target = pg.InfiniteLine(pos=fig.target, angle=0, pen=pg.mkPen("#b23a48", width=1, style=Qt.PenStyle.DashLine),
                                     label=f"target {format_value(fig.unit, fig.target)}",
                                     labelOpts={"position": 0.02, "color": "#b23a48", "anchors": [(0, 1), (0, 1)]})
            item.addItem(target)
        lo, hi = _y_range(fig, bars)
        item.setYRange(lo, hi, padding=0)
        item.setXRange(-0.5, len(self._buckets) - 0.5, padding=0)

    def _tip(self, x: float, y: float, data: object) -> str:
        fig = self.figure
        if fig is None or not isinstance(data, tuple):
            return ""
        bucket, _key, label = data
        head = f"{label} · " if fig.groups else ""
        return f"{head}{_label(bucket)}: {format_value(fig.unit, y)}\nclick for the rows behind it"

    def _clicked(self, _item: object, points: list[Any], _ev: object = None) -> None:
        if len(points):
            bucket, key, _label_ = points[0].data()
            self.point_clicked.emit(bucket, key)

    def save_png(self, path: Path) -> None:
        """The chart as it is on screen (what the manager sees is what goes in the report)."""
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")


def _y_range(fig: Figure, bars: bool) -> tuple[float, float]:
    """Close around the values and the target (a rate of 96 % against 95 % must show the gap),
    from zero for bars, never past 0..100 for a rate."""
    vals = [p.value for p in fig.series if p.value is not None]
    vals += [p.value for g in fig.groups for p in g.series if p.value is not None]
    if fig.target is not None:
        vals.append(fig.target)
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.2, abs(hi) * 0.02, 0.5)
    lo = 0.0 if bars or lo - pad < 0 else lo - pad
    hi = hi + pad
    if fig.unit == "%":
        hi = min(hi, 100.0)
        lo = min(lo, hi - 1.0)
    return lo, hi


def last_value(series: list[Point]) -> float | None:
    for p in reversed(series):
        if p.value is not None:
            return p.value
    return None
