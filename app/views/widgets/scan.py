"""A line edit for barcode scanners in keyboard-wedge mode.

Scanners type the code fast and finish with Enter; people type slowly and may press Enter
too. Either way, Enter emits ``scanned(code)`` with the trimmed text and selects it, so the
next scan replaces it. ``textEdited`` still fires per keystroke for search-as-you-type.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget


class ScanLineEdit(QLineEdit):
    """Signals:
    scanned(str): the trimmed text when Enter (or keypad Enter) is pressed; not for empty text.
    down_pressed(): the Down arrow, so a list below can take the focus (keyboard-first).
    """

    scanned = Signal(str)
    down_pressed = Signal()

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "Scan or type a code") -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.returnPressed.connect(self._on_return)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)

    def _on_return(self) -> None:
        code = self.text().strip()
        if code:
            self.scanned.emit(code)
            self.selectAll()
