"""Help for the person at the desk: the keyboard-shortcut overlay (F1), "About Depot", and
"Copy diagnostics" (Ctrl+Shift+F1) for a support request.

The overlay lists what the window really has, not a hand-kept table: the window's actions (every
screen's Ctrl+number, Find, Refresh, Sign out, these help actions) and the shortcuts of the screen
that is open (its actions, QShortcuts and buttons with a shortcut, each named with its tab), so a
screen that adds a key shows up without touching this module; a screen makes its QShortcuts with
``app.views.widgets.keys.shortcut``, which says what the key does. Diagnostics are built on a reader thread (they read the
database) and put on the clipboard; the text holds no secret (``app.services.diagnostics``).
"""

from __future__ import annotations

from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import version_line
from app.services import schema
from app.services.paths import user_data_dir


def _text(seq: QKeySequence) -> str:
    return seq.toString(QKeySequence.SequenceFormat.NativeText)


def shortcuts_of(window: QWidget, screen: QWidget | None) -> list[tuple[str, str, str]]:
    """(where, key, what) for every shortcut the window and the open screen have, window first.

    The window's disabled actions are left out: the rail's key of a screen the user's roles may
    not open does nothing, so the overlay does not offer it."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(where: str, seq: QKeySequence, what: str) -> None:
        key, what = _text(seq), what.replace("&", "").strip()
        if key and what and (where, key, what) not in seen:
            seen.add((where, key, what))
            rows.append((where, key, what))

    for act in window.actions():
        if not act.isEnabled():  # a screen the signed-in roles may not open has its key disabled
            continue
        for seq in act.shortcuts():
            add("Window", seq, act.text())
    if screen is not None:
        title = screen.windowTitle() or "This screen"
        for act in screen.findChildren(QAction):
            if act.isVisible():
                for seq in act.shortcuts():
                    add(where_of(title, act.parent(), screen), seq, act.text() or act.toolTip())
        for sc in screen.findChildren(QShortcut):  # made by app.views.widgets.keys.shortcut: it says what
            add(where_of(title, sc.parent(), screen), sc.key(), sc.whatsThis() or sc.objectName())
        for btn in screen.findChildren(QAbstractButton):
            if not btn.shortcut().isEmpty():
                add(where_of(title, btn, screen), btn.shortcut(), btn.text() or btn.toolTip())
    return rows


def where_of(title: str, obj: object, screen: QWidget) -> str:
    """The screen's title, and the tab a key belongs to ("Dispatch > Packing"): tabs of one screen
    reuse keys (F6, Escape, Alt+S), each meaning something on its own tab."""
    tabs: list[str] = []
    w = obj if isinstance(obj, QWidget) else None
    while w is not None and w is not screen:
        parent = w.parentWidget()
        holder = parent.parentWidget() if parent is not None else None
        if isinstance(holder, QTabWidget) and holder.indexOf(w) >= 0:
            tabs.append(holder.tabText(holder.indexOf(w)).replace("&", "").strip())
        w = parent
    return " > ".join([title, *reversed(tabs)])


class ShortcutsDialog(QDialog):
    """The F1 overlay: every shortcut of the window and of the open screen, Escape closes it."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Depot - keyboard shortcuts")
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Every action has a key. Scan fields take a barcode scanner as typing."))
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(620, min(640, 120 + 26 * len(rows)))


def about_text(engine: Any) -> str:
    try:
        heads = ", ".join(sorted(schema.db_heads(engine))) if engine is not None else "-"
    except Exception:  # noqa: BLE001 - the about box must open whatever the file says
        heads = "unreadable"
    db = engine.url.database if engine is not None else "-"
    return (f"<h3>{version_line()}</h3>"
            "<p>Back office for wholesale distributors: buying, receiving, stock, orders, dispatch and "
            "tracking on a branch database that replicates with the company's server.</p>"
            f"<p>Database: {db}<br>Schema: {heads}<br>Data folder: {user_data_dir()}<br>"
            f"Qt {qVersion()}, PySide6 {pyside_version}</p>"
            "<p>F1 lists the keyboard shortcuts; Ctrl+Shift+F1 copies the diagnostics for a support request.</p>")


class HelpActions:
    """The window's help actions (F1, Ctrl+Shift+F1, About), added to it by ``install``."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.shortcuts = QAction("Keyboard shortcuts", window)
        self.shortcuts.setShortcut(QKeySequence(Qt.Key.Key_F1))
        self.shortcuts.triggered.connect(self.show_shortcuts)
        self.copy = QAction("Copy diagnostics", window)
        self.copy.setShortcut(QKeySequence("Ctrl+Shift+F1"))
        self.copy.triggered.connect(self.copy_diagnostics)
        self.about = QAction("About Depot", window)
        self.about.triggered.connect(self.show_about)
        for a in (self.shortcuts, self.copy, self.about):
            window.addAction(a)
        self.dialog: ShortcutsDialog | None = None

    def show_shortcuts(self) -> ShortcutsDialog:
        self.dialog = ShortcutsDialog(shortcuts_of(self.window, self.window.current_screen()), self.window)
        self.dialog.show()
        return self.dialog

    def show_about(self) -> None:
        box = QMessageBox(self.window)
        box.setObjectName("aboutBox")
        box.setWindowTitle("About Depot")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_text(self.window.ctx.engine))
        box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
        box.show()

    def copy_diagnostics(self) -> None:
        ctx = self.window.ctx
        extra = {"Qt": qVersion(), "PySide6": pyside_version, "user": ctx.actor.username}
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            extra["screen"] = f"{screen.size().width()}x{screen.size().height()} @ {screen.devicePixelRatio():g}"

        def done(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.window.show_message("Diagnostics copied: paste them into your support request (no passwords)")

        def build() -> str:
            from app.services import diagnostics  # reads the sync state (psycopg): not at start-up

            return diagnostics.report(ctx.engine, ctx.settings, extra=extra)

        ctx.runner.submit_io(build, done, label="diagnostics")


def help_button(actions: HelpActions) -> QPushButton:
    """A small "Help" button for the status bar with the three actions in its menu."""
    btn = QPushButton("Help")
    btn.setObjectName("helpButton")
    btn.setFlat(True)
    menu = QMenu(btn)
    for a in (actions.shortcuts, actions.copy, actions.about):
        menu.addAction(a)
    btn.setMenu(menu)
    btn.setToolTip("Keyboard shortcuts (F1), copy diagnostics (Ctrl+Shift+F1), about Depot")
    return btn
