"""Purchase orders out as X12 850 (004010) or EDIFACT ORDERS (D96A).

``export_po`` is what PO sending calls: it returns a file name and the bytes, takes the
next control number for that supplier, and records an outbound ``SupplierMessage`` so the
supplier's 997/855 can be matched to what was sent. It writes no file itself: the caller
puts the bytes into the outbound folder (``write_outbound`` does that atomically).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.edi import SupplierMessage
from app.models.org import Branch, Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.edi import edifact, x12
from app.services.edi.common import next_control, our_id
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.events import PoSent, on
from app.services.ownership import ForeignWrite, owns

FORMATS = ("x12", "edifact")
#: a PO may go to the supplier in these states (sending moves approved -> sent)
EXPORTABLE = frozenset({"approved", "sent", "confirmed", "partially_received"})


def _price(p: Decimal) -> str:
    """Price text without trailing zeros ('1.25', '369')."""
    s = format(p.normalize(), "f")
    return s


def _ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def _lines(session: Session, po: PurchaseOrder) -> list[tuple[PurchaseOrderLine, Item, str]]:
    rows = session.execute(
        select(PurchaseOrderLine, Item)
        .join(Item, Item.id == PurchaseOrderLine.item_id)
        .where(PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.deleted_at.is_(None))
        .order_by(PurchaseOrderLine.line_no)
    ).all()
    parts = dict(session.execute(
        select(ItemSupplier.item_id, ItemSupplier.supplier_part).where(ItemSupplier.supplier_id == po.supplier_id)
    ).all())
    return [(line, item, parts.get(item.id, "") or "") for line, item in rows]


def _x12_850(po: PurchaseOrder, branch: Branch, wh: Warehouse, lines: list[tuple[PurchaseOrderLine, Item, str]],
             whs: dict[uuid.UUID, Warehouse]) -> list[x12.Segment]:
    body: list[x12.Segment] = [
        ["BEG", "05" if po.revision else "00", "SA", po.number, str(po.revision) if po.revision else "", _ymd(po.order_date)],
        ["CUR", "BY", po.currency],
    ]
    if po.expected_date:
        body.append(["DTM", "002", _ymd(po.expected_date)])
    body.append(["N1", "BY", branch.name, "92", branch.code])
    body.append(["N1", "ST", wh.name, "92", wh.code])
    hash_total = 0
    for line, item, part in lines:
        po1 = ["PO1", str(line.line_no), str(line.qty_ordered), line.uom or "EA", _price(line.unit_price), "PE",
               "BP", item.sku]
        if part:
            po1 += ["VP", part]
        if item.gtin:
            po1 += ["UK", item.gtin]
        body.append(po1)
        body.append(["PID", "F", "", "", "", item.description])
        if line.expected_date:
            body.append(["DTM", "002", _ymd(line.expected_date)])
        if line.ship_to_warehouse_id != po.warehouse_id and line.ship_to_warehouse_id in whs:
            other = whs[line.ship_to_warehouse_id]
            body.append(["N1", "ST", other.name, "92", other.code])
        hash_total += line.qty_ordered
    body.append(["CTT", str(len(lines)), str(hash_total)])
    return body


def _orders(po: PurchaseOrder, branch: Branch, wh: Warehouse, supplier: Supplier,
            lines: list[tuple[PurchaseOrderLine, Item, str]], whs: dict[uuid.UUID, Warehouse]) -> list[edifact.Seg]:
    S = edifact.seg
    body = [
        S("BGM", "220", po.number, "5" if po.revision else "9"),
        S("DTM", ["137", _ymd(po.order_date), "102"]),
    ]
    if po.expected_date:
        body.append(S("DTM", ["2", _ymd(po.expected_date), "102"]))
    body += [
        S("NAD", "BY", [branch.code, "", "92"]),
        S("NAD", "SU", [supplier.edi_id or supplier.code, "", "92"]),
        S("NAD", "DP", [wh.code, "", "92"]),
        S("CUX", ["2", po.currency, "9"]),
    ]
    for line, item, part in lines:
        body.append(S("LIN", str(line.line_no), "", [item.gtin, "EN"]) if item.gtin else S("LIN", str(line.line_no)))
        body.append(S("PIA", "5", [item.sku, "BP"]))
        if part:
            body.append(S("PIA", "1", [part, "SA"]))
        body.append(S("IMD", "F", "", ["", "", "", item.description[:35]]))
        body.append(S("QTY", ["21", str(line.qty_ordered), line.uom or "EA"]))
        if line.expected_date:
            body.append(S("DTM", ["2", _ymd(line.expected_date), "102"]))
        body.append(S("PRI", ["AAA", _price(line.unit_price)]))
        if line.ship_to_warehouse_id != po.warehouse_id and line.ship_to_warehouse_id in whs:
            body.append(S("LOC", "7", [whs[line.ship_to_warehouse_id].code, "", "92"]))
    body += [S("UNS", "S"), S("CNT", ["2", str(len(lines))])]
    return body


def export_po(
    session: Session, po_id: uuid.UUID, fmt: str, *, actor: Actor | None = None, when: dt.datetime | None = None,
) -> tuple[str, bytes]:
    """The PO as an X12 850 or EDIFACT ORDERS file: (file name, content).

    Refuses another branch's PO (on a branch workstation), a PO that is not approved yet (or is
    cancelled/closed), a PO without lines and a supplier without an EDI id. Takes the next control number for the supplier and records
    the outbound message.
    """
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}, not {fmt!r}")
    po = session.get(PurchaseOrder, po_id)
    if po is None:
        raise NotFound("purchase order", po_id)
    if not owns(session, po.owner_branch_id):  # its control number and outbound message are that branch's
        code = session.scalar(select(Branch.code).where(Branch.id == po.owner_branch_id)) or "another branch"
        raise ForeignWrite(f"purchase order {po.number} belongs to {code}; it goes to the supplier from a {code} workstation")
    if po.status not in EXPORTABLE:
        raise Conflict(f"purchase order {po.number} is {po.status}: only an approved PO can go to the supplier")
    supplier = session.get(Supplier, po.supplier_id)
    if supplier is None:
        raise NotFound("supplier", po.supplier_id)
    if not supplier.edi_id.strip():
        raise ValidationError("supplier.edi_id", f"supplier {supplier.code} has no EDI id; send the PO by e-mail instead")
    lines = _lines(session, po)
    if not lines:
        raise ValidationError("lines", f"purchase order {po.number} has no lines")
    branch = session.get(Branch, po.owner_branch_id)
    wh = session.get(Warehouse, po.warehouse_id)
    if branch is None or wh is None:
        raise NotFound("branch or warehouse of purchase order", po.number)
    whs = {w.id: w for w in session.scalars(
        select(Warehouse).where(Warehouse.id.in_({ln.ship_to_warehouse_id for ln, _, _ in lines})))}
    when = when or utcnow()
    partner = (supplier.edi_qualifier.strip() or "ZZ", supplier.edi_id.strip())
    ours = our_id(session, po.owner_branch_id)
    control = next_control(session, po.owner_branch_id, fmt, partner[1])
    if fmt == "x12":
        text = x12.write_interchange(sender=ours, receiver=partner, control=control, functional_id="PO",
                                     transactions=[("850", _x12_850(po, branch, wh, lines, whs))], when=when)
        msg_type, name = "850", f"{po.number}-850-{control:09d}.x12"
    else:
        text = edifact.write_interchange(
            sender=(ours[1], ours[0]), recipient=(partner[1], partner[0]), control=control, when=when,
            messages=[("ORDERS", "D:96A:UN", _orders(po, branch, wh, supplier, lines, whs))])
        msg_type, name = "ORDERS", f"{po.number}-ORDERS-{control:09d}.edi"
    msg = SupplierMessage(
        direction="out", standard=fmt, msg_type=msg_type, supplier_id=supplier.id, partner_ref=partner[1],
        interchange_control=str(control), control_number="0001" if fmt == "x12" else "1",
        dedupe_key=f"out:{fmt}:{partner[1]}:{control}", file_name=name, status="exported", po_id=po.id,
        po_number=po.number, doc_ref=po.number, owner_branch_id=po.owner_branch_id,
        summary=f"{msg_type} for {po.number} rev {po.revision}: {len(lines)} lines", received_at=when,
    )
    session.add(msg)
    session.flush()
    audit.record(session, actor, "edi.export", "purchase_order", po.id, po.owner_branch_id,
                 format=fmt, control=control, file=name)
    return name, text.encode("utf-8")


def write_outbound(directory: str | Path, name: str, content: bytes) -> Path:
    """Write a file into a folder so a partner's pick-up never sees it half-written (temp + rename)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    target = d / name
    tmp = d / f".{name}.part"
    tmp.write_bytes(content)
    os.replace(tmp, target)
    return target


@on(PoSent, name="edi.orders", order=10)
def _send_by_edi(session: Session, event: PoSent) -> None:
    """A PO sent to a supplier that trades by EDI: its 850 / ORDERS file into the outbound folder."""
    fmt = (event.supplier.edi_format or "").strip().lower()
    if not fmt:
        return
    name, payload = export_po(session, event.po.id, fmt, actor=event.actor)
    if event.outbound_dir is not None:
        event.edi_file = write_outbound(event.outbound_dir, name, payload)
