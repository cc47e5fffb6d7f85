"""AllocationScreen (nav "Allocation"): the dispatcher's and the account team's first screen of the
day: which orders can ship, which are held, who gets scarce stock.

Tabs (Alt+1..5): Orders (the open book, an order's lines with promise and the allocation's reason,
copy / cancel), New order (keyboard entry with live price and promise), Credit holds (reason,
Release for ``credit.release``), Allocation run (policy, Simulate, the difference, Accept or
Discard), Backorders (by customer and item, with the expected date). Ctrl+N opens New order.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.views.allocation.backorders_tab import BackordersTab
from app.views.allocation.entry_tab import EntryTab
from app.views.allocation.holds_tab import HoldsTab
from app.views.allocation.orders_tab import OrdersTab
from app.views.allocation.run_tab import RunTab
from app.views.context import AppContext
from app.views.widgets.keys import shortcut


class AllocationScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("allocationScreen")
        self.tabs = QTabWidget()
        self.orders = OrdersTab(ctx)
        self.entry = EntryTab(ctx)
        self.holds = HoldsTab(ctx)
        self.run = RunTab(ctx)
        self.backorders = BackordersTab(ctx)
        for w, title in ((self.orders, "&Orders"), (self.entry, "&New order"), (self.holds, "Credit &holds"),
                         (self.run, "Allocation &run"), (self.backorders, "&Backorders")):
            self.tabs.addTab(w, title)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._connect_signals()

    def _connect_signals(self) -> None:
        for n in range(self.tabs.count()):
            shortcut(f"Alt+{n + 1}", self, f"Open the {self.tabs.tabText(n).replace('&', '')} tab").activated.connect(
                lambda n=n: self.tabs.setCurrentIndex(n))
        shortcut("Ctrl+N", self, "New sales order", self.new_order)
        self.holds.loaded.connect(lambda n: self.tabs.setTabText(2, f"Credit &holds ({n})" if n else "Credit &holds"))
        self.entry.saved.connect(lambda res: self.orders.show_order(res.order.id))

    # the window's F5 and Ctrl+F (a key of its own here would make them ambiguous: neither fires)
    def refresh(self) -> None:
        """F5: Simulate on the Allocation run tab, else read the current tab again."""
        tab = self.tabs.currentWidget()
        if tab is self.run:
            self.run.simulate()
            return
        again = getattr(tab, "refresh", None) or getattr(tab, "apply_filter", None)
        if callable(again):
            again()

    def focus_search(self) -> None:
        """Ctrl+F: the open book's search."""
        self.tabs.setCurrentWidget(self.orders)
        self.orders.search.setFocus()
        self.orders.search.selectAll()

    def new_order(self) -> None:
        self.tabs.setCurrentWidget(self.entry)
        self.entry.customer.setFocus()
