"""The main window: navigation rail, the screen stack, and the status bar.

Screens are imported lazily from app.views.screens.NAV ("module:Class") the first time they
are opened, so start-up pays only for the first screen. A module that does not exist yet
gives a plain "not built yet" page; any other failure gives an error page with the
traceback (never hidden). Entries the actor's roles may not open are disabled.
"""

from __future__ import annotations

import importlib
import time
import traceback
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QToolButton,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import masterdata
from app.services.auth import home_screen
from app.services.crashlog import InternalError
from app.services.db import local_branch_id
from app.views.context import AppContext
from app.views.help import HelpActions, help_button
from app.views.placeholder import ErrorPage, NotBuiltPage
from app.views.screens import NAV, NavEntry
from app.views.widgets.internal_error import InternalErrorDialog
from app.views.widgets.layout_memory import fit_to_screen, remember_splitters
from app.views.widgets.qsettings import qsettings
from app.views.widgets.status_label import ElidedLabel, StatusLabel


def load_screen_class(target: str) -> type[Any] | None:
    """Import ``"module:Class"``; None when the module (or its package) does not exist yet.

    Any other error (a missing import *inside* an existing module, a syntax error, a missing
    class) propagates so the caller shows it.
    """
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            return None
        raise
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise ImportError(f"{module_name} has no class {cls_name}")
    return cls  # type: ignore[no-any-return]


def allowed(ctx: AppContext, entry: NavEntry) -> bool:
    try:
        return ctx.can(entry.permission)
    except KeyError:
        return "admin" in ctx.actor.roles


class MainWindow(QMainWindow):
    """Signals:
    first_painted(float): time.time() of the first paint (the cold-start benchmark's mark).
    screen_opened(str): the nav key of the screen now shown.
    """

    first_painted = Signal(float)
    screen_opened = Signal(str)
    #: the user chose Sign out / switch user: the window closes and the sign-in dialog comes back
    sign_out_requested = Signal()
    #: how long a note (not an error) stays in the message area
    MESSAGE_MS = 8000

    def __init__(self, ctx: AppContext, *, open_key: str | None = None, defer_first_screen: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"Depot - {ctx.actor.username}")
        self._painted = False
        self.pages: dict[str, QWidget] = {}
        self.entries = {e.key: e for e in NAV}
        self.actions_by_key: dict[str, QAction] = {}
        self.signing_out = False

        self.nav = QListWidget()
        self.nav.setObjectName("navRail")
        self.nav.setFixedWidth(170)
        self.stack = QStackedWidget()
        self.stack.setObjectName("screenStack")
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.nav)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_nav()
        self._build_status_bar()
        self._build_shortcuts()
        #: the sync job's runner once the background jobs started (it feeds the sync label)
        self.sync_controller: Any = None
        self._connect_signals()
        self._restore_layout()
        self._load_branch_name()
        start = open_key or str(qsettings().value(self._screen_key(), home_screen(ctx.actor.roles)))
        if start not in self.entries or not allowed(ctx, self.entries[start]):
            start = next((e.key for e in NAV if allowed(ctx, e)), NAV[0].key)
        if defer_first_screen:
            # paint the frame first; build the first screen in the event-loop turn after that.
            # Mark its rail entry now, or the rail would pick its first row on focus-in.
            self.nav.blockSignals(True)
            self.nav.setCurrentRow([e.key for e in NAV].index(start))
            self.nav.blockSignals(False)
            self.first_painted.connect(lambda _t: QTimer.singleShot(0, self, lambda: self.open_screen(start)))
        else:
            self.open_screen(start)

    # construction ----------------------------------------------------------------------
    def _build_nav(self) -> None:
        for entry in NAV:
            item = QListWidgetItem(f"{entry.title}")
            item.setData(Qt.ItemDataRole.UserRole, entry.key)
            item.setToolTip(f"{entry.title} ({entry.shortcut})")
            act = QAction(entry.title, self)
            act.setShortcut(QKeySequence(entry.shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _=False, k=entry.key: self.open_screen(k))
            ok = allowed(self.ctx, entry)
            act.setEnabled(ok)
            if not ok:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(f"{entry.title}: your roles ({', '.join(sorted(self.ctx.actor.roles))}) may not open this")
            self.addAction(act)
            self.actions_by_key[entry.key] = act
            self.nav.addItem(item)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.message_label = StatusLabel("")
        self.message_label.setObjectName("messageLabel")
        # the permanent labels give way (cut with "…", whole in the tooltip) on a narrow screen
        self.branch_label = ElidedLabel("branch: ...", min_width=90)
        self.branch_label.setObjectName("branchLabel")
        roles = ", ".join(sorted(self.ctx.actor.roles))
        self.user_label = ElidedLabel(f"user: {self.ctx.actor.username} ({roles})", min_width=90)
        self.user_label.setObjectName("userLabel")
        self.sign_out_button = QToolButton()
        self.sign_out_button.setObjectName("signOut")
        self.sign_out_button.setText("Sign out")
        self.sign_out_button.setToolTip("Sign out or switch user (Ctrl+Shift+L): the next shift signs in without "
                                        "restarting Depot")
        self.sign_out_button.setAutoRaise(True)
        self.help = HelpActions(self)  # F1 shortcuts, Ctrl+Shift+F1 diagnostics, About
        self.help_button = help_button(self.help)
        self.sync_label = ElidedLabel("sync: not configured", min_width=90)
        self.sync_label.setObjectName("syncLabel")
        self.busy = QProgressBar()
        self.busy.setObjectName("busyIndicator")
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(80)
        self.busy.setVisible(False)
        sb.addWidget(self.message_label, 1)
        for w in (self.busy, self.branch_label, self.user_label, self.sign_out_button, self.sync_label, self.help_button):
            sb.addPermanentWidget(w)

    def _build_shortcuts(self) -> None:
        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence(Qt.Key.Key_F5))
        refresh.triggered.connect(self.refresh_screen)
        self.sign_out_action = QAction("Sign out / switch user", self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.sign_out_action.triggered.connect(self.sign_out)
        for a in (find, refresh, self.sign_out_action):
            self.addAction(a)

    @property
    def painted(self) -> bool:
        return self._painted

    def job_started(self, name: str, runner: Any) -> None:
        """A background job started (``BackgroundJobs.runner_started``): the sync one feeds the label."""
        if name == "sync":
            self.sync_controller = runner
            self.sync_label.setText("sync: starting...")
            runner.state_changed.connect(self.sync_label.setText)

    def sign_out(self) -> None:
        """Finish what is running (a write never half-done), say so, and hand back to the sign-in."""
        self.show_message(f"Signing out {self.ctx.actor.username}…")
        self.ctx.runner.wait_idle(10_000)
        self.signing_out = True
        self.sign_out_requested.emit()
        self.close()

    def _connect_signals(self) -> None:
        self.sign_out_button.clicked.connect(self.sign_out)
        self.nav.currentItemChanged.connect(self._on_nav_changed)
        self.ctx.signals.busy_changed.connect(self.busy.setVisible)
        self.ctx.signals.op_failed.connect(self.show_error)
        self.ctx.signals.message.connect(self.show_message)
        self.ctx.signals.internal_error.connect(self.show_internal_error)

    # navigation ------------------------------------------------------------------------
    def _on_nav_changed(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if current is not None:
            self.open_screen(str(current.data(Qt.ItemDataRole.UserRole)))

    def open_screen(self, key: str) -> QWidget | None:
        entry = self.entries.get(key)
        if entry is None or not allowed(self.ctx, entry):
            return None
        page = self.pages.get(key)
        if page is None:
            page = self._make_page(entry)
            self.pages[key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        row = [e.key for e in NAV].index(key)
        if self.nav.currentRow() != row:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        qsettings().setValue(self._screen_key(), key)
        self.screen_opened.emit(key)
        return page

    def _screen_key(self) -> str:
        """Where the last screen is kept: per user, since a clerk and a dispatcher share a workstation."""
        return f"window/screen/{self.ctx.actor.username}"

    def _make_page(self, entry: NavEntry) -> QWidget:
        try:
            cls = load_screen_class(entry.target)
            if cls is None:
                return NotBuiltPage(entry.key, entry.title, entry.target)
            page = cls(self.ctx)
            if not isinstance(page, QWidget):
                raise TypeError(f"{entry.target} is not a QWidget")
            if not page.windowTitle():
                page.setWindowTitle(entry.title)  # names the screen's keys in the F1 overlay
            remember_splitters(page, entry.key)  # every screen's splitters keep where the user left them
            return page
        except Exception:  # noqa: BLE001 - shown on the page, never hidden
            tb = traceback.format_exc()
            traceback.print_exc()
            return ErrorPage(entry.title, entry.target, tb)

    def current_screen(self) -> QWidget | None:
        return self.stack.currentWidget()

    def focus_search(self) -> None:
        fn = getattr(self.current_screen(), "focus_search", None)
        if callable(fn):
            fn()

    def refresh_screen(self) -> None:
        fn = getattr(self.current_screen(), "refresh", None)
        if callable(fn):
            fn()

    # status -----------------------------------------------------------------------------
    def show_error(self, label: str, text: str) -> None:
        self.message_label.setProperty("error", True)
        self.message_label.setStyleSheet("color: #b00020;")
        self.message_label.setText(f"{label}: {text}" if label else text)
        self.message_label.setToolTip(self.message_label.text())

    def show_internal_error(self, err: InternalError) -> None:
        """An unexpected error (already in its report file): the dialog, and the line in the status bar."""
        self.show_error("", str(err))
        InternalErrorDialog.show_error(err, self)

    def show_message(self, text: str) -> None:
        self.message_label.setStyleSheet("")
        self.message_label.setText(text)
        label = self.message_label

        def clear() -> None:
            if label.text() == text:
                label.setText("")

        # the label is the timer's context: a window closed within MESSAGE_MS drops the timer
        # instead of clearing a deleted label
        QTimer.singleShot(self.MESSAGE_MS, label, clear)

    def _load_branch_name(self) -> None:
        branch_id = self.ctx.actor.branch_id

        def query(s: Session) -> str:
            return "branch: " + masterdata.status_branch(s, branch_id, local_branch_id(s))

        self.ctx.runner.submit(query, self.branch_label.setText, write=False, label="branch")

    # layout memory ------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = qsettings()
        geo, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geo, QByteArray | bytes) and geo:
            self.restoreGeometry(QByteArray(geo))
        else:
            self._first_size()
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))

    def _first_size(self) -> None:
        """No saved geometry yet: 1280 x 800 within the screen's free area, placed at its corner."""
        free = fit_to_screen(self, 1280, 800)
        if free is not None:
            self.move(free.topLeft())  # not maximized: a later resize (or the user's) must still take effect

    def save_layout(self) -> None:
        s = qsettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        for page in self.pages.values():
            close = getattr(page, "shutdown", None)
            if callable(close):
                close()
        if self.ctx.jobs is not None:
            self.ctx.jobs.stop()
        self.ctx.runner.shutdown(3000)
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit(time.time())
