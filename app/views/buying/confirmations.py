"""ConfirmationsView: supplier confirmations (855 / ORDRSP) and ship notices (856 / DESADV)
with their differences against the PO (a Buying tab).

Top: the inbound messages (paged, newest first), filtered by kind, "only with differences"
and a search on PO / document / file. Bottom: the selected message's lines, ordered vs
confirmed side by side, differences highlighted. "Import file..." (Ctrl+I) imports a
supplier file through the same service as ``depot edi import``; a refused file's reason
is shown in the message line and nothing is written.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.changes import Change
from app.services.edi import queries
from app.services.edi.config import folders
from app.services.edi.inbound import ImportResult, import_file
from app.services.edi.queries import MessageLineRow, MessageQuery
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column, PagedTableModel
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex
REFRESH_KINDS = frozenset({Change.EDI, Change.PO, Change.RECEIPT})
CHANGED_KINDS = frozenset({Change.EDI, Change.PO, Change.RECEIPT, Change.EXCEPTION})
MESSAGE_COLUMNS = (
    Column("Received", "received_at", fmt=lambda v: v.strftime("%Y-%m-%d %H:%M") if v else ""),
    Column("Type", "msg_type"),
    Column("Supplier", "supplier"),
    Column("PO", "po_number"),
    Column("Document", "doc_ref"),
    Column("Status", "status"),
    Column("Differences", "differences", align_right=True),
    Column("Expected receipt", "expected_receipt"),
    Column("File", "file_name"),
)


def _difference(r: MessageLineRow) -> str:
    return r.difference


LINE_COLUMNS = tuple(
    Column(title, attr, right, fmt=fmt, tooltip=_difference)
    for title, attr, right, fmt in (
        ("Line", "line_no", True, None), ("SKU", "sku", False, None), ("Partner item", "item_ref", False, None),
        ("Ordered", "qty_ordered", True, None), ("Confirmed", "qty_confirmed", True, None),
        ("Price ordered", "price_ordered", True, None), ("Price confirmed", "price_confirmed", True, None),
        ("Date ordered", "date_ordered", False, None), ("Date confirmed", "date_confirmed", False, None),
        ("Status", "line_status", False, None),
        ("Difference", "difference", False, lambda v: str(v).replace("\n", "; ")),
        ("SSCC", "sscc", False, None), ("Lot", "lot_code", False, None)))


def _tint(r: MessageLineRow) -> QColor | bool:
    """Rows with a difference are tinted (a rejected line redder)."""
    if not r.difference:
        return False
    return QColor(255, 235, 205) if r.line_status != "rejected" else QColor(255, 215, 215)



class ConfirmationsView(QWidget):
    """Signals:
    imported(object): the ImportResult of a file imported from this screen.
    lines_loaded(int): the lines of the selected message arrived (tests wait on it).
    """

    imported = Signal(object)
    lines_loaded = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ConfirmationsView")
        self._selected: uuid.UUID | None = None
        self.kind = QComboBox()
        for title, key in (("All messages", "all"), ("Confirmations", "confirmations"), ("Ship notices", "ship_notices")):
            self.kind.addItem(title, key)
        self.only_diff = QCheckBox("Only with differences")
        self.search = QLineEdit()
        self.search.setPlaceholderText("PO, document or file")
        self.import_button = QPushButton("Import file...")
        self.import_button.setToolTip("Ctrl+I")
        self.import_button.setEnabled(ctx.can("po.create"))
        self.count_label = QLabel("")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.messages_model = PagedTableModel(ctx.runner, queries.list_messages, MESSAGE_COLUMNS, parent=self)
        self.messages = QTableView()
        self.messages.setModel(self.messages_model)
        self.messages.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.messages.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.lines_model = RowsModel(LINE_COLUMNS, self, highlight=_tint)
        self.lines = QTableView()
        self.lines.setModel(self.lines_model)
        self.lines.horizontalHeader().setStretchLastSection(True)
        fit_columns(self.messages, "supplier_messages")
        fit_columns(self.lines, "supplier_message_lines")

        top = QHBoxLayout()
        top.addWidget(self.kind)
        top.addWidget(self.only_diff)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.import_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.summary)
        lower_layout.addWidget(self.lines, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.messages)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.kind.currentIndexChanged.connect(lambda _i: self.reload())
        self.only_diff.toggled.connect(lambda _on: self.reload())
        self.search.returnPressed.connect(self.reload)
        self.import_button.clicked.connect(self._choose_file)
        self.messages.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.messages_model.page_loaded.connect(
            lambda n: self.count_label.setText(f"{n}{'+' if self.messages_model.has_more else ''} messages"))
        self.messages_model.load_failed.connect(self.message.setText)
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        shortcut("Ctrl+I", self, "Import a supplier EDI file", self._choose_file)

    def query(self) -> MessageQuery:
        return MessageQuery(kind=str(self.kind.currentData()), only_differences=self.only_diff.isChecked(),
                            text=self.search.text())

    def reload(self) -> None:
        self.messages_model.set_query(self.query())

    def _on_data_changed(self, kinds: object) -> None:
        if isinstance(kinds, frozenset | set) and kinds & REFRESH_KINDS:
            self.messages_model.reload()

    def select_row(self, row: int) -> None:
        self.messages.selectRow(row)

    def _on_selection(self) -> None:
        rows = self.messages.selectionModel().selectedRows()
        if not rows:
            self._selected = None
            self.summary.setText("")
            self.lines_model.set_rows([])
            return
        msg = self.messages_model.row(rows[0].row())
        self._selected = msg.id
        self.summary.setText(f"{msg.msg_type} {msg.doc_ref} for PO {msg.po_number}: {msg.summary}")
        mid = msg.id
        self.ctx.runner.submit(lambda s: queries.message_lines(s, mid), lambda r: self._on_lines(mid, r),
                               write=False, label="load message lines",
                               on_error=lambda e: self.message.setText(str(e)))

    def _on_lines(self, mid: uuid.UUID, rows: list[MessageLineRow]) -> None:
        if mid != self._selected:
            return  # the user moved on meanwhile
        self.lines_model.set_rows(rows)
        self.lines_loaded.emit(len(rows))

    def _choose_file(self) -> None:
        if not self.import_button.isEnabled():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import supplier EDI file", "",
                                              "EDI files (*.edi *.x12 *.txt *.855 *.856);;All files (*)")
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> None:
        """Import one file (855, 856, ORDRSP, DESADV) as a write op. A customer's 850 / ORDERS picked
        here is answered into Settings' EDI outbound folder (refused, nothing taken, without one)."""
        actor = self.ctx.actor
        outbound = folders(self.ctx.settings)[0] or None
        self.message.setText(f"importing {path.name}...")
        self.ctx.runner.submit(lambda s: import_file(s, actor, path, outbound), self._on_imported,
                               on_error=lambda e: self.message.setText(f"{path.name} refused: {e}"),
                               kinds=CHANGED_KINDS, label=f"import {path.name}")

    def _on_imported(self, result: ImportResult) -> None:
        self.message.setText(result.summary())
        self.imported.emit(result)
