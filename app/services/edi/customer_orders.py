"""Customer orders by EDI: X12 850 / EDIFACT ORDERS in, a 997 / CONTRL and an 855 / ORDRSP back.

``edi.inbound.import_bytes`` routes an 850 or ORDERS file here. Per interchange:

* the envelope is checked (counts, controls) before anything is imported. A bad one refuses the
  whole file: the 997 / CONTRL says so (``AK9*R``) and the result is ``refused`` (no order is
  written). The result is returned, not raised, so the caller commits the acknowledgement's
  record and control number with it: the rejecting 997 has left the building, and a rollback
  would give the next message to that partner the same interchange number. Every order of the
  file is read first too: a set that is not an order (no BEG / BGM) is rejected by the 997 the
  same way, so nothing else has been sent when a file is refused;
* the sender is a customer's EDI id (``Customer.edi_id``); an unknown partner is refused;
* a (sender, interchange, transaction) control seen before: with the same content it is a resend
  (nothing changes, the 997 is sent again); with other content it is refused (the partner must
  send new control numbers), and the 855 / ORDRSP says so;
* each message becomes a sales order through ``sales.orders.create_order`` (the same rules as the
  keyboard: prices from the customer's lists, promise dates, credit control). An item no SKU, GTIN
  or pack GTIN names refuses the whole order (nothing is written) and the 855 rejects it
  (``BAK02 RD``, the line ``R2``, the others ``IR``);
* the 855 / ORDRSP states per line what was accepted (``IA`` / action 5), what is backordered with
  its promised date (``IB`` / ``QTY+83``), and a price that differs from the customer's (``IP``:
  our price). A syntax acknowledgement answers the envelope, the 855 answers the business.

The acknowledgements are written into the outbound folder and recorded as ``CustomerMessage``
rows (so a partner's 997 to our 855 can be matched later). One file = one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.parties import Customer
from app.models.sales import CustomerMessage
from app.services import audit
from app.services.auth import Actor
from app.services.edi import edifact, x12
from app.services.edi.common import next_control, our_id
from app.services.edi.outbound import write_outbound
from app.services.edi.text import decode
from app.services.errors import DomainError
from app.services.sales.orders import LineInput, OrderResult, create_order, find_item

ORDER_TYPES = ("850", "ORDERS")
_OUR_PART = ("VP", "VN", "SK", "IN", "SA", "MF")  # how a customer names our item number
_GTIN = ("UP", "EN", "UK", "UA", "SRV")


class CustomerEdiError(DomainError):
    """The file was refused; nothing but its acknowledgements was written."""


@dataclass
class OrderLine:
    seq: int
    ref: str  # the customer's line id (PO101 / LIN 1082)
    qty: str
    uom: str
    price: Decimal | None
    ours: list[str]  # our item numbers / GTINs it names, best first
    their_part: str = ""
    #: every (qualifier, item id) the buyer sent, in its order: the 855 / ORDRSP echoes them
    sent: list[tuple[str, str]] = field(default_factory=list)

    def qualifier(self, value: str, default: str) -> str:
        """The qualifier the buyer gave ``value`` (its GTIN as UP stays UP in our answer)."""
        return next((q for q, v in self.sent if v == value and q), default)


@dataclass
class CustomerPo:
    control: str
    po_number: str
    po_date: dt.date | None
    requested: dt.date | None
    ship_to: str
    lines: list[OrderLine]
    digest: str


@dataclass
class Outcome:
    po_number: str
    order: str = ""
    order_status: str = ""
    accepted: bool = True
    lines: list[str] = field(default_factory=list)
    reason: str = ""
    duplicate: bool = False


@dataclass
class CustomerImport:
    file_name: str
    standard: str
    customer: str
    outcomes: list[Outcome] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    #: why the whole file was refused (a bad envelope), else ''
    refused: str = ""

    def summary(self) -> str:
        if self.refused:
            files = f"; sent {', '.join(self.written)}" if self.written else ""
            return f"{self.refused}{files}"
        parts = []
        for o in self.outcomes:
            if o.duplicate:
                parts.append(f"PO {o.po_number}: imported before, nothing changed")
            elif o.accepted:
                parts.append(f"PO {o.po_number} -> {o.order} ({o.order_status.replace('_', ' ')})")
            else:
                parts.append(f"PO {o.po_number} refused: {o.reason}")
        files = f"; sent {', '.join(self.written)}" if self.written else ""
        return f"{self.file_name} from {self.customer}: " + "; ".join(parts) + files


def _date(value: str) -> dt.date | None:
    v = value.strip()
    for fmt in ("%Y%m%d", "%y%m%d"):
        try:
            return dt.datetime.strptime(v, fmt).date()
        except ValueError:
            continue
    return None


def _price(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value.strip() else None
    except InvalidOperation:
        return None


def _read_850(tx: x12.Transaction) -> CustomerPo:
    po_number, po_date, requested, ship_to = "", None, None, []
    lines: list[OrderLine] = []
    for seg in tx.body:
        tag = seg[0].strip()
        if tag == "BEG":
            po_number, po_date = x12.el(seg, 3), _date(x12.el(seg, 5))
        elif tag == "DTM" and x12.el(seg, 1) in ("002", "010", "037"):
            requested = requested or _date(x12.el(seg, 2))
        elif tag == "N1" and x12.el(seg, 1) == "ST":
            ship_to.append(x12.el(seg, 2))
        elif tag in ("N3", "N4") and ship_to:
            ship_to.append(" ".join(x12.el(seg, i) for i in range(1, 4) if x12.el(seg, i)))
        elif tag == "PO1":
            pairs = [(x12.el(seg, i), x12.el(seg, i + 1)) for i in range(6, len(seg), 2) if x12.el(seg, i + 1)]
            ours = [v for q, v in pairs if q in _OUR_PART] + [v for q, v in pairs if q in _GTIN]
            their = next((v for q, v in pairs if q == "BP"), "")
            lines.append(OrderLine(len(lines) + 1, x12.el(seg, 1) or str(len(lines) + 1), x12.el(seg, 2),
                                   x12.el(seg, 3), _price(x12.el(seg, 4)), ours, their, pairs))
    if not po_number:
        raise CustomerEdiError(f"850 {tx.control}: no BEG segment with the purchase order number")
    digest = hashlib.sha256("\n".join("*".join(x.strip() for x in s) for s in tx.segments).encode()).hexdigest()
    return CustomerPo(tx.control, po_number, po_date, requested, "\n".join(ship_to), lines, digest)


def _read_orders(msg: edifact.Message) -> CustomerPo:
    po_number, po_date, requested, ship_to = "", None, None, ""
    lines: list[OrderLine] = []
    cur: OrderLine | None = None
    for s in msg.body:
        if s.tag == "BGM":
            po_number = s.get(1)
        elif s.tag == "DTM" and cur is None:
            code, value = s.get(0, 0), s.get(0, 1)
            if code == "137":
                po_date = _date(value)
            elif code in ("2", "64", "69"):
                requested = requested or _date(value)
        elif s.tag == "NAD" and s.get(0) == "ST":
            ship_to = " ".join(x for x in (s.get(3), s.get(4), s.get(5), s.get(6)) if x)
        elif s.tag == "LIN":
            cur = OrderLine(len(lines) + 1, s.get(0) or str(len(lines) + 1), "", "", None,
                            [s.get(2, 0)] if s.get(2, 0) else [], sent=[(s.get(2, 1), s.get(2, 0))] if s.get(2, 0) else [])
            lines.append(cur)
        elif s.tag == "PIA" and cur is not None:
            for k in range(1, 5):
                value, qual = s.get(k, 0), s.get(k, 1)
                if value:
                    cur.sent.append((qual, value))
                if value and qual in _OUR_PART:
                    cur.ours.insert(0, value)
                elif value and qual == "BP":
                    cur.their_part = value
        elif s.tag == "QTY" and cur is not None and s.get(0, 0) in ("21", "1"):
            cur.qty, cur.uom = s.get(0, 1), s.get(0, 2)
        elif s.tag == "PRI" and cur is not None:
            cur.price = _price(s.get(0, 1))
    if not po_number:
        raise CustomerEdiError(f"ORDERS {msg.ref}: no BGM segment with the purchase order number")
    digest = hashlib.sha256("\n".join(f"{s.tag}{s.elements!r}" for s in msg.segments).encode()).hexdigest()
    return CustomerPo(msg.ref, po_number, po_date, requested, ship_to, lines, digest)


def _uom(session: Session, item_id: object, code: str) -> str:
    """The customer's unit code as ours ('EA' base, 'CA'/'CS' the case): '' when it is the base."""
    c = code.strip().upper()
    return "" if c in ("", "EA", "PCE", "C62", "UN") else {"CA": "CS", "CT": "CS", "PK": "CS", "PA": "CS"}.get(c, c)


def import_customer_file(session: Session, actor: Actor | None, data: bytes, file_name: str,
                         outbound_dir: str | Path | None) -> CustomerImport:
    """Import every order of a customer's 850 / ORDERS file and answer it (see the module doc)."""
    text = decode(data)
    standard = "x12" if text.lstrip().startswith("ISA") else "edifact"
    out = CustomerImport(file_name, standard, "")
    try:
        envs = x12.parse_all(text) if standard == "x12" else edifact.parse_all(text)
    except (x12.X12Error, edifact.EdifactError) as e:
        raise CustomerEdiError(f"{file_name}: {e}") from None
    checked = []
    for env in envs:  # every partner and envelope first: nothing is sent for a file refused here
        sender = env.sender_id if isinstance(env, x12.Interchange) else env.sender
        customer = session.scalar(select(Customer).where(Customer.edi_id == sender, Customer.deleted_at.is_(None)))
        if customer is None:
            raise CustomerEdiError(f"sender {sender!r} is not the EDI id of any customer (unknown partner); nothing "
                                   f"imported")
        checked.append((env, sender, customer))
    actor_here = _acting(actor)
    if outbound_dir is None:  # the 997 and the 855 would take control numbers and go nowhere
        raise CustomerEdiError(f"{file_name}: a customer's order is answered with a 997 and an 855 (CONTRL and "
                               f"ORDRSP); import it with `depot edi import` or the EDI folder poll, which write "
                               f"them; nothing imported")
    docs = {id(env): _read_all(env) for env, _s, _c in checked}  # every order read before anything is sent
    bad = [(env, customer, env.all_problems()) for env, _s, customer in checked if env.all_problems()]
    if bad:
        for env, customer, _problems in bad:
            out.customer = customer.code
            if isinstance(env, x12.Interchange):
                out.written.append(_send_997(session, actor_here, env, outbound_dir, customer))
            else:
                out.written.append(_send_contrl(session, actor_here, env, outbound_dir, customer, True))
        problems = [p for _e, _c, ps in bad for p in ps]
        what = "the envelope is wrong" if all(docs[id(e)] is not None for e, _c, _p in bad) else \
            "a message cannot be read as an order"
        out.refused = (f"{file_name}: {what} ({'; '.join(problems)}); the "
                       f"{'997' if standard == 'x12' else 'CONTRL'} rejects it, nothing imported")
        return out
    for env, sender, customer in checked:
        out.customer = customer.code
        if isinstance(env, x12.Interchange):
            out.written.append(_send_997(session, actor_here, env, outbound_dir, customer))
        else:
            out.written.append(_send_contrl(session, actor_here, env, outbound_dir, customer, False))
        for doc in docs[id(env)] or []:
            out.outcomes.append(_one(session, actor_here, standard, env.control, sender, customer, doc, file_name,
                                     outbound_dir, out))
    return out


def _read_all(env: x12.Interchange | edifact.EdifactInterchange) -> list[CustomerPo] | None:
    """Every order of one interchange, or None when one cannot be read: its problem is then put
    on its set / message, so the 997 / CONTRL rejects it (a missing BEG is a syntax error X12's
    997 reports) and the refusal of the file sends nothing else."""
    out: list[CustomerPo] = []
    ok = True
    if isinstance(env, x12.Interchange):
        for t in env.transactions:
            if t.set_id == "850":
                try:
                    out.append(_read_850(t))
                except CustomerEdiError as e:
                    t.problems.append(str(e))
                    if not any(seg[0].strip() == "BEG" for seg in t.segments):
                        t.missing.append(("BEG", 2))  # right after ST
                    ok = False
    else:
        for m in env.messages:
            if m.type == "ORDERS":
                try:
                    out.append(_read_orders(m))
                except CustomerEdiError as e:
                    m.problems.append(str(e))
                    ok = False
    return out if ok else None


def _acting(actor: Actor | None) -> Actor:
    if actor is None:
        raise CustomerEdiError("customer orders are entered by a user: name who imports the file (--user)")
    actor.require("order.enter")
    return actor


def _one(session: Session, actor: Actor, standard: str, control: str, sender: str, customer: Customer,
         doc: CustomerPo, file_name: str, outbound_dir: str | Path | None, out: CustomerImport) -> Outcome:
    key = f"in:{standard}:{sender}:{control}:{doc.control}"
    seen = session.scalar(select(CustomerMessage).where(CustomerMessage.dedupe_key == key))
    res = Outcome(doc.po_number)
    if seen is not None:
        if seen.detail.split("\n", 1)[0] == doc.digest:
            res.duplicate = True
            return res
        res.accepted, res.reason = False, (f"control number {control}/{doc.control} was already used by another "
                                           f"order; the partner must send new control numbers")
        out.written.append(_send_855(session, actor, standard, customer, doc, None, res, outbound_dir))
        return res
    # every item known first: an unknown one refuses the whole order, nothing is written
    unknown = []
    for ln in doc.lines:
        if not any(_known(session, ref) for ref in ln.ours):
            unknown.append(ln)
    if not doc.lines:
        res.accepted, res.reason = False, "the order has no lines"
    elif unknown:
        names = ", ".join(f"line {ln.ref}: {'/'.join(ln.ours) or ln.their_part or 'no item number'}" for ln in unknown)
        res.accepted, res.reason = False, f"unknown item ({names})"
    order: OrderResult | None = None
    if res.accepted:
        lines = []
        for ln in doc.lines:
            ref = next(r for r in ln.ours if _known(session, r))
            item, _u, _f = find_item(session, ref, f"line {ln.ref}")
            lines.append(LineInput(ref, ln.qty, _uom(session, item.id, ln.uom), None, ln.ref))
        try:
            with session.begin_nested():
                order = create_order(session, actor, customer=customer, lines=lines, requested_date=doc.requested
                                     if doc.requested and doc.requested >= dt.date.today() else None,
                                     ship_to=doc.ship_to or None, customer_po=doc.po_number, source="edi")
        except DomainError as e:
            res.accepted, res.reason, order = False, str(e), None
    msg = CustomerMessage(direction="in", standard=standard, msg_type="850" if standard == "x12" else "ORDERS",
                          customer_id=customer.id, partner_ref=sender[:40], interchange_control=control[:20],
                          control_number=doc.control[:20], dedupe_key=key[:120], order_id=order.order.id if order else None,
                          customer_po=doc.po_number[:40], file_name=file_name[:255],
                          outcome="accepted" if order else "rejected",
                          detail=doc.digest + "\n" + (res.reason or ""), owner_branch_id=_branch(session, actor, order))
    session.add(msg)
    session.flush()
    if order is not None:
        res.order, res.order_status = order.order.number, order.order.status
    out.written.append(_send_855(session, actor, standard, customer, doc, order, res, outbound_dir))
    audit.record(session, actor, "edi.customer_order", "customer_message", msg.id, msg.owner_branch_id,
                 po=doc.po_number, order=res.order, outcome=msg.outcome, reason=res.reason, file=file_name)
    return res


def _known(session: Session, ref: str) -> bool:
    try:
        find_item(session, ref, "item")
        return True
    except DomainError:
        return False


def _branch(session: Session, actor: Actor, order: OrderResult | None) -> uuid.UUID:
    from app.services.ownership import acting_branch

    default = order.order.owner_branch_id if order else (actor.branch_id or _any_branch(session))
    return acting_branch(session, default)


def _any_branch(session: Session) -> uuid.UUID:
    from app.services.masterdata import head_office_id

    return head_office_id(session)


def _record_out(session: Session, standard: str, msg_type: str, customer: Customer, control: int, name: str,
                owner: uuid.UUID, order_id: uuid.UUID | None = None, po: str = "", outcome: str = "sent") -> None:
    session.add(CustomerMessage(direction="out", standard=standard, msg_type=msg_type, customer_id=customer.id,
                                partner_ref=customer.edi_id[:40], interchange_control=str(control),
                                control_number="1", dedupe_key=f"out:{standard}:{customer.edi_id}:{control}:{msg_type}"[:120],
                                order_id=order_id, customer_po=po[:40], file_name=name, outcome=outcome,
                                owner_branch_id=owner))
    session.flush()


def _send_997(session: Session, actor: Actor, ic: x12.Interchange, outbound_dir: str | Path | None,
              customer: Customer) -> str:
    owner = _branch(session, actor, None)
    control = next_control(session, owner, "x12", ic.sender_id)
    text = x12.build_997(ic, our_id=our_id(session, owner), control=control, when=dt.datetime.now(dt.UTC))
    name = f"997-{ic.sender_id}-{ic.control}-{control:09d}.x12"
    if outbound_dir:
        write_outbound(outbound_dir, name, text.encode())
    _record_out(session, "x12", "997", customer, control, name, owner)
    return name


def _send_contrl(session: Session, actor: Actor, ie: edifact.EdifactInterchange, outbound_dir: str | Path | None,
                 customer: Customer, rejected: bool) -> str:
    owner = _branch(session, actor, None)
    control = next_control(session, owner, "edifact", ie.sender)
    _q, ours = our_id(session, owner)
    body = [edifact.seg("UCI", ie.control, [ie.sender, ie.sender_qualifier], [ours, "ZZ"], "4" if rejected else "7")]
    text = edifact.write_interchange(sender=(ours, "ZZ"), recipient=(ie.sender, ie.sender_qualifier or "14"),
                                     control=control, messages=[("CONTRL", "D:3:UN", body)], when=dt.datetime.now(dt.UTC))
    name = f"CONTRL-{ie.sender}-{ie.control}-{control:09d}.edi"
    if outbound_dir:
        write_outbound(outbound_dir, name, text.encode())
    _record_out(session, "edifact", "CONTRL", customer, control, name, owner)
    return name


def _send_855(session: Session, actor: Actor, standard: str, customer: Customer, doc: CustomerPo,
              order: OrderResult | None, res: Outcome, outbound_dir: str | Path | None) -> str:
    """The order response: what was accepted, changed or backordered (or why it was refused)."""
    owner = order.order.owner_branch_id if order else _branch(session, actor, None)
    control = next_control(session, owner, standard, customer.edi_id)
    we = our_id(session, owner)
    today = dt.datetime.now(dt.UTC)
    rows: list[tuple[OrderLine, str, Any, Any]] = []
    by_ref = {ln.customer_line: (ln, pr) for ln, pr in zip(order.lines, order.promises, strict=True)} if order else {}
    for ln in doc.lines:
        got = by_ref.get(ln.ref)
        if got is None:
            code = "R2" if not any(_known(session, r) for r in ln.ours) else "IR"
            rows.append((ln, code, None, None))
            continue
        line, pr = got
        price_changed = ln.price is not None and (line.unit_price * line.uom_factor).quantize(Decimal("0.01")) \
            != ln.price.quantize(Decimal("0.01"))
        code = "IB" if pr.kind != "now" else ("IP" if price_changed else "IA")
        rows.append((ln, code, line, pr))
    changed = any(c != "IA" for _l, c, _x, _p in rows)
    if standard == "x12":
        body: list[list[str]] = [["BAK", "00", ("AC" if changed else "AD") if order else "RD", doc.po_number,
                                  (doc.po_date or today.date()).strftime("%Y%m%d"), "", "", "",
                                  order.order.number if order else ""]]
        for ln, code, line, pr in rows:
            qty = ln.qty or "0"
            price = f"{(line.unit_price * line.uom_factor):.2f}" if line else (f"{ln.price:.2f}" if ln.price else "")
            ids = [v for pair in ln.sent for v in pair] or ["VP", ln.ours[0] if ln.ours else ""]
            body.append(["PO1", ln.ref, qty, ln.uom or "EA", price, "", *ids])
            ack = ["ACK", code, qty, ln.uom or "EA"]
            if pr is not None and code == "IB":
                ack += ["068", pr.date.strftime("%Y%m%d")]
            body.append(ack)
        body.append(["CTT", str(len(rows))])
        text = x12.write_interchange(sender=we, receiver=(customer.edi_qualifier or "ZZ", customer.edi_id),
                                     control=control, functional_id="PR", transactions=[("855", body)], when=today)
        name = f"855-{customer.edi_id}-{doc.po_number}-{control:09d}.x12"
    else:
        fn = ("29" if not changed else "4") if order else "27"
        body2 = [edifact.seg("BGM", "231", order.order.number if order else doc.po_number, fn),
                 edifact.seg("DTM", ["137", today.strftime("%Y%m%d"), "102"]),
                 edifact.seg("RFF", ["ON", doc.po_number])]
        for ln, code, line, pr in rows:
            action = {"IA": "5", "IP": "3", "IB": "3", "IR": "7", "R2": "7"}[code]
            ref = ln.ours[0] if ln.ours else ""
            body2.append(edifact.seg("LIN", ln.ref, action, [ref, ln.qualifier(ref, "SRV")]))
            body2.append(edifact.seg("QTY", ["21", ln.qty or "0"]))
            if code == "IB" and pr is not None:
                body2.append(edifact.seg("QTY", ["83", ln.qty or "0"]))
                body2.append(edifact.seg("DTM", ["2", pr.date.strftime("%Y%m%d"), "102"]))
            if line is not None:
                body2.append(edifact.seg("PRI", ["AAA", f"{(line.unit_price * line.uom_factor):.2f}"]))
        body2.append(edifact.seg("UNS", "S"))
        text = edifact.write_interchange(sender=(we[1], "ZZ"), recipient=(customer.edi_id, customer.edi_qualifier or "14"),
                                         control=control, messages=[("ORDRSP", "D:96A:UN", body2)], when=today)
        name = f"ORDRSP-{customer.edi_id}-{doc.po_number}-{control:09d}.edi"
    if outbound_dir:
        write_outbound(outbound_dir, name, text.encode())
    _record_out(session, standard, "855" if standard == "x12" else "ORDRSP", customer, control, name, owner,
                order.order.id if order else None, doc.po_number, "sent" if order else "rejected")
    res.lines = [f"{ln.ref}: {code}" for ln, code, _l, _p in rows]
    return name


__all__ = ["ORDER_TYPES", "CustomerEdiError", "CustomerImport", "import_customer_file"]
