"""The PO as a document for the supplier: PDF data, and sending (e-mail and/or EDI).

Why here and not in purchasing: rendering and sending need the report and the outbox,
which the order rules do not. ``send_po`` queues the e-mail (PDF attached) in the same
transaction that marks the PO sent, so either both happen or neither. EDI is a follow-up of
``PoSent`` registered by ``edi.outbound`` (Buying does not import EDI; EDI knows purchase orders):
the file is written last (after every check passed), atomically, into the outbound folder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Branch, Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import PurchaseOrder
from app.models.users import User
from app.services import audit, mail
from app.services.auth import Actor
from app.services.buying import approvals
from app.services.buying.approvals import approval_state
from app.services.buying.purchasing import REVISABLE, get_po, lines_of, set_status
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.events import PoSent, emit
from app.services.masterdata import branch_code
from app.services.money import decimals, document_total, fmt_price, line_total, price_places
from app.services.ownership import owns
from reports.purchase_order import PoDocLine, PoDocument, render_po

#: states in which a PO may go (again) to the supplier
SENDABLE = frozenset({"approved", "sent", "confirmed"})


def document_data(session: Session, po: PurchaseOrder) -> PoDocument:
    """Plain data for the PDF (the report knows nothing of the database).

    Money as the supplier reads it: unit prices with one number of decimals for the whole PO (the
    currency's, more only where the price list has them), extensions rounded to the currency's
    decimals, and the total the sum of the printed extensions (``app.services.money``)."""
    supplier = session.get(Supplier, po.supplier_id)
    branch = session.get(Branch, po.owner_branch_id)
    if supplier is None or branch is None:
        raise NotFound("supplier or branch of purchase order", po.number)
    lines = lines_of(session, po.id)
    item_ids = {ln.item_id for ln in lines}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(item_ids)))}
    parts = {t.item_id: t.supplier_part for t in session.scalars(select(ItemSupplier).where(
        ItemSupplier.supplier_id == supplier.id, ItemSupplier.item_id.in_(item_ids)))}
    whs = {w.id: w for w in session.scalars(select(Warehouse).where(
        Warehouse.id.in_({ln.ship_to_warehouse_id for ln in lines} | {po.warehouse_id})))}
    ship_ids = list(dict.fromkeys([ln.ship_to_warehouse_id for ln in lines])) or [po.warehouse_id]
    ship_to = {whs[w].code: f"{whs[w].name}\n{whs[w].address}".strip() for w in ship_ids}
    places = price_places([ln.unit_price for ln in lines], po.currency)
    doc_lines = [PoDocLine(
        line_no=ln.line_no, sku=items[ln.item_id].sku, description=items[ln.item_id].description,
        supplier_part=parts.get(ln.item_id, ""), qty=ln.qty_ordered, uom=ln.uom, unit_price=ln.unit_price,
        extension=line_total(ln.qty_ordered, ln.unit_price, po.currency),
        ship_to=whs[ln.ship_to_warehouse_id].code, expected_date=ln.expected_date,
        price_text=fmt_price(ln.unit_price, places)) for ln in lines]
    buyer = session.get(User, po.requested_by_id) if po.requested_by_id else None
    contact = ""
    if buyer is not None:
        contact = " · ".join(x for x in (buyer.full_name or buyer.username, buyer.email) if x)
    from app.services.org.company import letterhead

    head = letterhead(session, branch.id)  # the company profile (Settings > Organisation)
    return PoDocument(
        company_name=head.name, company_address=head.address, letterhead=head, number=po.number,
        revision=po.revision, order_date=po.order_date, supplier_code=supplier.code, supplier_name=supplier.name,
        supplier_address=supplier.address, currency=po.currency, payment_terms=po.payment_terms, ship_to=ship_to,
        lines=doc_lines, total=document_total((ln.extension for ln in doc_lines), po.currency),
        # a PO made from requisitions dates its lines: the supplier still reads one deliver-by date
        expected_date=po.expected_date or min((ln.expected_date for ln in lines if ln.expected_date), default=None),
        buyer=contact, notes=po.notes, rush=po.rush,
        money_places=decimals(po.currency), approved_by=_approved_line(po, approval_state(session, po)),
        supplier_email=supplier.contact_email,
    )


def _approved_line(po: PurchaseOrder, levels: list[Any]) -> str:
    """Who approved this revision, for the supplier ('' would hide that a draft is not an order)."""
    if po.status in ("draft", "pending_approval", "rejected"):
        return f"NOT APPROVED ({po.status.replace('_', ' ')}): not an order; do not ship against it"
    if po.status == "cancelled":
        return "CANCELLED: do not ship against this purchase order"
    if not levels:
        return "Approved: within the buyer's authority (no approval level required)"
    names = [f"{st.approved_by} (level {st.level}, {'/'.join(sorted(st.roles))})" for st in levels if st.approved_by]
    return "Approved by " + "; ".join(names) if names else "Approved"


def po_pdf(session: Session, ref: str | uuid.UUID) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a PO by number or id."""
    po = get_po(session, ref)
    name = f"{po.number}" + (f"-rev{po.revision}" if po.revision else "") + ".pdf"
    return name, render_po(document_data(session, po))


@dataclass(frozen=True)
class SendOutcome:
    number: str
    status: str
    email_id: uuid.UUID | None
    email_to: str
    edi_file: Path | None


def send_po(session: Session, actor: Actor, ref: str | uuid.UUID, *, outbound_dir: str | Path | None = None,
            cc: str = "") -> SendOutcome:
    """Send an approved PO: e-mail with the PDF (through the outbox) and, when the supplier
    trades by EDI, an X12 850 / EDIFACT ORDERS file into ``outbound_dir``. Re-sending a sent
    PO is allowed (the supplier lost it) and is recorded as such."""
    actor.require("po.send")
    po = get_po(session, ref)
    if not owns(session, po.owner_branch_id):
        code = branch_code(session, po.owner_branch_id)
        raise PermissionDenied(f"purchase order {po.number} is {code}'s: send it at a {code} workstation")
    if po.status not in SENDABLE:
        raise Conflict(f"purchase order {po.number} is {po.status}; only an approved PO can be sent")
    supplier = session.get(Supplier, po.supplier_id)
    if supplier is None:
        raise NotFound("supplier", po.supplier_id)
    edi = supplier.edi_format.strip().lower()
    if not supplier.contact_email.strip() and not edi:
        raise ValidationError("supplier e-mail", f"supplier {supplier.code} has no e-mail address and no EDI")
    if edi and outbound_dir is None:
        raise ValidationError("EDI outbound folder", f"supplier {supplier.code} trades by EDI: choose the folder its "
                              "orders are written to in Settings > EDI (or depot po send --outbound DIR)")
    resend = po.status != "approved"
    email_id = None
    if supplier.contact_email.strip():
        name, pdf = po_pdf(session, po.id)
        rev = f" revision {po.revision}" if po.revision else ""
        msg = mail.queue_email(
            session, actor, to=supplier.contact_email, cc=cc, owner_branch_id=po.owner_branch_id,
            subject=f"Purchase order {po.number}{rev}", attachment_name=name, attachment=pdf,
            entity="purchase_order", entity_ref=po.number,
            body=(f"Dear {supplier.name},\n\nplease find attached our purchase order {po.number}{rev}.\n"
                  "Quote the PO number on every delivery note and invoice.\n\nKind regards,\n"
                  f"{actor.full_name or actor.username}\n"),
        )
        email_id = msg.id
    if resend:
        audit.record(session, actor, "po.resend", "purchase_order", po.id, po.owner_branch_id, number=po.number,
                     email=supplier.contact_email, edi=edi)
    else:
        set_status(session, actor, po, "sent", email=supplier.contact_email, edi=edi)
    session.flush()
    # the other channels are follow-ups (EDI writes its file into the outbound folder)
    sent = emit(session, PoSent(actor, po=po, supplier=supplier, resend=resend, outbound_dir=outbound_dir))
    edi_file = sent.edi_file
    return SendOutcome(po.number, po.status, email_id, supplier.contact_email, edi_file)


def po_detail(session: Session, ref: str | uuid.UUID, actor: Actor | None = None) -> dict[str, Any]:
    """Everything `po show` prints and the detail screen shows; with ``actor``, also what
    that user may do now (the screen enables its buttons from it; services still enforce)."""
    po = get_po(session, ref)
    doc = document_data(session, po)
    out: dict[str, Any] = {
        "id": po.id, "number": po.number, "revision": po.revision, "status": po.status, "supplier": doc.supplier_code,
        "supplier_name": doc.supplier_name, "order_date": po.order_date, "expected_date": po.expected_date,
        "currency": po.currency, "payment_terms": po.payment_terms, "rush": po.rush, "total": doc.total,
        "lines": [{"line": ln.line_no, "sku": ln.sku, "description": ln.description, "supplier_part": ln.supplier_part,
                   "qty": ln.qty, "uom": ln.uom, "price": ln.unit_price, "extension": ln.extension,
                   "ship_to": ln.ship_to} for ln in doc.lines],
        "approval": [{"level": st.level, "roles": sorted(st.roles), "reasons": st.reasons,
                      "approved_by": st.approved_by, "rejected_by": st.rejected_by}
                     for st in approvals.approval_state(session, po)],
        "decisions": [{"revision": d.revision, "level": d.level, "by": d.approver_name, "decision": d.decision,
                       "comment": d.comment, "at": d.created_at} for d in approvals.decisions_for(session, po.id)],
    }
    if actor is not None:
        final = po.status in ("closed", "cancelled")
        # only the PO's own branch edits it (server RLS); here the buttons say so before a click does
        mine = owns(session, po.owner_branch_id)
        why_not = approvals.why_not(session, actor, po)
        out["can"] = {
            "submit": mine and actor.can("po.create") and po.status == "draft",
            "approve": not why_not,
            "why_not_approve": why_not,
            "send": mine and actor.can("po.send") and po.status in SENDABLE,
            "cancel": mine and actor.can("po.create") and not final and po.status not in ("partially_received", "received"),
            "close": mine and actor.can("po.create") and po.status in ("sent", "confirmed", "partially_received", "received"),
            "revise": mine and actor.can("po.create") and po.status in REVISABLE,
            "owned_elsewhere": "" if mine else
            f"{branch_code(session, po.owner_branch_id)} owns {po.number}: submit, send, revise, cancel and close it there",
        }
    return out
