"""DispatchScreen (nav "Dispatch", Ctrl+4): the dispatcher's day from allocated orders to the truck.

Tabs (Alt+1..): **Waves** (the plan per carrier with cut-off countdowns, release and take back,
picking progress, pick lists printed in the background with progress and cancel) and **Picking**
(a scan field that keeps the focus, big clear feedback). Packing, Shipping and Manifest are added
as their own modules with ``add_tab`` (dispatchship), so this shell stays small.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.views.context import AppContext
from app.views.dispatch.picking_tab import PickingTab
from app.views.dispatch.waves_tab import WavesTab


class DispatchScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("dispatchScreen")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("dispatchTabs")
        self.waves = WavesTab(ctx)
        self.picking = PickingTab(ctx)
        self.add_tab(self.waves, "&Waves")
        self.add_tab(self.picking, "&Picking")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)
        self._connect_signals()

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (Packing, Shipping, Manifest ...); Alt+n opens the n-th."""
        n = self.tabs.addTab(widget, title)
        QShortcut(QKeySequence(f"Alt+{n + 1}"), self).activated.connect(lambda n=n: self.tabs.setCurrentIndex(n))
        return n

    def _connect_signals(self) -> None:
        self.waves.pick_wave.connect(self.start_picking)
        self.tabs.currentChanged.connect(self._on_tab)

    def start_picking(self, number: str) -> None:
        self.tabs.setCurrentWidget(self.picking)
        self.picking.choose(number)

    def _on_tab(self, _n: int) -> None:
        if self.tabs.currentWidget() is self.picking:
            self.picking.focus_scan()
