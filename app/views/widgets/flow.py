"""A row of controls that wraps onto another line when the window is too narrow for all of them.

Why: a screen's toolbar in a ``QHBoxLayout`` asks for the sum of its buttons' widths, and the window
cannot be narrower than its widest screen: eight buttons with their keys ("Accept (Ctrl+Enter)")
made the main window 1,204 px at least, too wide for a 1,024 or 1,152 px office screen. ``FlowRow``
is used like a ``QHBoxLayout`` (``addWidget(w, stretch)``, ``addStretch``, ``addSpacing``): on a wide
window it is one line, spread as before (stretches and stretched widgets take the room left); on a
narrow one the controls that do not fit go to the next line. Its minimum width is its widest control.
A caption (a ``QLabel`` without stretch) never ends a line: it moves down with the field it names; the
controls after a stretch (pushed to the right) move down together and stay on the right.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem


class FlowRow(QLayout):
    def __init__(self, parent: QWidget | None = None, *, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretch: list[int] = []
        self._gap = spacing
        if parent is None:
            self.setContentsMargins(0, 0, 0, 0)

    # the QHBoxLayout-like API -------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        self._items.append(item)
        self._stretch.append(0)
        self.invalidate()

    def addWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt API, with a stretch
        self.addChildWidget(widget)
        self._items.append(QWidgetItem(widget))
        self._stretch.append(stretch)
        self.invalidate()

    def addStretch(self, stretch: int = 1) -> None:  # noqa: N802 - as QBoxLayout
        self._items.append(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum))
        self._stretch.append(max(stretch, 1))
        self.invalidate()

    def addSpacing(self, size: int) -> None:  # noqa: N802 - as QBoxLayout
        self._items.append(QSpacerItem(size, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum))
        self._stretch.append(0)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        if not 0 <= index < len(self._items):
            return None
        self._stretch.pop(index)
        item = self._items.pop(index)
        self.invalidate()
        return item

    def spacing(self) -> int:
        return self._gap

    def setSpacing(self, spacing: int) -> None:  # noqa: N802 - Qt API
        self._gap = spacing
        self.invalidate()

    # sizes ----------------------------------------------------------------------------------
    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return self._place(QRect(0, 0, width, 0), apply=False)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API: everything on one line
        shown = self._shown()
        m = self.contentsMargins()
        width = sum(self._items[i].sizeHint().width() for i in shown) + self._gap * max(len(shown) - 1, 0)
        height = max((self._items[i].sizeHint().height() for i in shown), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API: the widest control, one line high
        shown = self._shown()
        m = self.contentsMargins()
        width = max((self._items[i].minimumSize().width() for i in shown), default=0)
        height = max((self._items[i].sizeHint().height() for i in shown), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._place(rect, apply=True)

    # placing ----------------------------------------------------------------------------------
    def _shown(self) -> list[int]:
        return [i for i, item in enumerate(self._items) if not item.isEmpty() or isinstance(item, QSpacerItem)]

    def _stretches(self, i: int) -> bool:
        return isinstance(self._items[i], QSpacerItem) and self._stretch[i] > 0

    def _caption(self, i: int) -> bool:
        w = self._items[i].widget()
        return isinstance(w, QLabel) and self._stretch[i] == 0 and not w.wordWrap()

    def _lines(self, width: int) -> list[list[int]]:
        lines: list[list[int]] = [[]]
        used = 0
        for i in self._shown():
            w = self._items[i].sizeHint().width()
            line = lines[-1]
            if line and used + self._gap + w > width and not isinstance(self._items[i], QSpacerItem):
                stretch = max((k for k, j in enumerate(line) if self._stretches(j)), default=-1)
                if 0 < stretch < len(line) - 1:  # the group pushed right moves down whole, still on the right
                    moved = line[stretch:]
                    del line[stretch:]
                else:
                    moved = [line.pop()] if len(line) > 1 and self._caption(line[-1]) else []
                while line and isinstance(self._items[line[-1]], QSpacerItem):
                    line.pop()  # a stretch does not end a line
                lines.append(moved)
                line = lines[-1]
                used = sum(self._items[j].sizeHint().width() for j in line) + self._gap * max(len(line) - 1, 0)
            used += (self._gap if line else 0) + w
            line.append(i)
        return [ln for ln in lines if ln]

    @staticmethod
    def _height(item: QLayoutItem, width: int) -> int:
        """A word-wrapped label is as high as its text at the width it got."""
        if item.hasHeightForWidth():
            return max(item.heightForWidth(width), item.minimumSize().height())
        return max(item.sizeHint().height(), item.minimumSize().height())

    def _place(self, rect: QRect, *, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        y = area.y()
        for n, line in enumerate(self._lines(max(area.width(), 1))):
            if n:
                y += self._gap
            widths = [self._items[i].sizeHint().width() for i in line]
            free = area.width() - sum(widths) - self._gap * (len(line) - 1)
            growing = [k for k, i in enumerate(line) if self._stretch[i] > 0]
            if free > 0 and growing:
                total = sum(self._stretch[line[k]] for k in growing)
                for k in growing:
                    widths[k] += free * self._stretch[line[k]] // total
            elif free < 0:  # one control wider than the line: it gives way down to its minimum
                for k, i in enumerate(line):
                    give = min(-free, widths[k] - self._items[i].minimumSize().width())
                    if give > 0:
                        widths[k] -= give
                        free += give
            heights = [self._height(self._items[i], widths[k]) for k, i in enumerate(line)]
            height = max(heights)
            if apply:
                x = area.x()
                for k, i in enumerate(line):
                    item = self._items[i]
                    h = height if item.expandingDirections() & Qt.Orientation.Vertical else heights[k]
                    item.setGeometry(QRect(QPoint(x, y + (height - h) // 2), QSize(widths[k], h)))
                    x += widths[k] + self._gap
            y += height
        return y - area.y() + m.top() + m.bottom()
