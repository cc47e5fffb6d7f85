"""The item detail pane: fields, stock by warehouse (from the ledger's balance), pack units, suppliers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.items import ItemDetail
from app.views.widgets.delegates import format_money, format_qty


def _table(headers: list[str], name: str, *, all_stretch: bool = False) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(22)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch if all_stretch
                                else QHeaderView.ResizeMode.ResizeToContents)
    # the first column (supplier, warehouse, unit) as wide as its contents and the last one takes what
    # is left: stretched, the first was squeezed to "uppli" beside the item list on a 1,024-px screen
    header.setStretchLastSection(not all_stretch)
    _fit(t)
    return t


def _fit(t: QTableWidget, max_rows: int = 8) -> None:
    """As tall as its rows (up to max_rows), so short lists need no scrolling."""
    rows = min(max(t.rowCount(), 1), max_rows)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if t.rowCount() > max_rows
                                 else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setFixedHeight(t.horizontalHeader().sizeHint().height() + rows * 22 + 2 * t.frameWidth())


def _fill(t: QTableWidget, rows: list[list[str]], right: set[int]) -> None:
    t.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            cell = QTableWidgetItem(v)
            if c in right:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(r, c, cell)
    _fit(t)


class ItemDetailPane(QWidget):
    """Shows one ItemDetail; holds no queries (the screen loads it via the runner)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("itemDetail")
        self.detail: ItemDetail | None = None
        self.title = QLabel("Select an item")
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for key in ("SKU", "Barcode", "Base unit", "Category", "Class", "Storage", "Tracking",
                    "Size / weight", "Cost / list", "Total on hand"):
            lab = QLabel("")
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = lab
            form.addRow(key, lab)
        self.stock_table = _table(["Warehouse", "On hand"], "stockTable")
        self.uom_table = _table(["Unit", "Base units", "GTIN"], "uomTable")
        self.supplier_table = _table(["Supplier", "Lead d", "Pack", "MOQ", "Price", "Pref"], "supplierTable")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(form)
        for title, table in (("Stock by warehouse", self.stock_table), ("Pack units", self.uom_table),
                             ("Suppliers", self.supplier_table)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(table)
            lay.addWidget(box)
        lay.addStretch(1)

    def clear(self) -> None:
        self.detail = None
        self.title.setText("Select an item")
        for lab in self.fields.values():
            lab.setText("")
        for t in (self.stock_table, self.uom_table, self.supplier_table):
            t.setRowCount(0)
            _fit(t)

    def show_detail(self, d: ItemDetail) -> None:
        self.detail = d
        self.title.setText(f"{d.sku}  {d.description}" + ("" if d.active else "  (inactive)"))
        f = self.fields
        f["SKU"].setText(d.sku)
        f["Barcode"].setText(d.gtin or "-")
        f["Base unit"].setText(d.base_uom)
        f["Category"].setText(d.category or "-")
        f["Class"].setText(d.velocity_class)
        f["Storage"].setText(d.temperature_class + (f", hazmat {d.hazmat_class}" if d.hazmat_class else ""))
        f["Tracking"].setText(d.tracking or "none")
        length, width, height = d.dims_mm
        f["Size / weight"].setText(f"{length} x {width} x {height} mm, {d.weight_g:,} g")
        f["Cost / list"].setText(f"{format_money(d.standard_cost, 4)} / {format_money(d.list_price)} {d.currency}")
        f["Total on hand"].setText(f"{format_qty(d.total_on_hand)} {d.base_uom}")
        _fill(self.stock_table, [[s.warehouse_code, format_qty(s.on_hand)] for s in d.stock], {1})
        _fill(self.uom_table, [[p.uom, format_qty(p.factor), p.gtin or ""] for p in d.pack_units], {1})
        _fill(self.supplier_table, [
            [s.supplier_code, str(s.lead_time_days), format_qty(s.pack_size),
             format_qty(s.min_order_qty), format_money(s.contract_price, 4), "yes" if s.preferred else ""]
            for s in d.suppliers
        ], {1, 2, 3, 4})
        for r, s in enumerate(d.suppliers):
            cell = self.supplier_table.item(r, 0)
            if cell is not None:
                cell.setToolTip(f"{s.supplier_name}; price in {s.currency}")
