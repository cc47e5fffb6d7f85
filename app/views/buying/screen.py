"""BuyingScreen: the buyer's tabs, each loaded the first time it is shown.

Tabs are ``"module:Class"`` entries so an unbuilt area shows "not built yet" instead of
breaking the screen, and a slow tab costs nothing until it is opened. A tab that exists but
fails to import shows the error (never hidden), like the navigation rail does.
"""

from __future__ import annotations

import traceback
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QStackedLayout, QTabWidget, QVBoxLayout, QWidget

from app.views.context import AppContext
from app.views.main_window import load_screen_class
from app.views.widgets.keys import shortcut

TABS: tuple[tuple[str, str], ...] = (
    ("Worklist", "app.views.buying.worklist:RecommendationsWorklist"),
    ("Requisitions", "app.views.buying.requisitions:RequisitionsView"),
    ("Purchase orders", "app.views.buying.po_list:PurchaseOrdersView"),
    ("Approvals inbox", "app.views.buying.approvals:ApprovalsInbox"),
    ("Supplier confirmations", "app.views.buying.confirmations:ConfirmationsView"),
)


BUYING_ACTIONS = ("replenish.run", "requisition.create", "po.create", "po.approve", "po.send")


def read_only_reason(ctx: AppContext) -> str:
    """Why every button of Buying is off for this user ('' when they may do something here)."""
    if any(ctx.can(a) for a in BUYING_ACTIONS):
        return ""
    roles = ", ".join(sorted(ctx.actor.roles)) or "none"
    return (f"Buying is read-only for you (signed in as {ctx.actor.username}, roles: {roles}): you can look up "
            "recommendations, requisitions and purchase orders, but buyers accept and order, approvers approve, "
            "and buyers send POs to suppliers. Ask an admin if your job needs a buying role.")


class _LazyTab(QWidget):
    """Placeholder that builds the real widget on first show."""

    def __init__(self, title: str, target: str) -> None:
        super().__init__()
        self.title = title
        self.target = target
        self.widget: QWidget | None = None
        self.message = ""
        self._stack = QStackedLayout(self)


class BuyingScreen(QWidget):
    """The buyer's tabs, each built on first view. (E-mail to suppliers is delivered
    window-wide by ``app.views.mail_delivery``, whatever screen is open.)"""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tabs = QTabWidget()
        self._lazy: list[_LazyTab] = []
        for title, target in TABS:
            tab = _LazyTab(title, target)
            self._lazy.append(tab)
            self.tabs.addTab(tab, title)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel(read_only_reason(ctx))
        self.banner.setObjectName("buyingReadOnly")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff4ce; padding: 6px;")
        self.banner.setVisible(bool(self.banner.text()))
        lay.addWidget(self.banner)
        lay.addWidget(self.tabs)
        self._connect_signals()
        self._ensure(self.tabs.currentIndex())

    def _connect_signals(self) -> None:
        self.tabs.currentChanged.connect(self._ensure)
        for n in range(len(TABS)):
            shortcut(f"Alt+{n + 1}", self, f"Open the {TABS[n][0]} tab").activated.connect(
                lambda n=n: self.tabs.setCurrentIndex(n))

    # the window's F5 and Ctrl+F reach the open tab (a key of its own there would make them
    # ambiguous: neither fires)
    def refresh(self) -> None:
        tab = self._lazy[self.tabs.currentIndex()].widget
        again = getattr(tab, "refresh", None) or getattr(tab, "reload", None) or getattr(tab, "apply_filter", None)
        if callable(again):
            again()

    def focus_search(self) -> None:
        search = getattr(self._lazy[self.tabs.currentIndex()].widget, "search", None)
        if isinstance(search, QLineEdit):
            search.setFocus()
            search.selectAll()

    def tab_widget(self, title: str) -> QWidget | None:
        """The built widget of a tab (building it), or None when its module is not there yet."""
        for i, tab in enumerate(self._lazy):
            if tab.title == title:
                self._ensure(i)
                return tab.widget
        raise KeyError(title)

    def tab_message(self, title: str) -> str:
        return next(t.message for t in self._lazy if t.title == title)

    def _ensure(self, index: int) -> None:
        if not 0 <= index < len(self._lazy):
            return
        tab = self._lazy[index]
        if tab.widget is not None or tab.message:
            return
        try:
            cls = load_screen_class(tab.target)
        except Exception as e:  # noqa: BLE001 - show the error on the tab, keep the screen usable
            traceback.print_exc()
            tab.message = f"{tab.title} could not be opened: {e}"
            label = QLabel(tab.message)
            label.setObjectName("pageError")
            label.setWordWrap(True)
            tab._stack.addWidget(label)
            return
        if cls is None:
            tab.message = f"{tab.title} is not built yet"
            label = QLabel(tab.message)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tab._stack.addWidget(label)
            return
        factory: Any = cls  # a screen class takes the context (the NAV contract)
        tab.widget = factory(self.ctx)
        tab._stack.addWidget(tab.widget)
        converted = getattr(tab.widget, "converted", None)
        if converted is not None:
            converted.connect(self.show_new_pos)

    def show_new_pos(self, numbers: list[str]) -> None:
        """After requisitions became POs: the Purchase orders tab, with the first new PO selected."""
        view = self.tab_widget("Purchase orders")
        if view is None or not numbers:
            return
        self.tabs.setCurrentIndex([t for t, _ in TABS].index("Purchase orders"))
        show = getattr(view, "show_number", None)
        if callable(show):
            show(numbers[0])
