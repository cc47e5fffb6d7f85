"""Small shared widgets: scanner input, money display, paged tables, persisted headers."""

from app.views.widgets.delegates import MoneyDelegate, QtyDelegate
from app.views.widgets.paged import Column, PagedTableModel
from app.views.widgets.qsettings import persist_header, qsettings
from app.views.widgets.scan import ScanLineEdit

__all__ = ["Column", "MoneyDelegate", "PagedTableModel", "QtyDelegate", "ScanLineEdit", "persist_header", "qsettings"]
