"""The one table model of bounded lists: read-only columns, editable ones, tints; a well-behaved Qt model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel


@dataclass
class Line:
    sku: str
    qty: int
    open: bool


def test_an_editable_column_takes_what_on_edit_accepts(qtmodeltester: Any) -> None:
    typed: list[tuple[str, str]] = []

    def on_edit(row: Line, col: Column, text: str) -> bool:
        if not text.isdigit():
            return False
        row.qty = int(text)
        typed.append((row.sku, text))
        return True

    m = RowsModel([Column("SKU", "sku"), Column("Qty", "qty", True, editable=lambda r: r.open)],
                  highlight=lambda r: QColor("red") if r.qty == 0 else False, on_edit=on_edit)
    m.set_rows([Line("BOLT", 5, True), Line("NUT", 0, False)])
    qtmodeltester.check(m)
    assert not (m.flags(m.index(0, 0)) & Qt.ItemFlag.ItemIsEditable)
    assert m.flags(m.index(0, 1)) & Qt.ItemFlag.ItemIsEditable
    assert not (m.flags(m.index(1, 1)) & Qt.ItemFlag.ItemIsEditable)  # a closed line is read-only
    assert m.setData(m.index(0, 1), " 12 ") and m.index(0, 1).data() == "12" and typed == [("BOLT", "12")]
    assert not m.setData(m.index(0, 1), "twelve") and m.index(0, 1).data() == "12"
    assert not m.setData(m.index(1, 1), "3") and m.row(1).qty == 0
    assert m.index(1, 0).data(Qt.ItemDataRole.BackgroundRole).color() == QColor("red")
    assert m.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert m.index(0, 1).data(Qt.ItemDataRole.UserRole) is m.row(0)


def test_without_on_edit_nothing_is_editable() -> None:
    m = RowsModel([Column("Qty", "qty", editable=lambda _r: True)])
    m.set_rows([Line("BOLT", 5, True)])
    assert not (m.flags(m.index(0, 0)) & Qt.ItemFlag.ItemIsEditable) and not m.setData(m.index(0, 0), "1")
