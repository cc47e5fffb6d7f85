"""InventoryScreen (nav "Inventory"): stock, counts, transfers, returns and pick-face replenishment in tabs."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.views.context import AppContext
from app.views.inventory.counts_tab import CountsTab
from app.views.inventory.docs_tab import ReturnsTab, TransfersTab
from app.views.inventory.replenish_tab import ReplenishTab
from app.views.inventory.stock_tab import StockTab
from app.views.widgets.keys import shortcut


class InventoryScreen(QWidget):
    """Tabs: Stock (by item/warehouse/bin/lot, ATP, ledger history), Counts, Transfers, Returns,
    Replenish (forward-pick faces). Alt+1..5 switch tabs; Ctrl+F focuses the SKU field."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("inventoryScreen")
        self.tabs = QTabWidget()
        self.stock = StockTab(ctx)
        self.counts = CountsTab(ctx)
        self.transfers = TransfersTab(ctx)
        self.returns = ReturnsTab(ctx)
        self.replenish = ReplenishTab(ctx)
        for w, title in ((self.stock, "&Stock"), (self.counts, "&Counts"), (self.transfers, "&Transfers"),
                         (self.returns, "&Returns"), (self.replenish, "Re&plenish")):
            self.tabs.addTab(w, title)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._connect_signals()

    def _connect_signals(self) -> None:
        for n in range(self.tabs.count()):
            shortcut(f"Alt+{n + 1}", self, f"Open the {self.tabs.tabText(n).replace('&', '')} tab").activated.connect(
                lambda n=n: self.tabs.setCurrentIndex(n))

    def focus_search(self) -> None:
        """Ctrl+F (the window's Find): the stock tab's SKU field."""
        self._focus_sku()

    def _focus_sku(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.stock.sku.setFocus()
