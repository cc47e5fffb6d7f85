"""The application's signals, declared in one place.

Screens never talk to each other directly: after an op commits, the runner emits
``AppSignals.data_changed`` with the kinds of data it touched, and every screen refreshes
only what concerns it (Anki's ``on_op_finished``; qutebrowser's ``utils/message``).

Known kinds (free-form strings; add yours and list them here):
    "item", "stock", "po", "requisition", "receipt", "putaway", "transfer", "count",
    "order", "allocation", "shipment", "tracking", "exception", "approval", "sync",
    "settings", "user", "supplier", "customer"
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppSignals(QObject):
    """Application-wide signals; one instance per window, passed in the AppContext.

    Signals:
        data_changed(object): a frozenset[str] of kinds, emitted on the GUI thread after an
            op that declared those kinds has committed.
        busy_changed(bool): True while at least one op is queued or running (status bar).
        message(str): a one-line note for the window's message area (op errors, "saved").
        op_failed(str, str): (label, error text) when an op raised; shown by the window.
    """

    data_changed = Signal(object)
    busy_changed = Signal(bool)
    message = Signal(str)
    op_failed = Signal(str, str)

    def emit_changed(self, kinds: set[str] | frozenset[str] | tuple[str, ...] | list[str]) -> None:
        """Emit data_changed with a frozenset (callers may pass any iterable of kinds)."""
        ks = frozenset(kinds)
        if ks:
            self.data_changed.emit(ks)
