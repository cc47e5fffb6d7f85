"""The dialog for an unexpected error: one sentence, where the report is, "Copy details".

The window keeps running after it: the op that failed was rolled back, and a slot that raised
only lost its own work. Several errors in a burst open one dialog; the rest go to the report
files (and the status bar) so a loop of failures never buries the window in dialogs.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from app.services.crashlog import InternalError


class InternalErrorDialog(QMessageBox):
    """Signals: none (a modal box). ``copy_button`` puts the details on the clipboard and leaves
    the box open, so the user can paste them into a mail while reading it."""

    _open: InternalErrorDialog | None = None

    def __init__(self, err: InternalError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.err = err
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("Depot - internal error")
        self.setText("Something went wrong inside Depot. Nothing was half-saved: the action that failed was "
                     "undone, and you can keep working.")
        where = f"The details were saved to:\n{err.path}" if err.path else "The details could not be saved to a file."
        self.setInformativeText(f"{err.summary}\n\n{where}\n\nPlease send them to your administrator "
                                f"(Copy details puts them on the clipboard).")
        self.setDetailedText(err.details)
        self.copy_button: QPushButton = self.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        self.copy_button.clicked.disconnect()  # an ActionRole button would close the box
        self.copy_button.clicked.connect(self.copy_details)
        self.close_button = self.addButton(QMessageBox.StandardButton.Close)
        self.setDefaultButton(self.close_button)

    def copy_details(self) -> None:
        text = (f"{self.err}\n\n{self.err.details}" if self.err.details else str(self.err))
        QApplication.clipboard().setText(text)
        self.copy_button.setText("Copied")

    @classmethod
    def show_error(cls, err: InternalError, parent: QWidget | None = None) -> InternalErrorDialog | None:
        """Show the dialog (not blocking), unless one is already open; returns it."""
        if cls._open is not None and cls._open.isVisible():
            return None
        box = cls(err, parent)
        box.setModal(True)
        box.finished.connect(lambda _r: setattr(cls, "_open", None))
        cls._open = box
        box.open()
        return box
