"""A scan station: what to scan next, a scan field that keeps the focus, and the answer in big
letters on green (taken), red (refused, with a beep) or grey (a prompt). Dispatch's Picking and
Packing tabs are both one, so a picker and a packer meet the same field and the same colours.

A barcode scanner types like a keyboard and ends with Enter; whatever else in the owning tab is
clicked, the next key goes to the field again (``keep_focus``), except while a list the user is
choosing from is open.

Signals: entered(str): Enter pressed, with the text (may be empty: "all of it").
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QVBoxLayout, QWidget

# sizes in the style sheets: the application's style sheet sets every label's font, so a QFont
# given to the label is lost (the Packing tab's feedback came out in the body size)
_BIG = "font-size: 22pt; font-weight: bold; padding: 14px; border-radius: 6px;"
OK_CSS = f"background: #1e7b34; color: white; {_BIG}"
BAD_CSS = f"background: #b3261e; color: white; {_BIG}"
IDLE_CSS = f"background: #e8eef4; color: #1f2d3d; {_BIG}"
PROMPT_CSS = "font-size: 16pt; font-weight: bold;"
SCAN_CSS = "font-size: 20pt; padding: 4px;"


class ScanField(QLineEdit):
    """Signals:
    entered(str): Enter pressed, with the text.
    """

    entered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("scan here (the field keeps the focus)")
        self.setStyleSheet(SCAN_CSS)
        self.setMinimumHeight(52)
        self.returnPressed.connect(lambda: self.entered.emit(self.text()))


class ScanStation(QWidget):
    """The prompt, the field and the feedback of a scanning tab; ``name`` prefixes their object
    names (``pickScan``, ``pickFeedback``; the prompt is ``prompt_name``).

    Signals:
    entered(str): a scan (Enter in the field).
    """

    entered = Signal(str)

    def __init__(self, name: str, prompt: str, *, prompt_name: str = "", feedback_height: int = 110,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QLabel(prompt)
        self.prompt.setObjectName(prompt_name or f"{name}Prompt")
        self.prompt.setStyleSheet(PROMPT_CSS)
        self.prompt.setWordWrap(True)
        self.scan = ScanField()
        self.scan.setObjectName(f"{name}Scan")
        self.feedback = QLabel("")
        self.feedback.setObjectName(f"{name}Feedback")
        self.feedback.setWordWrap(True)
        self.feedback.setMinimumHeight(feedback_height)
        self.feedback.setStyleSheet(IDLE_CSS)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.prompt)
        lay.addWidget(self.scan)
        lay.addWidget(self.feedback)
        self._owner: QWidget | None = None
        self._choosing: Callable[[QWidget], bool] = lambda _w: False
        self.scan.entered.connect(self.entered)

    def show_answer(self, text: str, ok: bool | None, *, beep: bool = False) -> None:
        """Green (``ok``), red with a beep (not ``ok``), grey (``None``: a prompt; ``beep`` when it
        asks for something, as a serial number)."""
        self.feedback.setText(text)
        self.feedback.setStyleSheet(IDLE_CSS if ok is None else OK_CSS if ok else BAD_CSS)
        if ok is False or beep:
            QApplication.beep()

    def focus(self) -> None:
        if self.scan.isEnabled():
            self.scan.setFocus(Qt.FocusReason.OtherFocusReason)

    def disable(self, why: str) -> None:
        """This user may not scan here: the field off, the reason where the answers go."""
        self.scan.setEnabled(False)
        self.show_answer(why, None)

    def keep_focus(self, owner: QWidget, choosing: Callable[[QWidget], bool]) -> None:
        """Give the focus back to the field whenever something else inside ``owner`` takes it,
        unless ``choosing(new)`` (the user is picking from a list)."""
        self._owner, self._choosing = owner, choosing
        app = QApplication.instance()
        if isinstance(app, QApplication):  # a bound slot: disconnected when this widget goes
            app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        owner = self._owner
        if owner is None or new is None or new is self.scan or not owner.isVisible() or not owner.isAncestorOf(new):
            return
        if self._choosing(new):
            return
        QTimer.singleShot(0, self, self.focus)
