"""From a parsed X12 or EDIFACT message to one neutral shape: a confirmation or a ship notice.

855 and ORDRSP become ``ParsedDoc(kind="confirmation")``; 856 and DESADV become
``ParsedDoc(kind="ship_notice")``. Everything that touches the database (matching POs,
items, writing rows) lives in ``inbound``; this module only reads text, so every real
partner file can be tested here without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.services.edi import edifact, x12
from app.services.errors import DomainError


class EdiContentError(DomainError):
    """A readable message whose content is wrong (bad quantity, missing PO number ...)."""


@dataclass
class ParsedLine:
    seq: int  # position in the message, 1-based (for messages)
    line_no: int | None  # the partner's line id (PO1-01 / LIN01), usually our PO line number
    refs: list[tuple[str, str]] = field(default_factory=list)  # (qualifier, value): ('BP', 'T05249')
    qty: int | None = None
    #: what the supplier will deliver later (855 ACK IB/BP/DR/SP, ORDRSP QTY+83); ``qty`` is what comes now
    backorder: int | None = None
    backorder_date: dt.date | None = None
    price: Decimal | None = None
    date: dt.date | None = None
    status: str = "accepted"  # accepted, changed, rejected, backordered, added, shipped
    po_number: str = ""
    sscc: str = ""
    lot: str = ""
    expiry: dt.date | None = None

    def ref_text(self) -> str:
        return ", ".join(f"{q}:{v}" for q, v in self.refs)[:60]


@dataclass
class ParsedDoc:
    kind: str  # 'confirmation' or 'ship_notice'
    standard: str
    msg_type: str
    control: str
    po_number: str = ""
    doc_ref: str = ""
    doc_date: dt.date | None = None
    header_status: str = "accepted"  # accepted, changed, rejected
    ship_date: dt.date | None = None
    delivery_date: dt.date | None = None
    carrier: str = ""
    pro_number: str = ""
    lines: list[ParsedLine] = field(default_factory=list)


def _qty(value: str, where: str) -> int:
    v = value.strip().replace(",", ".")
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise EdiContentError(f"{where}: quantity {value!r} is not a number") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise EdiContentError(f"{where}: quantity {value!r} is not a whole number")
    if d < 0:
        raise EdiContentError(f"{where}: quantity {value} is negative")
    if d > 10**12:
        raise EdiContentError(f"{where}: quantity {value} is absurdly large")
    return int(d)


def _price(value: str, where: str) -> Decimal | None:
    v = value.strip().replace(",", ".")
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise EdiContentError(f"{where}: price {value!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise EdiContentError(f"{where}: price {value!r} is negative or not a number")
    return d.quantize(Decimal("0.0001"))


def _date(value: str, fmt: str = "") -> dt.date | None:
    v = value.strip()
    try:
        if fmt == "101" or len(v) == 6:
            return dt.datetime.strptime(v[:6], "%y%m%d").date()
        if len(v) >= 8:
            return dt.datetime.strptime(v[:8], "%Y%m%d").date()
    except ValueError:
        return None
    return None


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


# X12 ACK01 line status codes -> our statuses
_ACK = {
    "IA": "accepted", "AC": "accepted", "AR": "accepted",
    "IB": "backordered", "BP": "backordered", "DR": "backordered", "SP": "backordered",
    "IC": "changed", "IP": "changed", "IQ": "changed", "IS": "changed",
    "ID": "rejected", "IR": "rejected", "R1": "rejected", "R2": "rejected", "R3": "rejected", "R4": "rejected",
}
_X12_DATE_QUALS = ("067", "068", "069", "002", "017", "010", "074")
_ITEM_QUALS = ("BP", "VP", "VN", "SK", "IN", "CB", "MG", "UP", "UK", "EN", "UA", "BL", "LT")


def _pairs(seg: x12.Segment, start: int) -> list[tuple[str, str]]:
    out = []
    i = start
    while i + 1 < len(seg):
        q, v = x12.el(seg, i), x12.el(seg, i + 1)
        if q and v:
            out.append((q, v))
        i += 2
    return out


def read_x12(tx: x12.Transaction) -> ParsedDoc:
    if tx.set_id == "855":
        return _x12_855(tx)
    if tx.set_id == "856":
        return _x12_856(tx)
    raise EdiContentError(f"X12 {tx.set_id} is not a message Depot imports (855 and 856 are)")


def _x12_855(tx: x12.Transaction) -> ParsedDoc:
    doc = ParsedDoc("confirmation", "x12", "855", tx.control)
    cur: ParsedLine | None = None
    acks: list[tuple[str, int | None, dt.date | None]] = []

    def close() -> None:
        if cur is None:
            return
        if acks:
            statuses = [a[0] for a in acks]
            live = [a for a in acks if a[0] != "rejected"]
            if not live:
                cur.status, cur.qty = "rejected", 0
            elif "backordered" in statuses:
                cur.status = "backordered"
            elif "changed" in statuses:
                cur.status = "changed"
            now = [a for a in live if a[0] != "backordered"]
            later = [a for a in live if a[0] == "backordered"]
            if live and any(a[1] is not None for a in live):
                cur.qty = sum(a[1] or 0 for a in now)
            if later and any(a[1] is not None for a in later):
                cur.backorder = sum(a[1] or 0 for a in later)
            # the line's date is when what comes now comes; the backorder keeps its own date
            dates = [a[2] for a in (now or live) if a[2]]
            if dates:
                cur.date = max(dates)
            later_dates = [a[2] for a in later if a[2]]
            if now and later_dates:
                cur.backorder_date = max(later_dates)
        elif doc.header_status == "rejected":
            cur.status = "rejected"
        doc.lines.append(cur)

    for seg in tx.body:
        tag = seg[0].strip()
        if tag == "BAK":
            ack_type = x12.el(seg, 2)
            doc.header_status = {"RJ": "rejected", "RD": "rejected", "AC": "changed", "AE": "changed"}.get(ack_type, "accepted")
            doc.po_number, doc.doc_date = x12.el(seg, 3), _date(x12.el(seg, 4))
            doc.doc_ref = x12.el(seg, 8) or x12.el(seg, 3)
        elif tag == "PO1":
            close()
            acks = []
            where = f"855 PO1 line {x12.el(seg, 1) or len(doc.lines) + 1}"
            cur = ParsedLine(len(doc.lines) + 1, _int(x12.el(seg, 1)), refs=_pairs(seg, 6),
                             qty=_qty(x12.el(seg, 2), where) if x12.el(seg, 2) else None,
                             price=_price(x12.el(seg, 4), where), po_number=doc.po_number)
        elif tag == "ACK" and cur is not None:
            where = f"855 ACK of line {cur.line_no}"
            acks.append((_ACK.get(x12.el(seg, 1), "accepted"),
                         _qty(x12.el(seg, 2), where) if x12.el(seg, 2) else None,
                         _date(x12.el(seg, 5)) if x12.el(seg, 4) in _X12_DATE_QUALS else None))
        elif tag == "DTM":
            d = _date(x12.el(seg, 2)) if x12.el(seg, 1) in _X12_DATE_QUALS else None
            if cur is not None and d:
                cur.date = d
            elif d:
                doc.delivery_date = d
        elif tag == "CTT":
            close()
            cur = None
    close()
    if not doc.po_number:
        raise EdiContentError("855: BAK03 (purchase order number) is missing")
    if doc.delivery_date:
        for ln in doc.lines:
            ln.date = ln.date or doc.delivery_date
    return doc


def _x12_856(tx: x12.Transaction) -> ParsedDoc:
    """A ship notice's HL tree, in whatever shape the partner built it: S/O/I, S/O/P/I, S/T/P/I,
    S/I with the PO (PRF, or REF*PO) inside each item HL after its LIN and SN1, S/O with LIN/SN1
    straight under the order. Each item takes the PO of its own HL, else of the nearest parent
    HL that names one; an item that reaches no PO in a notice for several POs is refused rather
    than guessed."""
    doc = ParsedDoc("ship_notice", "x12", "856", tx.control)
    contexts: dict[str, dict[str, str]] = {}
    ctx: dict[str, str] = {}
    last_parent: dict[str, str] = {}
    cur: ParsedLine | None = None
    has_lin = False
    pos: list[str] = []

    def set_po(number: str) -> None:
        if not number:
            return
        ctx["po"] = number
        if number not in pos:
            pos.append(number)
        if cur is not None:
            cur.po_number = number

    def new_line() -> ParsedLine:
        ln = ParsedLine(len(doc.lines) + 1, None, po_number=ctx.get("po", ""), sscc=ctx.get("sscc", ""),
                        status="shipped")
        doc.lines.append(ln)
        return ln

    for seg in tx.body:
        tag = seg[0].strip()
        if tag == "BSN":
            doc.doc_ref, doc.doc_date = x12.el(seg, 2), _date(x12.el(seg, 3))
        elif tag == "HL":
            hl_id, parent, level = x12.el(seg, 1), x12.el(seg, 2), x12.el(seg, 3)
            if hl_id in contexts:
                raise EdiContentError(f"856: HL {hl_id} appears twice")
            if parent and parent not in contexts:
                raise EdiContentError(f"856: HL {hl_id} names parent {parent}, which comes nowhere before it")
            base = contexts.get(parent) if parent else last_parent
            ctx = dict(base or {})
            contexts[hl_id] = ctx
            has_lin = False
            if level == "I":
                cur = new_line()
            else:
                cur = None
                last_parent = ctx
        elif tag == "PRF":
            set_po(x12.el(seg, 1))
        elif tag == "REF" and x12.el(seg, 1) == "PO" and "po" not in ctx:
            set_po(x12.el(seg, 2))
        elif tag == "MAN" and x12.el(seg, 1) in ("GM", "SM", "CP"):
            ctx["sscc"] = x12.el(seg, 2)[-18:] if x12.el(seg, 1) == "GM" else x12.el(seg, 2)
            if cur is not None:
                cur.sscc = ctx["sscc"]
        elif tag == "LIN":
            # an item HL holds one LIN; a second one, or a LIN straight under an order HL, is an item too
            if cur is None or has_lin:
                cur = new_line()
            has_lin = True
            cur.line_no = _int(x12.el(seg, 1))
            for q, v in _pairs(seg, 2):
                if q == "LT":
                    cur.lot = v
                else:
                    cur.refs.append((q, v))
        elif tag == "SN1" and cur is not None:
            cur.qty = _qty(x12.el(seg, 2), f"856 SN1 of item {cur.seq}")
            if x12.el(seg, 1) and cur.line_no is None:
                cur.line_no = _int(x12.el(seg, 1))
        elif tag == "REF":
            if x12.el(seg, 1) == "LT" and cur is not None:
                cur.lot = x12.el(seg, 2)
            elif x12.el(seg, 1) == "CN" or (x12.el(seg, 1) == "BM" and not doc.pro_number):
                doc.pro_number = x12.el(seg, 2)
        elif tag == "TD5":
            doc.carrier = doc.carrier or (x12.el(seg, 3) if x12.el(seg, 3) not in ("", "NONE") else x12.el(seg, 5))
        elif tag == "DTM":
            q, d = x12.el(seg, 1), _date(x12.el(seg, 2))
            if q == "036" and cur is not None:
                cur.expiry = d
            elif q == "011":
                doc.ship_date = d
            elif q in ("017", "067", "002"):
                doc.delivery_date = d
    doc.lines = [ln for ln in doc.lines if ln.refs or ln.qty is not None or ln.line_no is not None]
    if not doc.lines:
        raise EdiContentError(f"856 {doc.doc_ref or tx.control}: no item (no HL of level I, or no LIN/SN1)")
    for n, ln in enumerate(doc.lines, 1):
        ln.seq = n
        if ln.qty is None:
            raise EdiContentError(f"856: item {ln.seq} ({ln.ref_text()}) has no SN1 quantity")
        if not ln.po_number:
            if len(pos) > 1:
                raise EdiContentError(f"856: item {ln.seq} ({ln.ref_text()}) names no purchase order (PRF) and the "
                                      f"notice covers several ({', '.join(pos)})")
            ln.po_number = pos[0] if pos else ""
    doc.po_number = pos[0] if pos else ""
    return doc


# ---------------------------------------------------------------- EDIFACT

#: UN/EDIFACT 1229 as suppliers use it in ORDRSP lines (24 = accepted with amendment, no confirmation
#: required; 4 = no action, i.e. as ordered)
_LIN_ACTION = {"1": "added", "2": "rejected", "3": "changed", "4": "accepted", "5": "accepted", "6": "changed",
               "7": "rejected", "10": "rejected", "24": "changed"}


def _edi_date(s: edifact.Seg) -> tuple[str, dt.date | None]:
    return s.get(0, 0), _date(s.get(0, 1), s.get(0, 2))


def read_edifact(msg: edifact.Message) -> ParsedDoc:
    if msg.type == "ORDRSP":
        return _ordrsp(msg)
    if msg.type == "DESADV":
        return _desadv(msg)
    raise EdiContentError(f"EDIFACT {msg.type} is not a message Depot imports (ORDRSP and DESADV are)")


def _lin(s: edifact.Seg, seq: int) -> ParsedLine:
    ln = ParsedLine(seq, _int(s.get(0)))
    if s.get(2, 0):
        ln.refs.append((s.get(2, 1) or "EN", s.get(2, 0)))
    return ln


def _pia(s: edifact.Seg, ln: ParsedLine) -> None:
    for i in range(1, len(s.elements)):
        if s.get(i, 0):
            ln.refs.append((s.get(i, 1) or "SA", s.get(i, 0)))


def _line_rff(s: edifact.Seg, doc: ParsedDoc, cur: ParsedLine) -> None:
    """RFF+ON / RFF+LI inside a line: the order (and, in C506's third component, the order's line).

    Suppliers that answer several POs in one message, or never fill the header's RFF+ON, put the
    order here; RFF+LI names it only when the header does not (else it is a line reference)."""
    q, ref, line = s.get(0, 0), s.get(0, 1), _int(s.get(0, 2))
    if q == "ON" or (q == "LI" and (not doc.po_number or ref == doc.po_number)):
        cur.po_number = ref or cur.po_number
        if line is not None:
            cur.line_no = line


def _ordrsp(msg: edifact.Message) -> ParsedDoc:
    doc = ParsedDoc("confirmation", "edifact", "ORDRSP", msg.ref)
    cur: ParsedLine | None = None
    qtys: dict[str, int] = {}

    def close() -> None:
        """QTY+113 (to be delivered) or QTY+12 (despatched) is what comes; QTY+83 what is backordered;
        QTY+21 echoes the order. Without 113/12 the confirmed quantity is ordered minus backorder."""
        if cur is None:
            return
        where = f"ORDRSP line {cur.line_no or cur.seq}"
        back = qtys.get("83")
        now = qtys.get("113", qtys.get("12"))
        if now is None and "21" in qtys:
            if back is not None and back > qtys["21"]:
                raise EdiContentError(f"{where}: backorder quantity {back} (QTY+83) is more than the ordered "
                                      f"quantity {qtys['21']} (QTY+21)")
            now = qtys["21"] - (back or 0)
        cur.qty, cur.backorder = now, back
        if back and cur.status != "rejected":
            cur.status = "backordered"

    for s in msg.body:
        if s.tag == "BGM":
            doc.doc_ref = s.get(1)
            doc.header_status = {"27": "rejected", "4": "changed", "29": "accepted"}.get(s.get(2), "accepted")
        elif s.tag == "RFF" and cur is not None and s.get(0, 0) in ("ON", "LI"):
            _line_rff(s, doc, cur)
        elif s.tag == "RFF" and s.get(0, 0) == "ON":
            doc.po_number = doc.po_number or s.get(0, 1)
        elif s.tag == "RFF" and s.get(0, 0) == "LI" and not doc.po_number:
            doc.po_number = s.get(0, 1)  # the only place some suppliers name the order
        elif s.tag == "DTM":
            q, d = _edi_date(s)
            if q == "137" and cur is None:
                doc.doc_date = d
            elif q in ("2", "67", "69", "17", "64"):
                if cur is not None:
                    cur.date = d
                else:
                    doc.delivery_date = d
        elif s.tag == "LIN":
            close()
            qtys = {}
            cur = _lin(s, len(doc.lines) + 1)
            cur.status = _LIN_ACTION.get(s.get(1), "rejected" if doc.header_status == "rejected" else "accepted")
            doc.lines.append(cur)
        elif s.tag == "PIA" and cur is not None:
            _pia(s, cur)
        elif s.tag == "QTY" and cur is not None:
            q = s.get(0, 0)
            if q in ("113", "21", "12", "83"):
                qtys[q] = qtys.get(q, 0) + _qty(s.get(0, 1), f"ORDRSP line {cur.line_no or cur.seq} QTY+{q}")
        elif s.tag == "PRI" and cur is not None and s.get(0, 0) in ("AAA", "AAB", "INV", "CAL"):
            cur.price = _price(s.get(0, 1), f"ORDRSP line {cur.line_no} PRI")
        elif s.tag == "UNS":
            close()
            cur, qtys = None, {}
    close()
    for ln in doc.lines:
        ln.po_number = ln.po_number or doc.po_number
        ln.date = ln.date or doc.delivery_date
    if not doc.po_number:
        doc.po_number = next((ln.po_number for ln in doc.lines if ln.po_number), "")
    if not doc.po_number or any(not ln.po_number for ln in doc.lines):
        raise EdiContentError("ORDRSP: no purchase order number (RFF+ON, or RFF+LI, in the header or each line)")
    return doc


def _desadv(msg: edifact.Message) -> ParsedDoc:
    doc = ParsedDoc("ship_notice", "edifact", "DESADV", msg.ref)
    cur: ParsedLine | None = None
    sscc = ""
    for s in msg.body:
        if s.tag == "BGM":
            doc.doc_ref = s.get(1)
        elif s.tag == "RFF" and cur is not None and s.get(0, 0) in ("ON", "LI"):
            _line_rff(s, doc, cur)
        elif s.tag == "RFF" and s.get(0, 0) in ("ON", "LI"):
            doc.po_number = doc.po_number or s.get(0, 1)
        elif s.tag == "RFF" and s.get(0, 0) in ("CN", "BM") and cur is None:
            doc.pro_number = doc.pro_number or s.get(0, 1)
        elif s.tag == "TDT":
            doc.carrier = doc.carrier or s.get(4, 0) or s.get(7, 0)
        elif s.tag == "DTM":
            q, d = _edi_date(s)
            if q in ("361", "36") and cur is not None:
                cur.expiry = d
            elif q == "137" and cur is None:
                doc.doc_date = d
            elif q == "11":
                doc.ship_date = d
            elif q in ("17", "358", "2", "132", "69"):
                doc.delivery_date = doc.delivery_date or d
        elif s.tag == "CPS":
            cur, sscc = None, ""
        elif s.tag == "GIN":
            if s.get(0) in ("BJ", "AW") and s.get(1, 0):
                sscc = s.get(1, 0)
                if cur is not None:
                    cur.sscc = sscc
            elif s.get(0) == "BX" and cur is not None:
                cur.lot = s.get(1, 0)
        elif s.tag == "LIN":
            cur = _lin(s, len(doc.lines) + 1)
            cur.status, cur.sscc = "shipped", sscc
            doc.lines.append(cur)
        elif s.tag == "PIA" and cur is not None:
            _pia(s, cur)
        elif s.tag == "QTY" and cur is not None and s.get(0, 0) == "12":
            cur.qty = _qty(s.get(0, 1), f"DESADV line {cur.line_no} QTY")
        elif s.tag == "CNT":
            cur = None
    if not doc.lines:
        raise EdiContentError(f"DESADV {doc.doc_ref or msg.ref}: no line (LIN)")
    for ln in doc.lines:
        ln.po_number = ln.po_number or doc.po_number
        if ln.qty is None:
            raise EdiContentError(f"DESADV: line {ln.line_no} ({ln.ref_text()}) has no QTY+12 despatch quantity")
    return doc
