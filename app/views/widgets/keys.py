"""A screen's own keyboard shortcut that says what it does.

The F1 overlay (``app.views.help``) lists every QShortcut of the open screen by its ``whatsThis``;
a bare ``QShortcut(key, parent, slot)`` has none, so the overlay could only say "shortcut" (seen on
the installed program: Buying listed eight keys that way). Make a screen's keys here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


def shortcut(keys: str | QKeySequence | Qt.Key, parent: QWidget, what: str,
             slot: Callable[[], Any] | None = None, *, local: bool = False) -> QShortcut:
    """A shortcut on ``parent`` described by ``what`` (the F1 overlay's "Does"); ``local`` keeps it to
    ``parent`` and its children (a tab whose sister tabs use the same key)."""
    if not what.strip():
        raise ValueError("a shortcut says what it does")
    sc = QShortcut(QKeySequence(keys), parent)
    sc.setWhatsThis(what)
    if local:
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    if slot is not None:
        sc.activated.connect(slot)
    return sc
