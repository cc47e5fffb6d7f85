"""The status bar's message line: one line that is cut with "…" when the bar is narrower than the
text (the whole text in its tooltip), instead of being clipped mid-word.

Seen on the installed program in a 1280-pixel window: "Diagnostics copied: paste them into your
support request (no passwords are incluc" - the permanent widgets (branch, user, sync, Help) leave
the message about 560 pixels, and a QLabel clips what does not fit without a sign.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class StatusLabel(QLabel):
    """``text()`` is the whole message; ``shown_text()`` what fits, ending in "…" when cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        # never widen the status bar for a long message: take what the permanent widgets leave
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setToolTip(text)

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())
        painter.end()


class ElidedLabel(StatusLabel):
    """A one-line label that asks for its whole text but gives way when the window is narrow, cut with
    "…" (the whole text in its tooltip): the status bar's branch, user and sync labels, and a screen's
    one-line status. A plain QLabel's minimum is its whole text, so a long sync error ("offline: could
    not connect to ...") or a long note made the whole window wider than a 1,024-pixel screen."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_width: int = 60) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._min_width = min_width

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self._min_width), hint.height())
