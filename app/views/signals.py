"""The application's signals, declared in one place.

Screens never talk to each other directly: after an op commits, the runner emits
``AppSignals.data_changed`` with the kinds of data it touched, and every screen refreshes
only what concerns it (Anki's ``on_op_finished``; qutebrowser's ``utils/message``).

The kinds are ``app.services.changes.Change`` (a StrEnum, so ``Change.PO == "po"``): derived
from the tables the op's Session flushed (one map, ``changes.TABLES``, shared with sync and the
background jobs), plus any the op declares. A screen keeps the set it shows, e.g.
``REFRESH_KINDS = frozenset({Change.PO, Change.APPROVAL, Change.SYNC})``.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal

from app.services import changes
from app.services.changes import Change


class AppSignals(QObject):
    """Application-wide signals; one instance per window, passed in the AppContext.

    Signals:
        data_changed(object): a frozenset[Change] of kinds, emitted on the GUI thread after an
            op that wrote (or declared) those kinds has committed, or a sync or job brought them.
        busy_changed(bool): True while at least one op is queued or running (status bar).
        message(str): a one-line note for the window's message area (op errors, "saved").
        op_failed(str, str): (label, error text) when an op raised; shown by the window.
        internal_error(object): a ``crashlog.InternalError`` (an unexpected exception, already
            written to its report file); the window shows the "internal error" dialog.
    """

    data_changed = Signal(object)
    busy_changed = Signal(bool)
    message = Signal(str)
    op_failed = Signal(str, str)
    internal_error = Signal(object)

    def emit_changed(self, kinds: Iterable[Change | str]) -> None:
        """Emit data_changed with a frozenset of ``Change`` (a misspelt kind raises at once)."""
        ks = changes.kinds(kinds)
        if ks:
            self.data_changed.emit(ks)
