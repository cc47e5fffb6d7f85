"""A tile per KPI: its title, the period's figure against the target (green when met, red when
not), a small trend line drawn with QPainter (cheap enough for twenty tiles), or the reason
there is no figure ("no data: dispatch not in use").

Signals: clicked(str key).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app.services.kpi.compute import Figure
from app.services.kpi.export import format_value

GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#333333"


class Sparkline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float | None] = []
        self.target: float | None = None
        self.setMinimumHeight(26)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        vals = [v for v in self.values if v is not None]
        if len(vals) < 1:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width() - 4, self.height() - 4
        lo = min(vals + ([self.target] if self.target is not None else []))
        hi = max(vals + ([self.target] if self.target is not None else []))
        span = (hi - lo) or 1.0
        n = max(len(self.values) - 1, 1)

        def pt(i: int, v: float) -> QPointF:
            return QPointF(2 + w * i / n, 2 + h - h * (v - lo) / span)

        if self.target is not None:
            p.setPen(QPen(QColor("#c62828"), 1, Qt.PenStyle.DotLine))
            p.drawLine(pt(0, self.target), pt(n, self.target))
        p.setPen(QPen(QColor("#1f6fb2"), 1.6))
        prev: QPointF | None = None
        for i, v in enumerate(self.values):
            if v is None:
                prev = None
                continue
            cur = pt(i, v)
            if prev is not None:
                p.drawLine(prev, cur)
            else:
                p.drawEllipse(cur, 1.5, 1.5)
            prev = cur
        p.end()


class KpiTile(QFrame):
    clicked = Signal(str)

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("kpiTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumWidth(170)
        self.title = QLabel()
        self.title.setObjectName("kpiTileTitle")
        self.value = QLabel()
        self.value.setObjectName("kpiTileValue")
        self.value.setWordWrap(True)
        self.sub = QLabel()
        self.sub.setObjectName("kpiTileSub")
        self.sub.setWordWrap(True)
        self.spark = Sparkline()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        lay.addWidget(self.sub)
        lay.addWidget(self.spark)
        self.set_selected(False)

    def set_figure(self, fig: Figure) -> None:
        self.title.setText(fig.title)
        self.setToolTip(fig.definition)
        if fig.state != "ok":
            self.value.setText(fig.note[:1].upper() + fig.note[1:] if fig.note else "No data")
            self.value.setStyleSheet("color: #777; font-size: 9pt;")
            self.sub.setText(f"target {format_value(fig.unit, fig.target)}" if fig.target is not None else "")
            self.spark.values, self.spark.target = [], None
        else:
            met = fig.meets_target
            color = NEUTRAL if met is None else GOOD if met else BAD
            self.value.setText(format_value(fig.unit, fig.value))
            self.value.setStyleSheet(f"color: {color}; font-size: 15pt; font-weight: 600;")
            parts = []
            if fig.target is not None:
                parts.append(f"target {format_value(fig.unit, fig.target)}")
            if fig.note:
                parts.append(fig.note)
            self.sub.setText(" · ".join(parts))
            self.spark.values = [p.value for p in fig.series]
            self.spark.target = fig.target
        self.spark.update()

    def set_selected(self, on: bool) -> None:
        self.setStyleSheet("#kpiTile { border: 2px solid %s; border-radius: 4px; background: %s; }"
                           % (("#1f6fb2", "#eef4fb") if on else ("#d0d0d0", "#ffffff")))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.key)
        super().mousePressEvent(event)
