"""The navigation rail: one entry per area, each naming the screen class that fills it.

A screen class is imported lazily as ``"module:Class"`` so a slow or unbuilt area never
delays the first window. A module that does not exist yet shows a plain "not built yet"
page; any other import error is shown as an error, never hidden.

Every screen is constructed as ``Screen(ctx)`` with ``ctx: app.views.context.AppContext``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    key: str
    title: str
    target: str  # "package.module:ClassName"
    shortcut: str
    permission: str  # app.services.auth action that must be allowed to open it


NAV: tuple[NavEntry, ...] = (
    NavEntry("buying", "Buying", "app.views.buying.screen:BuyingScreen", "Ctrl+1", "item.view"),
    NavEntry("receiving", "Receiving", "app.views.receiving.screen:ReceivingScreen", "Ctrl+2", "item.view"),
    NavEntry("allocation", "Allocation", "app.views.allocation.screen:AllocationScreen", "Ctrl+3", "item.view"),
    NavEntry("dispatch", "Dispatch", "app.views.dispatch.screen:DispatchScreen", "Ctrl+4", "item.view"),
    NavEntry("tracking", "Tracking", "app.views.tracking.screen:TrackingScreen", "Ctrl+5", "item.view"),
    NavEntry("dashboard", "Dashboard", "app.views.dashboard.screen:DashboardScreen", "Ctrl+6", "dashboard.view"),
    NavEntry("inventory", "Inventory", "app.views.inventory.screen:InventoryScreen", "Ctrl+7", "stock.view"),
    NavEntry("master", "Master data", "app.views.items.screen:ItemsScreen", "Ctrl+8", "item.view"),
    NavEntry("exceptions", "Exceptions", "app.views.exceptions.screen:ExceptionsScreen", "Ctrl+9", "item.view"),
    NavEntry("receivables", "Receivables", "app.views.receivables.screen:ReceivablesScreen", "Ctrl+Shift+R",
             "payment.apply"),
    NavEntry("print", "Print centre", "app.views.printcentre.screen:PrintCentreScreen", "Ctrl+Shift+D",
             "print.documents"),
    NavEntry("sync", "Sync", "app.views.sync.panel:SyncPanel", "Ctrl+Shift+S", "sync.run"),
    NavEntry("settings", "Settings", "app.views.settings.screen:SettingsScreen", "Ctrl+0", "item.view"),
)
