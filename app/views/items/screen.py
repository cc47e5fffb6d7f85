"""ItemsScreen (nav "Master data"): searchable item x warehouse list and the item detail.

Typing filters after a 150 ms pause; the query runs on the op runner and results of an
older keystroke are dropped. Enter (or a scanner) jumps to the exact SKU / barcode. The
list loads a page of items at a time as the view scrolls; nothing holds all rows.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import items as items_q
from app.services.changes import Change
from app.services.items import ItemDetail
from app.services.masterdata import WarehouseRef, warehouses
from app.services.ownership import ownership
from app.views.context import AppContext
from app.views.items.detail import ItemDetailPane
from app.views.items.model import ItemQuery, ItemTableModel
from app.views.widgets.qsettings import persist_header, qsettings
from app.views.widgets.scan import ScanLineEdit

DEBOUNCE_MS = 150
#: data kinds after which on-hand or item fields may differ
REFRESH_KINDS = frozenset({Change.ITEM, Change.STOCK, Change.RECEIPT, Change.PUTAWAY, Change.TRANSFER, Change.COUNT,
                           Change.SHIPMENT, Change.ALLOCATION, Change.SUPPLIER})


class ItemsScreen(QWidget):
    """Signals:
    detail_shown(object): the ItemDetail now on screen (tests wait on it).
    count_shown(int): the number of matching items, after each search.
    """

    detail_shown = Signal(object)
    count_shown = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("itemsScreen")
        self._detail_gen = 0
        self._count_gen = 0
        self._selected_item: uuid.UUID | None = None
        self._count_pending = False
        self._matches: tuple[int, bool] | None = None  # latest count; whether it spans all warehouses

        self.search = ScanLineEdit(placeholder="Search SKU or description, or scan a barcode  (Ctrl+F)")
        self.search.setObjectName("itemSearch")
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("warehouseFilter")
        self.warehouse.addItem("All warehouses", None)
        self.active_only = QCheckBox("Active only")
        self.count_label = QLabel("")
        self.count_label.setObjectName("countLabel")
        self.toggle_active = QPushButton("Deactivate")
        self.toggle_active.setObjectName("toggleActive")
        self.toggle_active.setEnabled(False)
        self.toggle_active.setToolTip("Needs the item.edit permission (manager, admin)")
        self.can_edit = ctx.can("item.edit")
        #: items are head-office master data: a workstation replicating as a branch may not change
        #: them (the server would refuse it); read with each item's detail
        self.site_edits_master = False

        self.model = ItemTableModel(ctx.runner, parent=self)
        self.view = QTableView()
        self.view.setObjectName("itemTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        # the description keeps its width (the table scrolls sideways beside the item on a 1,024-px
        # screen); as the stretched column it was squeezed to "…" there. The last column takes what is left.
        self.view.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((120, 260, 95, 80, 50, 50, 55)):
            self.view.setColumnWidth(col, width)
        persist_header(self.view, "items")
        header = self.view.horizontalHeader()  # a layout saved by an older Depot kept the squeezed stretch
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        if header.sectionSize(1) < 120:
            header.resizeSection(1, 260)

        self.detail = ItemDetailPane()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.warehouse)
        top.addWidget(self.active_only)
        top.addWidget(self.toggle_active)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(top)
        lv.addWidget(self.view, 1)
        lv.addWidget(self.count_label)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        state = qsettings().value("items/splitter")
        if isinstance(state, QByteArray | bytes) and state:
            self.splitter.restoreState(QByteArray(state))
        else:
            self.splitter.setSizes([660, 440])
        lay = QVBoxLayout(self)
        lay.addWidget(self.splitter)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._connect_signals()
        self._load_warehouses()
        self.apply_filter()

    def _connect_signals(self) -> None:
        self.search.textEdited.connect(lambda _t: self._debounce.start())
        self.search.textChanged.connect(lambda t: t == "" and self._debounce.start())  # the clear button
        self.search.scanned.connect(self.jump_to_code)
        self.search.down_pressed.connect(self._focus_list)
        self._debounce.timeout.connect(self.apply_filter)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.active_only.toggled.connect(lambda _on: self.apply_filter())
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.modelReset.connect(self._reselect)
        self.model.page_loaded.connect(self._after_page)
        self.model.load_failed.connect(lambda text: self.ctx.signals.op_failed.emit("item list", text))
        self.toggle_active.clicked.connect(self._toggle_active)
        self.splitter.splitterMoved.connect(lambda *_: qsettings().setValue("items/splitter", self.splitter.saveState()))
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    # public: used by the main window's Ctrl+F / F5 --------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _focus_list(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.model.rowCount() and not self.view.selectionModel().hasSelection():
            self.view.selectRow(0)

    def refresh(self) -> None:
        self.model.reload()
        self._count()
        if self._selected_item is not None:
            self.load_detail(self._selected_item)

    def current_query(self) -> ItemQuery:
        wh = self.warehouse.currentData()
        return ItemQuery(self.search.text().strip(), uuid.UUID(wh) if isinstance(wh, str) and wh else None,
                         self.active_only.isChecked())

    def apply_filter(self) -> None:
        """Run the search now (the debounce timer calls this ~150 ms after the last key)."""
        self._debounce.stop()
        query = self.current_query()
        if query == self.model.query and self.model.rowCount() and not self.model.loading:
            return
        self.model.set_query(query)
        self._count_pending = True  # counted after the page lands, so the count never delays the rows

    def _after_page(self, _rows: int) -> None:
        if self._count_pending:
            self._count_pending = False
            self._count()

    def _count(self) -> None:
        self._count_gen += 1
        gen, q = self._count_gen, self.current_query()

        def done(n: int) -> None:
            if gen == self._count_gen:
                self._matches = (n, q.warehouse_id is None)
                self._show_count()
                self.count_shown.emit(n)

        self.ctx.runner.submit(lambda s: items_q.count_matches(s, q.text, active_only=q.active_only),
                               done, write=False, label="count items")

    def _show_count(self) -> None:
        """The count label from the latest count and the warehouses known now: either may land first
        (both are background reads), so each one's arrival redraws it."""
        if self._matches is None:
            return
        n, all_warehouses = self._matches
        whs = max(1, self.warehouse.count() - 1) if all_warehouses else 1
        self.count_label.setText(f"{n:,} items, {n * whs:,} item x warehouse rows")

    def _load_warehouses(self) -> None:
        def done(whs: list[WarehouseRef]) -> None:
            current = self.warehouse.currentData()
            self.warehouse.blockSignals(True)
            self.warehouse.clear()
            self.warehouse.addItem("All warehouses", None)
            for w in whs:
                self.warehouse.addItem(f"{w.code}  {w.name}", str(w.id))  # str: QVariant cannot compare UUIDs
            idx = self.warehouse.findData(current)
            self.warehouse.setCurrentIndex(max(0, idx))
            self.warehouse.blockSignals(False)
            self._show_count()

        self.ctx.runner.submit(warehouses, done, write=False, label="warehouses")

    # detail ----------------------------------------------------------------------------
    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = {i.row() for i in selected.indexes()}
        if rows:
            self.load_detail(self.model.item_id_at(min(rows)))

    def _reselect(self) -> None:
        if self._selected_item is None:
            return
        row = self.model.first_row_of(self._selected_item)
        if row is not None:
            self.view.selectionModel().blockSignals(True)
            self.view.selectRow(row)
            self.view.selectionModel().blockSignals(False)

    def load_detail(self, item_id: uuid.UUID) -> None:
        self._selected_item = item_id
        self._detail_gen += 1
        gen = self._detail_gen

        def fetch(s: Session) -> tuple[ItemDetail, bool]:
            own = ownership(s)  # read with the detail: the button never waits on a second read
            return items_q.item_detail(s, item_id), not own.enforced or own.head_office

        def done(result: tuple[ItemDetail, bool]) -> None:
            if gen != self._detail_gen:
                return  # the user already selected another item
            d, self.site_edits_master = result
            self.detail.show_detail(d)
            self.toggle_active.setText("Deactivate" if d.active else "Activate")
            self._update_toggle()
            self.detail_shown.emit(d)

        self.ctx.runner.submit(fetch, done, write=False, label="item detail")

    def jump_to_code(self, code: str) -> None:
        """Enter / scan: show the item with exactly this SKU or barcode (else keep the filter)."""
        self._debounce.stop()

        def done(item_id: uuid.UUID | None) -> None:
            if item_id is None:
                self.apply_filter()
                return
            self.load_detail(item_id)
            row = self.model.first_row_of(item_id)
            if row is not None:
                self.view.selectRow(row)

        self.ctx.runner.submit(lambda s: items_q.find_by_code(s, code), done, write=False, label="find item")

    def _update_toggle(self) -> None:
        """Enabled for a user with item.edit on a site that may change master data."""
        if not self.can_edit:
            return
        if not self.site_edits_master:
            self.toggle_active.setEnabled(False)
            self.toggle_active.setToolTip("Items are head-office master data: ask head office to change them "
                                          "(this workstation replicates as a branch)")
            return
        self.toggle_active.setToolTip("")
        self.toggle_active.setEnabled(True)

    def _toggle_active(self) -> None:
        d = self.detail.detail
        if d is None:
            return
        ids, active = [d.item_id], not d.active

        def op(s: Session) -> int:
            return items_q.set_items_active(s, self.ctx.actor, ids, active)

        self.ctx.runner.submit(op, kinds={Change.ITEM}, label="deactivate item" if not active else "activate item")

    def _on_data_changed(self, kinds: Any) -> None:
        if REFRESH_KINDS & set(kinds):
            self.refresh()
