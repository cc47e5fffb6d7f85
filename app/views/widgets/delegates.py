"""Display delegates: money with two decimals and thousands separators, quantities grouped.

Models hand over exact values (Decimal, int); formatting happens only here, at paint time.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem


def format_money(value: Any, places: int = 2) -> str:
    if value is None or value == "":
        return ""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q:,.{places}f}"


def format_qty(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


class MoneyDelegate(QStyledItemDelegate):
    """Right-aligned money; the model keeps the exact Decimal (EditRole / sorting unaffected)."""

    def __init__(self, parent: Any = None, places: int = 2) -> None:
        super().__init__(parent)
        self.places = places

    def displayText(self, value: Any, locale: QLocale | Any) -> str:  # noqa: N802 - Qt override
        try:
            return format_money(value, self.places)
        except (ArithmeticError, ValueError, TypeError):
            return str(value)

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.displayAlignment = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class QtyDelegate(MoneyDelegate):
    """Right-aligned whole quantities with grouping."""

    def displayText(self, value: Any, locale: QLocale | Any) -> str:  # noqa: N802
        try:
            return format_qty(value)
        except (ValueError, TypeError):
            return str(value)
