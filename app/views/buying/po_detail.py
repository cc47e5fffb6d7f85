"""PoDetailView: one purchase order with its lines, totals, approval reasons and decisions.

The view holds no rules: it loads ``po_documents.po_detail(session, ref, actor)`` in a read
op, which also says which actions this user may take now (buttons are enabled from it; the
services still enforce every rule). Each action is one write op; afterwards the runner
emits data_changed({"po", "approval"}) and the view reloads.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.buying import approvals, po_documents, po_receipts, purchasing
from app.services.changes import Change
from app.services.money import fmt_money, fmt_price, price_places
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.flow import FlowRow
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex
KINDS = frozenset({Change.PO, Change.APPROVAL, Change.RECEIPT})



class PoDetailView(QWidget):
    """Signals: loaded(dict) after a PO was (re)loaded; acted(str) after an action committed;
    pdf_ready(str) with the path of a rendered PDF (preview or save)."""

    loaded = Signal(object)
    acted = Signal(str)
    pdf_ready = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: dict[str, Any] | None = None
        self._ref: uuid.UUID | str | None = None
        self.open_externally = True  # tests switch the system viewer off
        self.title = QLabel("No purchase order selected")
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)  # a long supplier name never widens the window
        self.status = QLabel("")
        self.status.setWordWrap(True)
        #: decimals of the price column: one number for the whole PO (as printed)
        self.places = 2
        self.lines = RowsModel([
            Column("#", "line"), Column("SKU", "sku"), Column("Description", "description"),
            Column("Supplier part", "supplier_part"), Column("Ship to", "ship_to"),
            Column("Qty", "qty", True, fmt=lambda q: f"{q:,}"), Column("Unit", "uom"),
            Column("Price per unit", "price", True, fmt=lambda p: fmt_price(p, self.places)),
            Column("Extension", "extension", True, fmt=fmt_money)], self)
        self.table = QTableView()
        self.table.setModel(self.lines)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        fit_columns(self.table, "po_lines")
        self.totals = QLabel("")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.approval = QTextBrowser()
        self.approval.setObjectName("approvalPane")
        self.buttons: dict[str, QPushButton] = {}
        # two rows, so the detail beside the PO list fits a 1366-px laptop (one row of nine made it 1395);
        # each wraps further on a 1,024-px screen
        bar, bar2 = FlowRow(), FlowRow()
        for key, text, shortcut in (("submit", "&Submit", "Ctrl+Return"), ("approve", "&Approve", "Ctrl+Shift+A"),
                                    ("reject", "Re&ject", "Ctrl+Shift+J"), ("send", "Se&nd", "Ctrl+Shift+N"),
                                    ("revise", "Re&vise…", "Ctrl+Shift+V"), ("cancel", "&Cancel PO", ""), ("close", "C&lose PO", ""),
                                    ("preview", "&Preview PDF", "Ctrl+P"), ("save_pdf", "Save PD&F…", "Ctrl+Shift+P")):
            b = QPushButton(text)
            b.setObjectName(f"po_{key}")
            if shortcut:
                b.setShortcut(QKeySequence(shortcut))
            b.setEnabled(False)
            self.buttons[key] = b
            (bar if key in ("submit", "approve", "reject", "send", "revise") else bar2).addWidget(b)
            if key == "close":
                bar2.addStretch(1)
        bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.totals)
        split.addWidget(top)
        split.addWidget(self.approval)
        split.setSizes([400, 160])
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.status)
        lay.addLayout(bar)
        lay.addLayout(bar2)
        lay.addWidget(split, 1)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        b = self.buttons
        b["submit"].clicked.connect(lambda: self._act("submitted", lambda s, i: purchasing.submit(s, self.ctx.actor, i)))
        b["approve"].clicked.connect(lambda: self.approve())
        b["reject"].clicked.connect(self._ask_reject)
        b["send"].clicked.connect(lambda: self._act("sent", lambda s, i: po_documents.send_po(
            s, self.ctx.actor, i, outbound_dir=self.ctx.settings.get("edi.outbound_dir") or None)))
        b["revise"].clicked.connect(self._ask_revise)
        b["cancel"].clicked.connect(lambda: self._act("cancelled", lambda s, i: purchasing.cancel(s, self.ctx.actor, i)))
        b["close"].clicked.connect(lambda: self._act("closed", lambda s, i: purchasing.close(s, self.ctx.actor, i)))
        b["preview"].clicked.connect(lambda: self.render_pdf(None))
        b["save_pdf"].clicked.connect(self._ask_save)

    # loading ------------------------------------------------------------------------------
    def load(self, ref: uuid.UUID | str | None) -> None:
        self._ref = ref
        if ref is None:
            self._show(None)
            return
        actor = self.ctx.actor
        self.ctx.runner.submit(lambda s: po_documents.po_detail(s, ref, actor), self._on_loaded,
                               on_error=self._on_load_error, write=False, label="load purchase order",
                               latest=(id(self), "load"))  # the same PO loaded twice: the older read may land last

    def _on_loaded(self, detail: dict[str, Any]) -> None:
        if self._ref is None or (detail["id"] != self._ref and detail["number"] != self._ref):
            return  # another PO was chosen meanwhile
        self._show(detail)
        self.loaded.emit(detail)

    def _on_load_error(self, e: BaseException) -> None:
        self._show(None)
        self.status.setText(str(e))

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if self._ref is not None and kinds & KINDS:
            self.load(self._ref)

    def _show(self, d: dict[str, Any] | None) -> None:
        self.detail = d
        if d is None:
            self.title.setText("No purchase order selected")
            self.status.setText("")
            self.lines.set_rows([])
            self.totals.setText("")
            self.approval.setHtml("")
            for b in self.buttons.values():
                b.setEnabled(False)
            return
        self.title.setText(f"{d['number']}  rev {d['revision']}  ·  {d['supplier_name']} ({d['supplier']})")
        extra = f"  ·  deliver by {d['expected_date']}" if d["expected_date"] else ""
        self.status.setText(f"Status: {d['status'].replace('_', ' ')}{'  ·  RUSH' if d['rush'] else ''}"
                            f"  ·  ordered {d['order_date']}{extra}  ·  terms {d['payment_terms']}")
        self.places = price_places([ln["price"] for ln in d["lines"]])
        self.lines.set_rows(d["lines"])
        self.table.resizeColumnsToContents()
        self.totals.setText(f"{len(d['lines'])} lines  ·  total {fmt_money(d['total'], d['currency'], code=True)}")
        self.approval.setHtml(_approval_html(d))
        can = d.get("can", {})
        for key in ("submit", "approve", "send", "cancel", "close", "revise"):
            self.buttons[key].setEnabled(bool(can.get(key)))
        self.buttons["reject"].setEnabled(bool(can.get("approve")))
        self.buttons["approve"].setToolTip(can.get("why_not_approve", ""))
        for key in ("submit", "send", "cancel", "close", "revise"):  # why they are off on another branch's PO
            self.buttons[key].setToolTip(can.get("owned_elsewhere", ""))
        self.buttons["preview"].setEnabled(True)
        self.buttons["save_pdf"].setEnabled(True)

    # actions --------------------------------------------------------------------------------
    def _act(self, verb: str, fn: Any) -> None:
        if self.detail is None:
            return
        po_id = self.detail["id"]
        number = self.detail["number"]

        def work(s: Session) -> str:
            done = fn(s, po_id)  # what other branches still do about it: "DAL's PO follows when DAL syncs"
            return po_receipts.followup_after(s, done)

        self.ctx.runner.submit(work, lambda note: self._done(f"{number} {verb}{note}"),
                               on_error=self._on_action_error, kinds=(Change.PO, Change.APPROVAL, Change.RECEIPT),
                               label=f"{verb} {number}")

    def _done(self, text: str) -> None:
        self.ctx.signals.message.emit(text)
        self.acted.emit(text)

    def _on_action_error(self, e: BaseException) -> None:
        self.status.setText(f"Not done: {e}")
        self.ctx.signals.op_failed.emit("purchase order", str(e))

    def approve(self, comment: str = "") -> None:
        self._act("approved", lambda s, i: approvals.approve(s, self.ctx.actor, i, comment))

    def reject(self, comment: str) -> None:
        self._act("rejected", lambda s, i: approvals.reject(s, self.ctx.actor, i, comment))

    def _ask_reject(self) -> None:
        text, ok = QInputDialog.getText(self, "Reject purchase order", "Reason for the buyer:")
        if ok:
            self.reject(text)

    def lines_text(self) -> str:
        """The current lines as editable text, one ``SKU:QTY:PRICE`` per line."""
        if self.detail is None:
            return ""
        return "\n".join(f"{ln['sku']}:{ln['qty']}:{ln['price'].normalize():f}" for ln in self.detail["lines"])

    def revise(self, text: str) -> None:
        """New revision with these lines (SKU:QTY[:PRICE] per line); back through approval."""
        specs = []
        for raw in (x.strip() for x in text.splitlines()):
            if raw:
                parts = raw.split(":")
                specs.append(purchasing.LineInput(sku=parts[0], qty=parts[1] if len(parts) > 1 else "",
                                                  price=parts[2] if len(parts) > 2 else None))
        self._act("revised", lambda s, i: purchasing.revise(s, self.ctx.actor, i, lines=specs))

    def _ask_revise(self) -> None:
        text, ok = QInputDialog.getMultiLineText(self, "Revise purchase order",
                                                 "Lines (SKU:QTY:PRICE, one per line):", self.lines_text())
        if ok:
            self.revise(text)

    def render_pdf(self, target: Path | None) -> None:
        """Render the PDF off the GUI thread; open it in the system viewer (preview) or save it."""
        if self.detail is None:
            return
        po_id = self.detail["id"]

        def work(s: Session) -> str:
            name, pdf = po_documents.po_pdf(s, po_id)
            path = target or Path(tempfile.mkdtemp(prefix="depot-po-")) / name
            path.write_bytes(pdf)
            return str(path)

        self.ctx.runner.submit(work, self._on_pdf, on_error=self._on_action_error, write=False, label="render PDF")

    def _on_pdf(self, path: str) -> None:
        self.pdf_ready.emit(path)
        if not self.open_externally:
            self.status.setText(f"PDF written to {path}")
            return
        if self.open_url(QUrl.fromLocalFile(path)):
            self.status.setText(f"opened {Path(path).name} in the PDF viewer")
        else:
            text = (f"No PDF viewer is set up on this computer: the purchase order is saved as {path} "
                    "(open it with any PDF reader, or use Save PDF…)")
            self.status.setText(text)
            self.ctx.signals.message.emit(text)

    #: how a PDF is handed to the system viewer (tests replace it)
    open_url = staticmethod(QDesktopServices.openUrl)

    def _ask_save(self) -> None:
        if self.detail is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save purchase order", f"{self.detail['number']}.pdf", "PDF (*.pdf)")
        if name:
            self.render_pdf(Path(name))


def _approval_html(d: dict[str, Any]) -> str:
    from html import escape

    parts = ["<b>Approval</b>"]
    if not d["approval"]:
        parts.append("<p>No approval rule fired for this revision.</p>" if d["status"] != "draft"
                     else "<p>Not submitted yet.</p>")
    for st in d["approval"]:
        who = (f"approved by {escape(st['approved_by'])}" if st["approved_by"] else
               f"rejected by {escape(st['rejected_by'])}" if st["rejected_by"] else "waiting")
        parts.append(f"<p><b>Level {st['level']}</b> ({escape(' or '.join(st['roles']))}): {who}<br/>"
                     + "<br/>".join(f"• {escape(r)}" for r in st["reasons"]) + "</p>")
    if d["decisions"]:
        parts.append("<b>Decisions</b><ul>")
        for dec in d["decisions"]:
            comment = f": {escape(dec['comment'])}" if dec["comment"] else ""
            parts.append(f"<li>rev {dec['revision']} level {dec['level']} — {escape(dec['by'])} "
                         f"{'approved' if dec['decision'] == 'approve' else 'rejected'}{comment}</li>")
        parts.append("</ul>")
    return "".join(parts)
