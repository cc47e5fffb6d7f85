"""A receiving session: scans accumulated in memory against one expected receipt.

Nothing is written while scanning; ``ReceivingSession.post_lines()`` gives the lines that
``post.post_receipt`` posts in one transaction. The session itself is pure Python over a
``ReceivingContext`` snapshot (``load_context`` reads it from the database once), so the
screen and ``depot receive`` give the same message for the same scan, and it is cheap to test.
Every scan gets a ``ScanResult`` with a message for the scan field; a refused scan changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.receiving import SerialNumber
from app.models.workflow import CLOSED_STATES
from app.services.errors import DomainError, NotFound, ValidationError
from app.services.receiving.post import ACTIVE_SERIAL, ReceiveLine, max_receivable
from app.services.receiving.scan import Scan, parse_date, parse_scan


@dataclass(frozen=True)
class ItemInfo:
    id: uuid.UUID
    sku: str
    description: str
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    needs_inspection: bool


@dataclass(frozen=True)
class ExpectedLineInfo:
    id: uuid.UUID
    item_id: uuid.UUID
    qty_expected: int
    qty_received: int
    sscc: str = ""
    lot_code: str = ""
    expiry_date: dt.date | None = None


@dataclass
class ReceivingContext:
    """What a session needs to know about its receipt, read once."""

    receipt_id: uuid.UUID
    number: str
    status: str
    supplier_code: str
    over_pct: Decimal
    under_pct: Decimal
    items: dict[uuid.UUID, ItemInfo]
    lines: list[ExpectedLineInfo]
    #: GTIN-14 or upper-case SKU -> (item id, base units per scanned unit)
    codes: dict[str, tuple[uuid.UUID, int]]
    serials_in_stock: set[tuple[uuid.UUID, str]] = field(default_factory=set)
    #: for messages only: code of an item that is not on this receipt -> its SKU
    other_item: Callable[[str], str | None] = lambda code: None


def catalogue_codes(session: Session) -> dict[str, str]:
    """Every SKU and GTIN (items and pack units) -> SKU: the screen reads it once, in the background,
    so a scan of an item that is not on the receipt can name it without SQL on the GUI thread."""
    out: dict[str, str] = {}
    for sku, gtin in session.execute(select(Item.sku, Item.gtin)):
        out[sku.upper()] = sku
        if gtin:
            out[gtin.zfill(14)] = sku
    for gtin, sku in session.execute(select(ItemUom.gtin, Item.sku).join(Item, Item.id == ItemUom.item_id)
                                     .where(ItemUom.gtin.is_not(None))):
        out[str(gtin).zfill(14)] = sku
    return out


def load_context(session: Session, expected_receipt_id: uuid.UUID, *,
                 catalogue: dict[str, str] | None = None) -> ReceivingContext:
    """Read what a session needs. With ``catalogue`` (from ``catalogue_codes``; the screen, where
    scanning happens after this op's Session is closed) unknown codes are named from it instead of
    asking the database per unknown scan."""
    er = session.get(ExpectedReceipt, expected_receipt_id)
    if er is None:
        raise NotFound("expected receipt", expected_receipt_id)
    lines = list(session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == er.id,
                                                                   ExpectedReceiptLine.deleted_at.is_(None))))
    item_ids = {ln.item_id for ln in lines}
    items = {i.id: ItemInfo(i.id, i.sku, i.description, i.track_lot, i.track_serial, i.track_expiry, i.needs_inspection)
             for i in session.scalars(select(Item).where(Item.id.in_(item_ids)))}
    codes: dict[str, tuple[uuid.UUID, int]] = {}
    for i in session.scalars(select(Item).where(Item.id.in_(item_ids))):
        codes[i.sku.upper()] = (i.id, 1)
        if i.gtin:
            codes[i.gtin.zfill(14)] = (i.id, 1)
    for u in session.scalars(select(ItemUom).where(ItemUom.item_id.in_(item_ids), ItemUom.gtin.is_not(None))):
        codes[str(u.gtin).zfill(14)] = (u.item_id, u.factor)
    serial_items = [i for i in items.values() if i.track_serial]
    in_stock: set[tuple[uuid.UUID, str]] = set()
    if serial_items:
        in_stock = {(r.item_id, r.serial.upper()) for r in session.scalars(select(SerialNumber).where(
            SerialNumber.item_id.in_([i.id for i in serial_items]), SerialNumber.status.in_(ACTIVE_SERIAL)))}
    sup = session.get(Supplier, er.supplier_id) if er.supplier_id else None

    def other_item(code: str) -> str | None:
        found = session.scalars(select(Item.sku).where((Item.sku == code.upper()) | (Item.gtin == code))).first()
        if found is None and code.isdigit():
            uom = session.scalars(select(ItemUom.item_id).where(ItemUom.gtin == code)).first()
            found = session.scalar(select(Item.sku).where(Item.id == uom)) if uom else None
        return found

    if catalogue is not None:
        def other_item(code: str) -> str | None:  # noqa: F811 - no database once this op has ended
            return catalogue.get(code.upper()) or catalogue.get(code.zfill(14))

    return ReceivingContext(
        receipt_id=er.id, number=er.number, status=er.status, supplier_code=sup.code if sup else "",
        over_pct=sup.over_receipt_pct if sup else Decimal(0), under_pct=sup.under_receipt_pct if sup else Decimal(100),
        items=items,
        lines=[ExpectedLineInfo(ln.id, ln.item_id, ln.qty_expected, ln.qty_received, ln.sscc, ln.lot_code, ln.expiry_date)
               for ln in lines],
        codes=codes, serials_in_stock=in_stock, other_item=other_item,
    )


@dataclass(frozen=True)
class ScanResult:
    ok: bool
    message: str
    #: what the scan field should ask for next ('' = any scan)
    waiting_for: str = ""


@dataclass
class _Pending:
    """Units of an item that still need a lot, an expiry or serials before they count."""

    item: ItemInfo
    qty: int
    reason: str
    lot: str = ""
    expiry: dt.date | None = None
    sscc: str = ""
    serials: list[str] = field(default_factory=list)

    def needs(self) -> str:
        if self.item.track_lot and not self.lot:
            return "lot"
        if self.item.track_expiry and self.expiry is None:
            return "expiry"
        if self.item.track_serial and len(self.serials) < self.qty:
            return "serial"
        return ""


@dataclass
class CountedLine:
    item_id: uuid.UUID
    lot: str
    expiry: dt.date | None
    reason: str
    sscc: str
    qty: int = 0
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LineView:
    """One row of the screen's 'expected vs scanned' list."""

    item_id: uuid.UUID
    sku: str
    description: str
    expected: int
    previously_received: int
    scanned: int
    detail: str
    short: bool


class ReceivingSession:
    """Scans in, messages out. See ``scan.py`` for the grammar."""

    def __init__(self, ctx: ReceivingContext) -> None:
        self.ctx = ctx
        self.counted: dict[tuple[uuid.UUID, str, dt.date | None, str, str], CountedLine] = {}
        self.pending: list[_Pending] = []
        self.next_qty: int | None = None
        self.next_reason = ""
        self.shortages: set[uuid.UUID] = set()
        self.cartons: set[str] = set()
        self.last_item: ItemInfo | None = None
        self.started_at: dt.datetime | None = None
        self.expected = {iid: sum(ln.qty_expected for ln in ctx.lines if ln.item_id == iid) for iid in ctx.items}
        self.before = {iid: sum(ln.qty_received for ln in ctx.lines if ln.item_id == iid) for iid in ctx.items}

    # ---- totals -------------------------------------------------------------------------
    def scanned_qty(self, item_id: uuid.UUID) -> int:
        done = sum(c.qty for c in self.counted.values() if c.item_id == item_id)
        return done + sum(p.qty for p in self.pending if p.item.id == item_id)

    def _room(self, item_id: uuid.UUID) -> int:
        cap = sum(max_receivable(ln.qty_expected, self.ctx.over_pct) for ln in self.ctx.lines if ln.item_id == item_id)
        return cap - self.before[item_id] - self.scanned_qty(item_id)

    def _serial_taken(self, item_id: uuid.UUID, serial: str) -> str | None:
        key = serial.upper()
        if (item_id, key) in self.ctx.serials_in_stock:
            return "is already in stock"
        for c in self.counted.values():
            if c.item_id == item_id and key in (s.upper() for s in c.serials):
                return "was already scanned in this receipt"
        for p in self.pending:
            if p.item.id == item_id and key in (s.upper() for s in p.serials):
                return "was already scanned in this receipt"
        return None

    # ---- scanning -----------------------------------------------------------------------
    def scan(self, raw: str, *, at: dt.datetime | None = None) -> ScanResult:
        """Apply one scan; a refused scan leaves the session exactly as it was."""
        if self.ctx.status in CLOSED_STATES["expected_receipt"]:
            return ScanResult(False, f"{self.ctx.number} is {self.ctx.status}: nothing more can be received")
        try:
            parsed = parse_scan(raw)
            msg = self._apply(parsed)
        except DomainError as e:
            return ScanResult(False, str(e), self.waiting_for())
        if self.started_at is None and parsed.kind not in ("qty", "reason"):
            self.started_at = at or dt.datetime.now(dt.UTC)
        return ScanResult(True, msg, self.waiting_for())

    def waiting_for(self) -> str:
        return self.pending[0].needs() if self.pending else ""

    def cancel_pending(self) -> str:
        """Drop units still waiting for a lot/serial (the Esc key on the screen)."""
        n = sum(p.qty for p in self.pending)
        self.pending.clear()
        self.next_qty, self.next_reason = None, ""
        return f"dropped {n} unit(s) waiting for lot/serial" if n else "nothing waiting"

    def _refuse(self, text: str) -> None:
        raise _Refused(text)

    def _apply(self, s: Scan) -> str:
        if s.kind == "qty":
            assert s.qty is not None
            self.next_qty = s.qty
            return f"quantity {s.qty} for the next scan"
        if s.kind == "reason":
            self.next_reason = s.reason
            return "next scan: damaged units (to quality hold)" if s.reason == "damaged" else \
                "next item scan: short-shipped (nothing counted)"
        if self.pending:
            return self._feed_pending(s)
        if s.kind in ("lot", "serial", "expiry"):
            what = {"lot": "a lot", "serial": "a serial", "expiry": "an expiry"}[s.kind]
            last = self.last_item
            if s.kind == "lot" and last is not None and not last.track_lot:
                self._refuse(f"lot {s.lot}: {last.sku} is not lot-tracked")
            self._refuse(f"{what} was scanned but no item is waiting for one: scan the item first")
        if s.kind == "sscc":
            return self._carton(s.sscc)
        if s.kind == "gs1":
            if s.sscc and not s.gtin:
                return self._carton(s.sscc)
            return self._item_scan(self._resolve(s.gtin), s)
        code = s.gtin if s.kind == "gtin" else s.text.upper()
        return self._item_scan(self._resolve(code), s)

    def _resolve(self, code: str) -> tuple[ItemInfo, int]:
        hit = self.ctx.codes.get(code)
        if hit is None:
            other = self.ctx.other_item(code)
            if other:
                self._refuse(f"{code}: item {other} is not on {self.ctx.number}")
            self._refuse(f"{code}: matches no item, pack or carton of {self.ctx.number}")
            raise AssertionError  # unreachable
        return self.ctx.items[hit[0]], hit[1]

    def _item_scan(self, hit: tuple[ItemInfo, int], s: Scan) -> str:
        item, factor = hit
        if self.next_reason == "short":
            self.shortages.add(item.id)
            self.next_reason, self.next_qty, self.last_item = "", None, item
            return f"{item.sku}: marked short-shipped"
        mult = s.count if s.count is not None else (self.next_qty or 1)
        qty = mult * factor
        if s.lot and not item.track_lot:
            self._refuse(f"lot {s.lot}: {item.sku} is not lot-tracked")
        if s.serial and not item.track_serial:
            self._refuse(f"serial {s.serial}: {item.sku} is not serial-tracked")
        if s.serial and qty != 1:
            self._refuse(f"serial {s.serial}: a serial scan counts exactly 1 unit, not {qty}")
        if s.expiry and not (item.track_expiry or item.track_lot):
            self._refuse(f"expiry {s.expiry}: {item.sku} does not carry an expiry")
        if qty > self._room(item.id):
            self._over(item, qty)
        p = _Pending(item, qty, self.next_reason, lot=s.lot, expiry=s.expiry)
        if s.serial:
            why = self._serial_taken(item.id, s.serial)
            if why:
                self._refuse(f"serial {s.serial} of {item.sku} {why}")
            p.serials.append(s.serial)
        self.next_qty, self.next_reason, self.last_item = None, "", item
        return self._settle(p, f"{item.sku} +{qty}" + (f" ({mult} x {factor})" if factor != 1 else ""))

    def _over(self, item: ItemInfo, qty: int) -> None:
        exp = self.expected[item.id]
        have = self.before[item.id] + self.scanned_qty(item.id)
        self._refuse(f"{item.sku}: {have + qty} would be above the expected {exp} "
                     f"(over-receipt tolerance {self.ctx.over_pct.normalize():f}% of {self.ctx.supplier_code or 'supplier'})")

    def _settle(self, p: _Pending, msg: str) -> str:
        need = p.needs()
        if need:
            self.pending.append(p)
            left = p.qty - len(p.serials) if need == "serial" else p.qty
            return f"{msg}: scan the {need} ({left} unit(s) waiting)"
        self._count(p)
        return f"{msg} = {self.scanned_qty(p.item.id)} of {self.expected[p.item.id]}"

    def _count(self, p: _Pending) -> None:
        key = (p.item.id, p.lot.upper(), p.expiry, p.reason, p.sscc)
        line = self.counted.setdefault(key, CountedLine(p.item.id, p.lot.upper(), p.expiry, p.reason, p.sscc))
        line.qty += p.qty
        line.serials.extend(p.serials)

    def _feed_pending(self, s: Scan) -> str:
        p = self.pending[0]
        need = p.needs()
        if s.kind == "text" and (s.text.upper() in self.ctx.codes or self.ctx.other_item(s.text)):
            self._refuse(f"{p.item.sku} waits for its {need}: {s.text} is an item code "
                         f"(scan the {need}, or {'LOT:' if need == 'lot' else 'SN:'}value if it really is one)")
        if need == "lot":
            if s.kind not in ("lot", "text"):
                self._refuse(f"{p.item.sku} waits for its lot: scan the lot (or LOT:code)")
            p.lot = s.lot or s.text
            msg = f"{p.item.sku} lot {p.lot.upper()}"
        elif need == "expiry":
            if s.kind == "expiry" and s.expiry:
                p.expiry = s.expiry
            elif s.kind == "text":
                p.expiry = parse_date(s.text)
            elif s.kind == "gtin" and len(s.raw.strip()) == 6:
                p.expiry = parse_date(s.raw.strip())
            else:
                self._refuse(f"{p.item.sku} lot {p.lot.upper()} waits for its expiry: scan YYMMDD or EXP:YYYY-MM-DD")
            msg = f"{p.item.sku} expiry {p.expiry}"
        else:
            if s.kind not in ("serial", "text"):
                self._refuse(f"{p.item.sku} waits for a serial: scan the serial (or SN:serial)")
            serial = s.serial or s.text
            why = self._serial_taken(p.item.id, serial)
            if why:
                self._refuse(f"serial {serial} of {p.item.sku} {why}")
            p.serials.append(serial)
            msg = f"{p.item.sku} serial {serial}"
        if not p.needs():
            self.pending.pop(0)
            self._count(p)
            return f"{msg}: {p.item.sku} = {self.scanned_qty(p.item.id)} of {self.expected[p.item.id]}"
        return f"{msg}: scan the {p.needs()}"

    def _carton(self, sscc: str) -> str:
        lines = [ln for ln in self.ctx.lines if ln.sscc == sscc]
        if not lines:
            self._refuse(f"carton {sscc} is not on {self.ctx.number}")
        if sscc in self.cartons:
            self._refuse(f"carton {sscc} was already scanned")
        if any(ln.qty_received for ln in lines):
            self._refuse(f"carton {sscc} was already received")
        adds = [(self.ctx.items[ln.item_id], ln) for ln in lines]
        for item, ln in adds:
            if ln.qty_expected > self._room(item.id):
                self._over(item, ln.qty_expected)
        reason, self.next_reason, self.next_qty = self.next_reason, "", None
        self.cartons.add(sscc)
        parts = []
        for item, ln in adds:
            p = _Pending(item, ln.qty_expected, reason, lot=ln.lot_code, expiry=ln.expiry_date, sscc=sscc)
            parts.append(self._settle(p, f"{item.sku} +{ln.qty_expected}"))
            self.last_item = item
        return f"carton {sscc}: " + "; ".join(parts)

    # ---- results ------------------------------------------------------------------------
    def view(self) -> list[LineView]:
        out = []
        for iid, item in sorted(self.ctx.items.items(), key=lambda kv: kv[1].sku):
            details = []
            for c in self.counted.values():
                if c.item_id != iid:
                    continue
                bits = [f"{c.qty}"]
                if c.lot:
                    bits.append(f"lot {c.lot}")
                if c.expiry:
                    bits.append(f"exp {c.expiry}")
                if c.serials:
                    bits.append(f"SN {', '.join(c.serials[:3])}{'...' if len(c.serials) > 3 else ''}")
                if c.reason:
                    bits.append(c.reason)
                details.append(" ".join(bits))
            out.append(LineView(iid, item.sku, item.description, self.expected[iid], self.before[iid],
                                self.scanned_qty(iid), "; ".join(details), iid in self.shortages))
        return out

    def post_lines(self) -> list[ReceiveLine]:
        """The lines to post; refuses while units still wait for a lot or serial."""
        if self.pending:
            p = self.pending[0]
            raise ValidationError(p.item.sku, f"{p.qty} unit(s) still wait for their {p.needs()}: scan it or drop them")
        return [ReceiveLine(item_id=c.item_id, qty=c.qty, lot_code=c.lot, expiry_date=c.expiry,
                            serials=tuple(c.serials), reason=c.reason, sscc=c.sscc)
                for c in self.counted.values() if c.qty > 0]


class _Refused(DomainError):
    """A scan the session refuses: its text is the message for the scan field."""
