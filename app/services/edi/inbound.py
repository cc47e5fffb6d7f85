"""Supplier messages in: 855 / ORDRSP confirmations and 856 / DESADV ship notices.

One file = one call = one transaction (the caller's). Everything is checked before the
first row is written: envelope counts, partner, PO, items, quantities; a bad file raises
an ``EdiImportError`` naming what is wrong and leaves nothing behind.

* A confirmation is compared line by line with the PO. Each difference (quantity changed,
  price changed, date moved, line rejected, extra line) is stored on the message line and
  raised as an exception for the buyer. The PO goes from ``sent`` to ``confirmed`` and its
  lines take the confirmed dates.
* A ship notice becomes one ``ExpectedReceipt`` per PO and ship-to warehouse (source 'asn') with
  a line per item and carton (SSCC, lot, expiry), which Receiving scans; each belongs to its
  warehouse's branch (``app.services.edi.asn_receipts``: this site makes its own branch's now,
  another branch's settler makes its own after its next pull). The quantities it announces are
  taken off the PO's own open expected receipts (``app.services.edi.reconcile``), so Receiving
  does not list the same goods twice.
* Idempotency: (standard, sender, interchange control, transaction control) is unique;
  a file imported again is reported as a duplicate and writes nothing.

An item reference that matches no item at all is bad input (the file is refused); a known
item that is not on the PO is an "extra line" exception.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom
from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.org import Branch, Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.models.types import utcnow
from app.services import audit, exception_inbox
from app.services.auth import Actor
from app.services.buying.purchasing import set_status
from app.services.edi import acks, asn_receipts, customer_orders, edifact, x12
from app.services.edi.customer_orders import CustomerImport
from app.services.edi.readers import EdiContentError, ParsedDoc, ParsedLine, read_edifact, read_x12
from app.services.edi.text import decode, was_utf16
from app.services.errors import DomainError
from app.services.ownership import owns
from app.services.workflow import transition

IMPORTABLE = ("855", "856", "ORDRSP", "DESADV")
#: a partner's answers to files Depot sent: read, never imported as documents, never acknowledged back
ACKNOWLEDGEMENTS = ("997", "999", "TA1", "CONTRL")
CONFIRMABLE = frozenset({"sent", "confirmed", "partially_received", "received"})
SHIPPABLE = frozenset({"sent", "confirmed", "partially_received"})
_SKU_QUALS = ("BP", "SK", "IN", "CB", "BL")
_PART_QUALS = ("VP", "VN", "SA", "MG", "MF")
_GTIN_QUALS = ("EN", "SRV", "UP", "UK", "UA", "EU")


class EdiImportError(DomainError):
    """The file was refused; nothing was written."""


def standard_of(text: str) -> str:
    """'x12' or 'edifact' from decoded text, else a refusal that says what the file starts with."""
    head = text.lstrip("\r\n\t ")
    if head.startswith("ISA"):
        return "x12"
    if head.startswith(("UNA", "UNB")):
        return "edifact"
    shown = head[:12]
    raise EdiImportError(f"not an EDI file: it starts with neither ISA (X12) nor UNA/UNB (EDIFACT) but with {shown!r}")


def detect_type(data: bytes | str) -> str:
    """'855', '856', '850', '810', '997', 'TA1', 'ORDRSP', 'DESADV', 'ORDERS', 'INVOIC' ... from the content."""
    text = decode(data)
    if standard_of(text) == "x12":
        segs, _ = x12.split_segments(text)
        for s in segs:
            if s[0].strip() == "ST":
                return x12.el(s, 1)
        if any(s[0].strip() == "TA1" for s in segs):
            return "TA1"
        raise EdiImportError("X12 file holds no transaction set (no ST segment)")
    for es in edifact.raw_segments(text):
        if es.tag == "UNH":
            return es.get(1, 0)
    raise EdiImportError("EDIFACT file holds no message (no UNH segment)")


@dataclass
class MessageResult:
    message_id: uuid.UUID
    msg_type: str
    po_number: str
    status: str
    differences: list[str]
    expected_receipt: str = ""


@dataclass
class ImportResult:
    file_name: str
    standard: str
    msg_type: str
    sender: str
    duplicate: bool = False
    messages: list[MessageResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: how many interchanges the file held, and how many of its messages were imported before
    interchanges: int = 1
    duplicates: int = 0
    #: for a partner's acknowledgement: what it said about each of our files
    acknowledgements: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.acknowledgements:
            return f"{self.file_name}: " + "; ".join(self.acknowledgements)
        if self.duplicate:
            return f"{self.file_name}: {self.msg_type} from {self.sender} was imported before; nothing changed"
        parts = []
        for m in self.messages:
            extra = f" -> expected receipt {m.expected_receipt}" if m.expected_receipt else ""
            diffs = f", {len(m.differences)} difference(s)" if m.differences else ""
            parts.append(f"{m.msg_type} for PO {m.po_number}: {m.status}{diffs}{extra}")
        extra = f" ({self.interchanges} interchanges)" if self.interchanges > 1 else ""
        if self.duplicates:
            extra += f" ({self.duplicates} message(s) imported before, skipped)"
        return f"{self.file_name}{extra}: " + "; ".join(parts)


@dataclass
class Envelope:
    """One interchange of a file, read: its sender and control, and its messages as ``ParsedDoc``."""

    standard: str
    sender_qualifier: str
    sender: str
    control: str
    docs: list[ParsedDoc]
    warnings: list[str]
    digests: list[str]


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read_messages(data: bytes | str) -> list[Envelope]:
    """Every interchange of the file, checked (counts) and read; a file may hold several."""
    text = decode(data)
    msg_type = detect_type(text)
    if msg_type in ACKNOWLEDGEMENTS:
        raise EdiImportError(f"{msg_type} is an acknowledgement of a file Depot sent, not a message it imports "
                             f"(it is not acknowledged back)")
    if msg_type not in IMPORTABLE:
        raise EdiImportError(f"{msg_type} is not a message Depot imports (it imports {', '.join(IMPORTABLE)})")
    envs: list[Envelope] = []
    try:
        if standard_of(text) == "x12":
            for ic in x12.parse_all(text):
                ic.check()
                envs.append(Envelope("x12", ic.sender_qualifier, ic.sender_id, ic.control,
                                      [read_x12(t) for t in ic.transactions], ic.warnings,
                                      [_digest(["*".join(x.strip() for x in s) for s in t.segments])
                                       for t in ic.transactions]))
        else:
            for ie in edifact.parse_all(text):
                ie.check()
                envs.append(Envelope("edifact", ie.sender_qualifier, ie.sender, ie.control,
                                      [read_edifact(m) for m in ie.messages], ie.warnings,
                                      [_digest([f"{s.tag}{s.elements!r}" for s in m.segments]) for m in ie.messages]))
    except (x12.X12Error, edifact.EdifactError, EdiContentError) as e:
        where = f"interchange {len(envs) + 1}: " if len(envs) else ""
        raise EdiImportError(f"{where}{e}") from None
    if not any(env.docs for env in envs):
        raise EdiImportError("the file holds no message (an empty interchange)")
    if isinstance(data, bytes) and was_utf16(data):
        envs[0].warnings.append("the file came as UTF-16; X12 and EDIFACT files are 8-bit text")
    return envs


def import_file(session: Session, actor: Actor | None, path: str | Path,
                outbound_dir: str | Path | None = None) -> ImportResult | CustomerImport:
    """Import one partner file (its type is detected from the content)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise EdiImportError(f"cannot read {p}: {e.strerror}") from None
    return import_bytes(session, actor, data, p.name, outbound_dir)


def import_bytes(session: Session, actor: Actor | None, data: bytes, file_name: str,
                 outbound_dir: str | Path | None = None) -> ImportResult | CustomerImport:
    """Import every message of every interchange in ``data``: all of them, or (on any error) none.

    A partner's acknowledgement (997, TA1, CONTRL) is recorded against the file it answers
    (``acks``), never imported as a document. A customer's order (850 / ORDERS) becomes a sales
    order and is answered (997 / CONTRL, 855 / ORDRSP into ``outbound_dir``): ``customer_orders``."""
    text = decode(data)
    kind = detect_type(text)
    if kind in customer_orders.ORDER_TYPES:
        try:
            return customer_orders.import_customer_file(session, actor, data, file_name, outbound_dir)
        except customer_orders.CustomerEdiError as e:
            raise EdiImportError(str(e)) from None
    if kind in ACKNOWLEDGEMENTS:
        standard = standard_of(text)
        try:
            lines = acks.record(session, actor, text, standard, file_name)
        except (x12.X12Error, edifact.EdifactError) as e:
            raise EdiImportError(str(e)) from None
        return ImportResult(file_name, standard, kind, "", acknowledgements=lines)
    envs = read_messages(data)
    todo: list[tuple[Envelope, Supplier, ParsedDoc, str, str]] = []
    duplicates = 0
    for env in envs:
        supplier = session.scalars(select(Supplier).where(Supplier.edi_id == env.sender)).first()
        if supplier is None:
            raise EdiImportError(f"sender {env.sender!r} is not the EDI id of any supplier (unknown partner)")
        keys = [f"in:{env.standard}:{env.sender}:{env.control}:{d.control}" for d in env.docs]
        seen = dict(session.execute(select(SupplierMessage.dedupe_key, SupplierMessage.content_hash)
                                    .where(SupplierMessage.dedupe_key.in_(keys))).all())
        for doc, key, digest in zip(env.docs, keys, env.digests, strict=True):
            if key in {t[3] for t in todo}:
                raise EdiImportError(f"{doc.msg_type} control number {env.control}/{doc.control} from {env.sender} "
                                     f"appears twice in the file")
            if key not in seen:
                todo.append((env, supplier, doc, key, digest))
            elif seen[key] != digest:
                raise EdiImportError(
                    f"{doc.msg_type} control number {env.control}/{doc.control} from {env.sender} was already used by "
                    f"a different message; the partner must send new control numbers")
            else:
                duplicates += 1
    first = envs[0]
    senders = ", ".join(dict.fromkeys(env.sender for env in envs))
    types = ", ".join(dict.fromkeys(d.msg_type for env in envs for d in env.docs))
    result = ImportResult(file_name, first.standard, types, senders,
                          warnings=[w for env in envs for w in env.warnings], interchanges=len(envs),
                          duplicates=duplicates)
    if not todo:
        result.duplicate = True
        return result
    # Check everything first (so an error leaves nothing behind), then write.
    plans = [_plan(session, supplier, doc) for _, supplier, doc, _, _ in todo]
    for (env, supplier, doc, key, digest), plan in zip(todo, plans, strict=True):
        result.messages += _apply(session, actor, supplier, env, doc, key, digest, plan, file_name)
    session.flush()
    return result


@dataclass
class _Match:
    line: ParsedLine
    item: Item | None
    po_line: PurchaseOrderLine | None


class _ItemIndex:
    """Every item reference of a message resolved with three IN queries (not one per line)."""

    def __init__(self, session: Session, supplier: Supplier, refs: list[tuple[str, str]]) -> None:
        skus = {v for q, v in refs if q in _SKU_QUALS}
        gtins = {g for q, v in refs if q in _GTIN_QUALS for g in (v, v.zfill(14))}
        parts = {v for q, v in refs if q in _PART_QUALS}
        self.by_sku = {i.sku: i for i in session.scalars(select(Item).where(Item.sku.in_(skus)))} if skus else {}
        self.by_gtin: dict[str, Item] = {}
        self.by_part: dict[str, Item] = {}
        if gtins:
            for uom_gtin, item in session.execute(select(ItemUom.gtin, Item).join(Item, Item.id == ItemUom.item_id)
                                                  .where(ItemUom.gtin.in_(gtins))).all():
                self.by_gtin[uom_gtin or ""] = item
            for item in session.scalars(select(Item).where(Item.gtin.in_(gtins))):
                self.by_gtin[item.gtin or ""] = item
        if parts:
            for part, item in session.execute(
                    select(ItemSupplier.supplier_part, Item).join(Item, Item.id == ItemSupplier.item_id)
                    .where(ItemSupplier.supplier_id == supplier.id, ItemSupplier.supplier_part.in_(parts))).all():
                self.by_part[part] = item

    def find(self, refs: list[tuple[str, str]]) -> Item | None:
        """Buyer part / SKU first, then GTIN, then the supplier's part number."""
        for q, v in refs:
            if q in _SKU_QUALS and v in self.by_sku:
                return self.by_sku[v]
        for q, v in refs:
            if q in _GTIN_QUALS and (v in self.by_gtin or v.zfill(14) in self.by_gtin):
                return self.by_gtin.get(v) or self.by_gtin[v.zfill(14)]
        for q, v in refs:
            if q in _PART_QUALS and v in self.by_part:
                return self.by_part[v]
        return None


def _plan(session: Session, supplier: Supplier, doc: ParsedDoc) -> dict[str, tuple[PurchaseOrder, list[_Match]]]:
    """Resolve POs, items and PO lines for every line; raise on anything unknown."""
    by_po: dict[str, list[ParsedLine]] = {}
    for ln in doc.lines:
        by_po.setdefault(ln.po_number or doc.po_number, []).append(ln)
    if not doc.lines:
        by_po[doc.po_number] = []
    plan: dict[str, tuple[PurchaseOrder, list[_Match]]] = {}
    for number, lines in by_po.items():
        if not number:
            raise EdiImportError(f"{doc.msg_type} {doc.control}: no purchase order number")
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).first()
        if po is None:
            raise EdiImportError(f"{doc.msg_type} {doc.control}: unknown purchase order {number}")
        if not owns(session, po.owner_branch_id):
            raise EdiImportError(f"{doc.msg_type} {doc.control}: purchase order {number} belongs to another branch; "
                                 f"its supplier messages are imported at that branch (its EDI folder)")
        if po.supplier_id != supplier.id:
            raise EdiImportError(
                f"{doc.msg_type} {doc.control}: purchase order {number} is not for supplier {supplier.code} "
                f"(the sender of this file); wrong partner")
        allowed = CONFIRMABLE if doc.kind == "confirmation" else SHIPPABLE
        if po.status not in allowed:
            raise EdiImportError(f"{doc.msg_type} {doc.control}: purchase order {number} is {po.status}; "
                                 f"a {doc.kind.replace('_', ' ')} needs it to be {' or '.join(sorted(allowed))}")
        po_lines = list(session.scalars(select(PurchaseOrderLine).where(
            PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.deleted_at.is_(None)).order_by(PurchaseOrderLine.line_no)))
        used: set[uuid.UUID] = set()
        matches: list[_Match] = []
        index = _ItemIndex(session, supplier, [r for ln in lines for r in ln.refs])
        by_no = {p.line_no: p for p in po_lines}
        by_item: dict[uuid.UUID, list[PurchaseOrderLine]] = {}
        for p in po_lines:
            by_item.setdefault(p.item_id, []).append(p)
        for ln in lines:
            item = index.find(ln.refs) if ln.refs else None
            if ln.refs and item is None:
                raise EdiImportError(f"{doc.msg_type} {doc.control} line {ln.line_no or ln.seq}: unknown item "
                                     f"{ln.ref_text()} (no item has that SKU, GTIN or supplier part)")
            pl = by_no.get(ln.line_no) if ln.line_no is not None else None
            if pl is not None and ((item is not None and pl.item_id != item.id)
                                   or (pl.id in used and doc.kind != "ship_notice")):
                pl = None
            if pl is None and item is not None:
                same = by_item.get(item.id, [])
                pl = next((p for p in same if p.id not in used), None)
                if pl is None and doc.kind == "ship_notice" and same:
                    pl = same[0]  # several cartons of one PO line
            if pl is not None:
                used.add(pl.id)
                item = item or session.get(Item, pl.item_id)
            if item is None:
                raise EdiImportError(f"{doc.msg_type} {doc.control} line {ln.line_no or ln.seq}: no item reference "
                                     f"and no line {ln.line_no} on purchase order {number}")
            if doc.kind == "ship_notice" and not ln.qty:
                raise EdiImportError(f"{doc.msg_type} {doc.control} line {ln.line_no or ln.seq}: quantity must be more than zero")
            matches.append(_Match(ln, item, pl))
        plan[number] = (po, matches)
    return plan


def _apply(
    session: Session, actor: Actor | None, supplier: Supplier, env: Envelope, doc: ParsedDoc, key: str, digest: str,
    plan: dict[str, tuple[PurchaseOrder, list[_Match]]], file_name: str,
) -> list[MessageResult]:
    out: list[MessageResult] = []
    for n, (number, (po, matches)) in enumerate(plan.items()):
        msg = SupplierMessage(
            direction="in", standard=env.standard, msg_type=doc.msg_type, supplier_id=supplier.id,
            partner_ref=env.sender, interchange_control=env.control, control_number=doc.control,
            dedupe_key=key if n == 0 else f"{key}:{number}", content_hash=digest, file_name=file_name[:255], po_id=po.id,
            po_number=number, doc_ref=doc.doc_ref[:40], owner_branch_id=po.owner_branch_id, received_at=utcnow(),
        )
        session.add(msg)
        session.flush()
        receipts = ""
        if doc.kind == "confirmation":
            diffs = _confirm(session, actor, doc, msg, po, matches)
        else:
            diffs, receipts = _ship_notice(session, actor, doc, msg, po, supplier, matches)
        msg.differences = len(diffs)
        if diffs:
            transition(msg, "differences", actor)
        result = MessageResult(msg.id, doc.msg_type, number, msg.status, diffs, receipts)
        msg.summary = _summary(doc, len(matches), diffs, result.expected_receipt)
        audit.record(session, actor, "edi.import", "supplier_message", msg.id, po.owner_branch_id,
                     type=doc.msg_type, po=number, file=file_name, differences=len(diffs))
        out.append(result)
    return out


def _summary(doc: ParsedDoc, n: int, diffs: list[str], er: str) -> str:
    head = {"confirmation": f"{doc.header_status} confirmation", "ship_notice": f"ship notice {doc.doc_ref}"}[doc.kind]
    text = f"{head}, {n} line(s)"
    if doc.kind == "ship_notice":
        text += f", shipped {doc.ship_date or '?'}, due {doc.delivery_date or '?'}"
        if doc.carrier or doc.pro_number:
            text += f", carrier {doc.carrier or '?'} PRO {doc.pro_number or '?'}"
    if er:
        text += f", expected receipt {er}"
    if diffs:
        text += "\n" + "\n".join(diffs)
    return text


def _raise(session: Session, actor: Actor | None, po: PurchaseOrder, msg: SupplierMessage, kind: str, title: str,
           detail: str, severity: str = "warning", tag: str = "") -> None:
    exception_inbox.raise_exception(
        session, actor, kind=kind, title=title, detail=detail, severity=severity, role="buyer",
        entity="purchase_order", entity_id=po.id, entity_ref=po.number, owner_branch_id=po.owner_branch_id,
        key=f"{msg.dedupe_key}:{tag or kind}",
    )


def _confirm(session: Session, actor: Actor | None, doc: ParsedDoc, msg: SupplierMessage, po: PurchaseOrder,
             matches: list[_Match]) -> list[str]:
    diffs: list[str] = []
    if doc.header_status == "rejected" and not matches:
        text = f"supplier rejected purchase order {po.number} ({doc.msg_type} {doc.doc_ref})"
        diffs.append(text)
        _raise(session, actor, po, msg, "edi.po_rejected", f"PO {po.number} rejected by supplier", text, "error")
    for m in matches:
        ln, pl = m.line, m.po_line
        row = SupplierMessageLine(
            message_id=msg.id, line_no=ln.line_no or ln.seq, po_line_id=pl.id if pl else None,
            item_id=m.item.id if m.item else None, item_ref=ln.ref_text(), qty_confirmed=ln.qty,
            price_confirmed=ln.price, date_confirmed=ln.date, owner_branch_id=po.owner_branch_id,
        )
        found: list[tuple[str, str]] = []
        sku = m.item.sku if m.item else ln.ref_text()
        if pl is None:
            found.append(("edi.extra_line", f"extra line: {sku} x {ln.qty} is not on the PO"))
            row.line_status = "extra"
        else:
            row.qty_ordered, row.price_ordered = pl.qty_ordered, pl.unit_price
            row.date_ordered = pl.expected_date or po.expected_date
            if ln.status == "rejected":
                found.append(("edi.line_rejected", f"line {pl.line_no} {sku}: rejected by the supplier"))
            else:
                # what the supplier commits to: now plus later (a backorder is not a cut)
                total = None if ln.qty is None and ln.backorder is None else (ln.qty or 0) + (ln.backorder or 0)
                if total is not None and total != pl.qty_ordered:
                    found.append(("edi.qty_changed", f"line {pl.line_no} {sku}: quantity changed {pl.qty_ordered} -> {total}"))
                if ln.status == "backordered":
                    what = (f"{ln.backorder} backordered" if ln.backorder is not None else "backordered")
                    if ln.backorder_date:
                        what += f" (due {ln.backorder_date})"
                    now = f", {ln.qty} confirmed now" if ln.qty is not None else ""
                    found.append(("edi.backordered", f"line {pl.line_no} {sku}: {what}{now}"))
                if ln.price is not None and ln.price != pl.unit_price:
                    found.append(("edi.price_changed", f"line {pl.line_no} {sku}: price changed {pl.unit_price} -> {ln.price}"))
                if ln.date is not None and row.date_ordered is not None and ln.date != row.date_ordered:
                    found.append(("edi.date_moved", f"line {pl.line_no} {sku}: date moved {row.date_ordered} -> {ln.date}"))
                if ln.date is not None:
                    pl.expected_date = ln.date
            row.line_status = ("rejected" if ln.status == "rejected" else
                               "backordered" if ln.status == "backordered" else "changed" if found else "accepted")
        row.difference = "\n".join(t for _, t in found)
        session.add(row)
        for kind, text in found:
            _raise(session, actor, po, msg, kind, f"PO {po.number}: {text}", f"{doc.msg_type} {doc.doc_ref}: {text}",
                   tag=f"{row.line_no}:{kind}")
        diffs += [t for _, t in found]
    if po.status == "sent" and doc.header_status != "rejected":
        set_status(session, actor, po, "confirmed", by=doc.msg_type)
    dates = [m.line.date for m in matches if m.line.date and m.po_line and m.line.status != "rejected"]
    if dates and po.expected_date is not None:
        po.expected_date = max(dates)
    return diffs


def _ship_notice(session: Session, actor: Actor | None, doc: ParsedDoc, msg: SupplierMessage, po: PurchaseOrder,
                 supplier: Supplier, matches: list[_Match]) -> tuple[list[str], str]:
    """Message lines and exceptions here (the PO owner's); one ASN receipt per ship-to warehouse:
    made now for this site's branch, by the other branch's settler for its own (``asn_receipts``).
    Returns the differences and what became of the goods ("DAL-ASN-000001; HOU1: when HOU syncs")."""
    when = doc.delivery_date or doc.ship_date
    head = asn_receipts.AsnHeader(doc.doc_ref, dt.datetime.combine(when, dt.time(0), dt.UTC) if when else None,
                                  doc.carrier, doc.pro_number)
    diffs: list[str] = []
    shipped: dict[uuid.UUID, int] = {}
    by_wh: dict[uuid.UUID, list[tuple[asn_receipts.AsnLine, SupplierMessageLine]]] = {}
    for m in matches:
        ln, pl = m.line, m.po_line
        assert m.item is not None and ln.qty
        row = SupplierMessageLine(
            message_id=msg.id, line_no=ln.line_no or ln.seq, po_line_id=pl.id if pl else None, item_id=m.item.id,
            item_ref=ln.ref_text(), qty_confirmed=ln.qty, sscc=ln.sscc[:20], lot_code=ln.lot[:40],
            date_confirmed=doc.delivery_date, line_status="shipped", owner_branch_id=po.owner_branch_id,
        )
        # a line goes where its PO line ships; a line not on the PO to the PO's own warehouse
        by_wh.setdefault(pl.ship_to_warehouse_id if pl else po.warehouse_id, []).append((asn_receipts.AsnLine(
            pl.id if pl else None, m.item.id, ln.qty, ln.sscc, ln.lot, ln.expiry), row))
        text = ""
        if pl is None:
            text, kind = f"extra line: {m.item.sku} x {ln.qty} shipped but not on the PO", "edi.extra_line"
            row.line_status = "extra"
        else:
            row.qty_ordered, row.price_ordered, row.date_ordered = pl.qty_ordered, pl.unit_price, pl.expected_date
            shipped[pl.id] = shipped.get(pl.id, 0) + ln.qty
            open_qty = pl.qty_ordered - pl.qty_received
            if shipped[pl.id] > open_qty:
                text, kind = (f"line {pl.line_no} {m.item.sku}: {shipped[pl.id]} shipped but only {open_qty} open "
                              f"on the PO", "edi.qty_over")
        if text:
            row.difference = text
            diffs.append(text)
            _raise(session, actor, po, msg, kind, f"PO {po.number}: {text}", f"{doc.msg_type} {doc.doc_ref}: {text}",
                   tag=f"{row.line_no}:{kind}")
        session.add(row)
    session.flush()
    made: list[str] = []
    later: list[str] = []
    # the PO's own warehouse first, so the message points at its receipt when there is one
    for wh_id in sorted(by_wh, key=lambda w: (w != po.warehouse_id, str(w))):
        wh = session.get(Warehouse, wh_id)
        assert wh is not None
        pairs = by_wh[wh_id]
        if owns(session, wh.branch_id):
            er = asn_receipts.make_asn_receipt(session, actor, msg, po, wh, head, [a for a, _ in pairs])
            if msg.expected_receipt_id is None:
                msg.expected_receipt_id = er.id
            made.append(er.number)
        else:
            asn_receipts.record_handoff(session, actor, msg, wh, head,
                                        {row.id: a.expiry_date for a, row in pairs if a.expiry_date})
            code = session.scalar(select(Branch.code).where(Branch.id == wh.branch_id)) or "its branch"
            later.append(f"{wh.code}: expected when {code} next syncs")
    return diffs, "; ".join(made + later)
