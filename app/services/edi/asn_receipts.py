"""Ship notices of a consolidated PO: one ASN expected receipt per ship-to warehouse, each owned
by that warehouse's branch.

Why: an 856/DESADV arrives at the PO owner's EDI folder, but its cartons may be bound for several
branches' warehouses (a consolidated PO's lines name their own ship-to). Goods must be expected
where they will arrive, and an expected receipt belongs to its warehouse's branch. So:

* the importing site makes the ASN receipts of its own branch's warehouses at once
  (``make_asn_receipt``), taking the announced quantities off its PO receipts
  (``reconcile.take_off_po_receipts``);
* for every other branch's warehouse it records a hand-off (an audit entry on the supplier message,
  ``asn.handoff``) with what the message lines do not carry: carrier, PRO number, expected time,
  carton expiry dates;
* that branch's settler (``settle_ship_notices``, after each pull) makes its own ASN receipt from
  the supplier message lines it pulled (only lines whose PO line ships to that warehouse), plus the
  hand-off, and takes the quantities off its own PO receipt. It waits until that PO receipt exists
  (made by the purchasing settler), so the take-off happens exactly once. The receipt's
  ``source_doc_id`` is the supplier message: "is it there yet" is one lookup. Its id and its lines'
  ids are derived from (message, warehouse), so two workstations of the branch that settle the
  same message before seeing each other's make the same rows, not two receipts.

A line that is not on the PO (an extra line) is expected in the PO's own warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.org import Warehouse
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.services import audit, numbering
from app.services.auth import Actor
from app.services.edi import reconcile
from app.services.ownership import ownership, settler

SHIP_NOTICES = ("856", "DESADV")
#: PO states in which a ship notice still means goods are coming
SHIPPABLE = ("sent", "confirmed", "partially_received")
HANDOFF = "asn.handoff"
_NAMESPACE = uuid.UUID("0b6f3e2a-5c1d-4f7e-9a8b-2d4c6e8f1a3b")


def asn_receipt_id(message_id: uuid.UUID, warehouse_id: uuid.UUID) -> uuid.UUID:
    """The id of the ASN receipt of one ship notice at one warehouse (the same on every site)."""
    return uuid.uuid5(_NAMESPACE, f"asn:{message_id.hex}:{warehouse_id.hex}")


@dataclass(frozen=True)
class AsnLine:
    po_line_id: uuid.UUID | None
    item_id: uuid.UUID
    qty: int
    sscc: str = ""
    lot_code: str = ""
    expiry_date: dt.date | None = None


@dataclass(frozen=True)
class AsnHeader:
    asn_ref: str
    expected_at: dt.datetime | None
    carrier: str = ""
    pro_number: str = ""


def make_asn_receipt(session: Session, actor: Actor | None, msg: SupplierMessage, po: PurchaseOrder, wh: Warehouse,
                     head: AsnHeader, lines: Sequence[AsnLine]) -> ExpectedReceipt:
    """The ASN expected receipt of ``msg`` at ``wh`` (owned by ``wh``'s branch), and the take-off of
    its quantities from that warehouse's PO receipts."""
    branch_id = wh.branch_id
    er = ExpectedReceipt(
        id=asn_receipt_id(msg.id, wh.id), number=numbering.next_number(session, branch_id, "ASN"), source="asn", po_id=po.id, supplier_id=msg.supplier_id,
        source_doc_id=msg.id, warehouse_id=wh.id, owner_branch_id=branch_id, expected_at=head.expected_at,
        asn_ref=head.asn_ref[:40], carrier=head.carrier[:40], pro_number=head.pro_number[:40],
    )
    session.add(er)
    session.flush()
    shipped: dict[uuid.UUID, int] = {}
    for n, ln in enumerate(lines, 1):
        session.add(ExpectedReceiptLine(
            id=uuid.uuid5(er.id, str(n)), receipt_id=er.id, po_line_id=ln.po_line_id, item_id=ln.item_id, qty_expected=ln.qty,
            sscc=ln.sscc[:20], lot_code=ln.lot_code[:40], expiry_date=ln.expiry_date, owner_branch_id=branch_id))
        if ln.po_line_id is not None:
            shipped[ln.po_line_id] = shipped.get(ln.po_line_id, 0) + ln.qty
    audit.record(session, actor, "receipt.expected", "expected_receipt", er.id, branch_id, source="asn",
                 asn=head.asn_ref, lines=len(lines), warehouse=wh.code, message=msg.id)
    # What the ASN announces is no longer expected on the PO's own receipts (no double listing).
    reconcile.take_off_po_receipts(session, actor, po, er, shipped)
    return er


def record_handoff(session: Session, actor: Actor | None, msg: SupplierMessage, wh: Warehouse, head: AsnHeader,
                   expiry: dict[uuid.UUID, dt.date]) -> None:
    """What ``wh``'s branch needs besides the message lines to make its ASN receipt."""
    audit.record(session, actor, HANDOFF, "supplier_message", msg.id, wh.branch_id, warehouse_id=wh.id,
                 warehouse=wh.code, asn_ref=head.asn_ref, expected_at=head.expected_at, carrier=head.carrier,
                 pro_number=head.pro_number, expiry={str(k): v.isoformat() for k, v in expiry.items()})


def _handoff(session: Session, msg_id: uuid.UUID, wh_id: uuid.UUID) -> dict[str, object]:
    for raw in session.scalars(select(AuditEntry.detail).where(
            AuditEntry.entity == "supplier_message", AuditEntry.entity_id == msg_id, AuditEntry.action == HANDOFF)):
        try:
            d = json.loads(raw)
        except ValueError:
            continue
        if isinstance(d, dict) and d.get("warehouse_id") == str(wh_id):
            return d
    return {}


def _date(v: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def _receipt_from_message(session: Session, msg: SupplierMessage, po: PurchaseOrder, wh: Warehouse) -> ExpectedReceipt | None:
    rows = session.execute(
        select(SupplierMessageLine, PurchaseOrderLine.item_id)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == SupplierMessageLine.po_line_id)
        .where(SupplierMessageLine.message_id == msg.id, SupplierMessageLine.deleted_at.is_(None),
               SupplierMessageLine.qty_confirmed > 0, PurchaseOrderLine.ship_to_warehouse_id == wh.id)
        .order_by(SupplierMessageLine.created_at, SupplierMessageLine.id)).all()
    if not rows:
        return None
    d = _handoff(session, msg.id, wh.id)
    expiry = d.get("expiry") if isinstance(d.get("expiry"), dict) else {}
    assert isinstance(expiry, dict)
    when: dt.datetime | None = None
    if d.get("expected_at"):
        try:
            when = dt.datetime.fromisoformat(str(d["expected_at"]))
        except ValueError:
            when = None
    elif rows[0][0].date_confirmed is not None:
        when = dt.datetime.combine(rows[0][0].date_confirmed, dt.time(0), dt.UTC)
    head = AsnHeader(str(d.get("asn_ref") or msg.doc_ref), when, str(d.get("carrier") or ""), str(d.get("pro_number") or ""))
    lines = [AsnLine(r.po_line_id, r.item_id or item_id, int(r.qty_confirmed or 0), r.sscc, r.lot_code,
                     _date(expiry.get(str(r.id)))) for r, item_id in rows]
    return make_asn_receipt(session, None, msg, po, wh, head, lines)


@settler("receiving.asn_receipts")
def settle_ship_notices(session: Session) -> int:
    """This branch's ASN receipts for ship notices another branch imported (see the module doc).

    Scope: ship notices of POs still being shipped (the indexed PO status), owned by other branches,
    with a line bound for one of this branch's warehouses and no ASN receipt of ours yet."""
    own = ownership(session)
    if not own.enforced:
        return 0  # a site owning every branch made every receipt at import
    q = (select(SupplierMessage.id, PurchaseOrderLine.ship_to_warehouse_id)
         .select_from(PurchaseOrder)
         .join(SupplierMessage, SupplierMessage.po_id == PurchaseOrder.id)
         .join(SupplierMessageLine, SupplierMessageLine.message_id == SupplierMessage.id)
         .join(PurchaseOrderLine, PurchaseOrderLine.id == SupplierMessageLine.po_line_id)
         .join(Warehouse, Warehouse.id == PurchaseOrderLine.ship_to_warehouse_id)
         .where(PurchaseOrder.status.in_(SHIPPABLE), PurchaseOrder.deleted_at.is_(None),
                SupplierMessage.direction == "in", SupplierMessage.msg_type.in_(SHIP_NOTICES),
                SupplierMessage.deleted_at.is_(None), SupplierMessage.owner_branch_id != own.branch_id,
                Warehouse.branch_id == own.branch_id,
                ~select(ExpectedReceipt.id).where(
                    ExpectedReceipt.po_id == PurchaseOrder.id, ExpectedReceipt.source == "asn",
                    ExpectedReceipt.source_doc_id == SupplierMessage.id,
                    ExpectedReceipt.warehouse_id == PurchaseOrderLine.ship_to_warehouse_id).exists())
         .distinct())
    made = 0
    for msg_id, wh_id in sorted(session.execute(q).all()):
        msg = session.get(SupplierMessage, msg_id)
        wh = session.get(Warehouse, wh_id)
        po = session.get(PurchaseOrder, msg.po_id) if msg is not None and msg.po_id else None
        if msg is None or wh is None or po is None:
            continue
        po_receipt = select(ExpectedReceipt.id).where(ExpectedReceipt.po_id == po.id, ExpectedReceipt.source == "po",
                                                      ExpectedReceipt.warehouse_id == wh.id)
        if session.scalars(po_receipt).first() is None:
            continue  # our PO receipt is not there yet: take off from it once it is (next run)
        if _receipt_from_message(session, msg, po, wh) is not None:
            made += 1
    return made
