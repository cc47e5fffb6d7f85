"""Pages shown in place of a screen: "not built yet" (plainly) or an import error (never hidden)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

#: which issue brings each area's screen (shown on its "not built yet" page)
COMING_IN: dict[str, str] = {
    "buying": "issue 4 (Buying: replenishment, requisitions, approvals, purchase orders)",
    "receiving": "issue 5 (Receiving and inventory)",
    "inventory": "issue 5 (Receiving and inventory)",
    "sync": "issue 3 (Replication)",
}
LATER = "a later issue (not filed yet)"


class NotBuiltPage(QWidget):
    """A plain page: '<Title> is not built yet' and which issue will bring it."""

    def __init__(self, key: str, title: str, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notBuiltPage")
        self.message = f"{title} is not built yet"
        self.detail = f"It will come with {COMING_IN.get(key, LATER)}. (Screen {target} does not exist in this build.)"
        head = QLabel(self.message)
        head.setObjectName("pageTitle")
        body = QLabel(self.detail)
        body.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        for w in (head, body):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(w)
        lay.addStretch(2)


class ErrorPage(QWidget):
    """The screen exists but failed to load: say so and show the traceback for the log/bug report."""

    def __init__(self, title: str, target: str, error: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorPage")
        self.message = f"{title} could not be opened: {error.strip().splitlines()[-1] if error.strip() else 'error'}"
        head = QLabel(self.message)
        head.setObjectName("pageError")
        head.setWordWrap(True)
        text = QPlainTextEdit(f"{target}\n\n{error}")
        text.setReadOnly(True)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addWidget(text, 1)
