"""DispatchScreen (nav "Dispatch", Ctrl+4): the dispatcher's day from allocated orders to the truck.

Tabs (Alt+1..5): **Waves** (the plan per carrier with cut-off countdowns, release and take back,
picking progress, pick lists printed in the background with progress and cancel), **Picking** (a
scan field that keeps the focus, big clear feedback), then **Packing**, **Shipping** and
**Manifest** (their own modules; a later tab is one more ``add_tab``), so this shell stays small.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.views.context import AppContext
from app.views.dispatch.manifest_tab import ManifestTab
from app.views.dispatch.packing_tab import PackingTab
from app.views.dispatch.picking_tab import PickingTab
from app.views.dispatch.shipping_tab import ShippingTab
from app.views.dispatch.waves_tab import WavesTab
from app.views.widgets.keys import shortcut


class DispatchScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("dispatchScreen")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("dispatchTabs")
        self.waves = WavesTab(ctx)
        self.picking = PickingTab(ctx)
        self.packing = PackingTab(ctx)
        self.shipping = ShippingTab(ctx)
        self.manifest = ManifestTab(ctx)
        for tab, title in ((self.waves, "&Waves"), (self.picking, "&Picking"), (self.packing, "P&acking"),
                           (self.shipping, "&Shipping"), (self.manifest, "&Manifest")):
            self.add_tab(tab, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)
        self._connect_signals()

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (Packing, Shipping, Manifest ...); Alt+n opens the n-th."""
        n = self.tabs.addTab(widget, title)
        shortcut(f"Alt+{n + 1}", self, f"Open the {title.replace('&', '')} tab").activated.connect(
                lambda n=n: self.tabs.setCurrentIndex(n))
        return n

    def _connect_signals(self) -> None:
        self.waves.pick_wave.connect(self.start_picking)
        self.tabs.currentChanged.connect(self._on_tab)

    def refresh(self) -> None:
        """The window's F5 (a tab may not bind it: two shortcuts for one key fire neither): Plan
        waves on Waves, Rate on Shipping, Build on Manifest, else read the open tab again."""
        tab = self.tabs.currentWidget()
        act = {self.waves: self.waves.plan, self.shipping: getattr(self.shipping, "rate", None),
               self.manifest: getattr(self.manifest, "build", None)}.get(tab) or getattr(tab, "refresh", None)
        if callable(act):
            act()

    def start_picking(self, number: str) -> None:
        self.tabs.setCurrentWidget(self.picking)
        self.picking.choose(number)

    def _on_tab(self, _n: int) -> None:
        if self.tabs.currentWidget() is self.picking:
            self.picking.focus_scan()
