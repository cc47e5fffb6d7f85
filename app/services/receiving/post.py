"""Posting a receipt: one call, one transaction, everything or nothing; validate -> plan -> apply.

* ``_validate`` reads what the posting needs and refuses bad input before anything is written:
  item on the receipt, lot/expiry/serial capture, reasons, over/under tolerance of the supplier,
  the PO's approver may not receive it (segregation of duties), a received document cannot be
  received again, another branch's receipt is received at that branch.
* ``_plan`` decides every row (receipt and lines with their ids, lots, the expected lines'
  received quantities, stock moves supplier -> DOCK, or -> QA for items that need inspection and
  damaged units, the serial registry, quality holds, putaway requests) without writing any.
* ``_apply`` writes the plan, moves the expected receipt to received and audits the posting.

Then the follow-ups other packages registered run in the same transaction (``app.services.events``):
``GoodsReceived`` rolls the PO up (Buying: at once when this site owns the PO, else the owner's
settler after its next pull) and leaves a follow-up expected receipt for what is still owed
(``followup``); ``StockArrived`` releases backorders the goods cover (Inventory) and, in later
issues, re-allocates orders. A new follow-up is a handler, not an edit of this module.

Across branches the receiving branch writes only rows it owns (receipt, lines, moves, holds, tasks,
its expected receipt). Quality holds are decided in ``holds``; a transfer's expected receipt is
received through Inventory (``transfers.receive``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot, lot_id_for
from app.models.ids import uuid7
from app.models.org import Branch, Warehouse
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder
from app.models.receiving import LINE_REASONS, PutawayTask, QualityHold, Receipt, ReceiptLine, SerialNumber
from app.models.types import DomainValueError, to_qty, utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.buying.approvals import approvers_of
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.events import GoodsReceived, StockArrived, emit
from app.services.inventory import transfers
from app.services.numbering import next_number
from app.services.ownership import owns
from app.services.receiving.putaway import TaskRequest, create_tasks
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.workflow import transition

#: serial statuses that mean "this unit is with us": receiving it again is refused
ACTIVE_SERIAL = ("in_stock", "held")
RECEIVABLE_PO = ("sent", "confirmed", "partially_received")


@dataclass(frozen=True)
class ReceiveLine:
    item_id: uuid.UUID
    qty: int
    lot_code: str = ""
    expiry_date: dt.date | None = None
    serials: tuple[str, ...] = ()
    #: '' | 'damaged' (to QA hold) | 'short' (explains an under-receipt)
    reason: str = ""
    note: str = ""
    sscc: str = ""


@dataclass(frozen=True)
class PostedReceipt:
    receipt_id: uuid.UUID
    number: str
    lines: int
    units: int
    held_units: int
    putaway_task_ids: list[uuid.UUID]
    hold_ids: list[uuid.UUID]
    released_orders: list[str]
    notes: list[str]


def max_receivable(expected: int, over_pct: Decimal) -> int:
    """Most that may be received against ``expected`` with the supplier's over-receipt tolerance."""
    return expected + int(Decimal(expected) * over_pct / 100)


def min_without_reason(expected: int, under_pct: Decimal) -> int:
    """Least that may be received without a shortage reason (under-receipt tolerance)."""
    return expected - int(Decimal(expected) * under_pct / 100)


def post_receipt(
    session: Session, actor: Actor, expected_receipt_id: uuid.UUID, lines: Sequence[ReceiveLine], *,
    shortages: Iterable[uuid.UUID] = (), arrived_at: dt.datetime | None = None, notes: str = "",
    at: dt.datetime | None = None,
) -> PostedReceipt:
    """Post the counted ``lines`` against an expected receipt (see the module docstring)."""
    actor.require("receipt.post")
    at = at or utcnow()
    er = session.get(ExpectedReceipt, expected_receipt_id)
    if er is None:
        raise NotFound("expected receipt", expected_receipt_id)
    if er.status == "received":
        prior = session.scalars(select(Receipt.number).where(Receipt.expected_receipt_id == er.id)).first()
        raise Conflict(f"{er.number} is already received" + (f" ({prior})" if prior else "") + ": nothing posted")
    if er.status == "cancelled":
        raise Conflict(f"{er.number} is cancelled: nothing can be received")
    if er.source == "transfer":
        return _post_transfer(session, actor, er, lines, at)
    checked = _validate(session, actor, er, lines, shortages)
    plan = _plan(session, checked, arrived_at=arrived_at or er.arrived_at or at, notes=notes)
    rec, tasks = _apply(session, actor, checked, plan, at)
    got = emit(session, GoodsReceived(actor, receipt=rec, expected_receipt=er, po=checked.po))
    audit.record(session, actor, "receipt.post", "receipt", rec.id, checked.branch_id, number=rec.number,
                 expected_receipt=er.number, lines=len(plan.lines), units=plan.units, held=plan.held,
                 shortages=sorted(checked.items[i].sku for i in checked.short if i in checked.items),
                 **({"remainder": got.remainder.number} if got.remainder is not None else {}))
    session.flush()
    arrived = emit(session, StockArrived(actor, warehouse_id=checked.wh.id, item_ids=tuple(sorted(checked.totals)),
                                         source="receipt"))
    notes_out = ([f"{plan.held} unit(s) to quality hold"] if plan.held else []) + got.notes + arrived.notes
    return PostedReceipt(rec.id, rec.number, len(plan.lines), plan.units, plan.held, [t.id for t in tasks],
                         [h.id for h in plan.holds], arrived.released, notes_out)


# ---- validate ---------------------------------------------------------------------------------


@dataclass
class _Checked:
    """What validation read and found good: everything the plan needs."""

    er: ExpectedReceipt
    po: PurchaseOrder | None
    wh: Warehouse
    branch_id: uuid.UUID
    lines: Sequence[ReceiveLine]
    items: dict[uuid.UUID, Item]
    #: item -> its expected lines, in order
    by_item: dict[uuid.UUID, list[ExpectedReceiptLine]]
    totals: dict[uuid.UUID, int]
    short: set[uuid.UUID]
    serials: set[tuple[uuid.UUID, str]]


def _check_receiver(session: Session, actor: Actor, po: PurchaseOrder) -> None:
    """Segregation of duties: who approved a PO does not receive it."""
    if actor.user_id in approvers_of(session, po.id):
        raise PermissionDenied(f"{actor.username} approved {po.number} and may not receive it (separation of duties)")


def _validate(session: Session, actor: Actor, er: ExpectedReceipt, lines: Sequence[ReceiveLine],
              shortages: Iterable[uuid.UUID]) -> _Checked:
    po = session.get(PurchaseOrder, er.po_id) if er.po_id else None
    if po is not None:
        _check_receiver(session, actor, po)
        if po.status not in RECEIVABLE_PO:
            raise Conflict(f"{po.number} is {po.status}: only a sent or confirmed PO can be received")
    if not lines:
        raise ValidationError("lines", "nothing was scanned: a receipt needs at least one line")
    wh = session.get(Warehouse, er.warehouse_id)
    assert wh is not None
    if not (owns(session, er.owner_branch_id) and owns(session, wh.branch_id)):
        code = session.scalar(select(Branch.code).where(Branch.id == er.owner_branch_id)) or "its branch"
        raise PermissionDenied(f"{er.number} is {code}'s ({wh.code}): it is received on a {code} workstation")
    sup = session.get(Supplier, er.supplier_id) if er.supplier_id else None
    over_pct = sup.over_receipt_pct if sup else Decimal(0)
    under_pct = sup.under_receipt_pct if sup else Decimal(100)
    sup_name = sup.code if sup else "supplier"

    er_lines = list(session.scalars(select(ExpectedReceiptLine).where(
        ExpectedReceiptLine.receipt_id == er.id, ExpectedReceiptLine.deleted_at.is_(None)).order_by(ExpectedReceiptLine.created_at)))
    by_item: dict[uuid.UUID, list[ExpectedReceiptLine]] = defaultdict(list)
    for el in er_lines:
        by_item[el.item_id].append(el)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines} | set(by_item))))}

    totals: dict[uuid.UUID, int] = defaultdict(int)
    short = set(shortages)
    seen_serials: set[tuple[uuid.UUID, str]] = set()
    for n, ln in enumerate(lines, 1):
        item = items.get(ln.item_id)
        if item is None:
            raise NotFound("item", ln.item_id)
        qty = _check_line(ln, n, item, er, by_item, seen_serials)
        if ln.reason == "short":
            short.add(item.id)
        totals[item.id] += qty
    if seen_serials:
        _check_serials(session, seen_serials, items)
    for iid, els in by_item.items():
        expected = sum(el.qty_expected for el in els)
        already = sum(el.qty_received for el in els)
        now = totals.get(iid, 0)
        cap = sum(max_receivable(el.qty_expected, over_pct) for el in els)
        sku = items[iid].sku
        if already + now > cap:
            raise ValidationError(f"{sku} quantity", f"{already + now} received is above the expected {expected} "
                                  f"(over-receipt tolerance {over_pct.normalize():f}% of {sup_name})")
        if already + now < min_without_reason(expected, under_pct) and iid not in short:
            raise ValidationError(f"{sku} quantity", f"{already + now} received is below the expected {expected} beyond "
                                  f"the under-receipt tolerance {under_pct.normalize():f}% of {sup_name}: give a shortage reason")
    return _Checked(er, po, wh, wh.branch_id, lines, items, by_item, dict(totals), short, seen_serials)


def _check_line(ln: ReceiveLine, n: int, item: Item, er: ExpectedReceipt,
                by_item: dict[uuid.UUID, list[ExpectedReceiptLine]], seen_serials: set[tuple[uuid.UUID, str]]) -> int:
    """One scanned line on its own: returns its quantity (serials found are added to ``seen_serials``)."""
    where = f"line {n} ({item.sku})"
    if ln.item_id not in by_item:
        raise ValidationError(where, f"{item.sku} is not on {er.number}")
    try:
        qty = to_qty(ln.qty, f"{where} quantity")
    except DomainValueError as e:
        raise ValidationError(f"{where} quantity", str(e).split(": ", 1)[-1]) from None
    if ln.reason not in LINE_REASONS:
        raise ValidationError(f"{where} reason", f"{ln.reason!r} is not one of {', '.join(r for r in LINE_REASONS if r)}")
    if ln.lot_code and not item.track_lot:
        raise ValidationError(f"{where} lot", f"{item.sku} is not lot-tracked: lot {ln.lot_code} refused")
    if item.track_lot and not ln.lot_code.strip():
        raise ValidationError(f"{where} lot", f"{item.sku} is lot-tracked: scan the lot")
    if item.track_expiry and ln.expiry_date is None:
        raise ValidationError(f"{where} expiry", f"{item.sku} needs an expiry date")
    if item.track_serial:
        if len(ln.serials) != qty:
            raise ValidationError(f"{where} serials", f"{qty} unit(s) need {qty} serial(s), {len(ln.serials)} given")
        for s in ln.serials:
            key = (item.id, s.strip().upper())
            if not key[1] or key in seen_serials:
                raise ValidationError(f"{where} serial", f"serial {s!r} is empty or scanned twice")
            seen_serials.add(key)
    elif ln.serials:
        raise ValidationError(f"{where} serial", f"{item.sku} is not serial-tracked")
    return qty


def _check_serials(session: Session, seen: set[tuple[uuid.UUID, str]], items: dict[uuid.UUID, Item]) -> None:
    taken = session.execute(select(SerialNumber.serial, Item.sku).join(Item, Item.id == SerialNumber.item_id).where(
        SerialNumber.item_id.in_({k[0] for k in seen}),
        SerialNumber.serial.in_({k[1] for k in seen}), SerialNumber.status.in_(ACTIVE_SERIAL))).first()
    if taken:
        raise ValidationError("serial", f"serial {taken[0]} of {taken[1]} is already in stock")
    # a unit coming back reuses its registry row, which only the branch that registered it may change
    for item_id, serial, owner_id in session.execute(
            select(SerialNumber.item_id, SerialNumber.serial, SerialNumber.owner_branch_id).where(
                SerialNumber.item_id.in_({k[0] for k in seen}), SerialNumber.serial.in_({k[1] for k in seen}))):
        if (item_id, serial.upper()) in seen and not owns(session, owner_id):
            code = session.scalar(select(Branch.code).where(Branch.id == owner_id)) or "another branch"
            raise ValidationError("serial", f"serial {serial} of {items[item_id].sku} is registered by {code}: "
                                            f"it can be received back only on a {code} workstation")


# ---- plan -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Every row the posting writes, decided before any is (ids assigned, nothing in the session)."""

    receipt: Receipt
    lots: list[Lot]
    #: expected line -> units it receives now
    received: list[tuple[ExpectedReceiptLine, int]]
    lines: list[ReceiptLine]
    moves: list[MoveSpec]
    new_serials: list[SerialNumber]
    #: registry rows of units coming back (after an RTV or a sale): (row, new status, location)
    returning: list[tuple[SerialNumber, str, uuid.UUID]]
    holds: list[QualityHold]
    putaway: list[TaskRequest]
    dock_id: uuid.UUID
    units: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)


def _plan(session: Session, c: _Checked, *, arrived_at: dt.datetime, notes: str) -> _Plan:
    er, wh, branch_id, lines = c.er, c.wh, c.branch_id, c.lines
    dock = virtual_location(session, wh.id, "dock")
    qa = virtual_location(session, wh.id, "qa")
    supplier_loc = virtual_location(session, wh.id, "supplier")
    rec = Receipt(id=uuid7(), number="", expected_receipt_id=er.id, po_id=er.po_id, supplier_id=er.supplier_id,
                  warehouse_id=wh.id, status="posted", arrived_at=arrived_at, notes=notes, owner_branch_id=branch_id)

    lot_ids: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    new_lots: list[Lot] = []
    wanted = {(ln.item_id, ln.lot_code.strip().upper()) for ln in lines if ln.lot_code.strip()}
    if wanted:
        ids = {lot_id_for(i, code): (i, code) for i, code in wanted}
        have = set(session.scalars(select(Lot.id).where(Lot.id.in_(ids))))
        for lid, (iid, code) in ids.items():
            if lid not in have:
                exp = next((ln.expiry_date for ln in lines if ln.item_id == iid and ln.lot_code.strip().upper() == code), None)
                new_lots.append(Lot(id=lid, item_id=iid, lot_code=code, expiry_date=exp, owner_branch_id=branch_id))
            lot_ids[(iid, code)] = lid

    # each item's total spread over its expected lines (in order; any over-receipt on the last);
    # the PO lines follow from these (the roll-up), whichever branch owns the PO
    remaining = dict(c.totals)
    received: list[tuple[ExpectedReceiptLine, int]] = []
    for iid, els in c.by_item.items():
        for i, el in enumerate(els):
            room = max(el.qty_expected - el.qty_received, 0) if i < len(els) - 1 else remaining.get(iid, 0)
            take = min(room, remaining.get(iid, 0))
            if take:
                received.append((el, take))
                remaining[iid] -= take

    rlines: list[ReceiptLine] = []
    moves: list[MoveSpec] = []
    for n, ln in enumerate(lines, 1):
        item = c.items[ln.item_id]
        hold = item.needs_inspection or ln.reason == "damaged"
        code = ln.lot_code.strip().upper()
        el = next((e for e in c.by_item[item.id] if ln.sscc and e.sscc == ln.sscc), c.by_item[item.id][0])
        rl = ReceiptLine(id=uuid7(), receipt_id=rec.id, line_no=n, expected_line_id=el.id, po_line_id=el.po_line_id,
                         item_id=item.id, qty=int(ln.qty), lot_id=lot_ids.get((item.id, code)), lot_code=code,
                         expiry_date=ln.expiry_date, serials="\n".join(s.strip().upper() for s in ln.serials),
                         reason=ln.reason, reason_note=ln.note[:200], hold=hold, sscc=ln.sscc,
                         to_location_id=(qa if hold else dock).id, owner_branch_id=branch_id)
        rlines.append(rl)
        for unit in (ln.serials or (None,)):
            moves.append(MoveSpec(item_id=rl.item_id, qty=1 if unit else rl.qty, from_location_id=supplier_loc.id,
                                  to_location_id=rl.to_location_id, reason="receipt", lot_id=rl.lot_id,
                                  serial_no=unit.strip().upper() if unit else None, doc_type="receipt", doc_id=rec.id,
                                  doc_line_id=rl.id))

    new_serials: list[SerialNumber] = []
    returning: list[tuple[SerialNumber, str, uuid.UUID]] = []
    if c.serials:
        existing = {(s.item_id, s.serial.upper()): s for s in session.scalars(select(SerialNumber).where(
            SerialNumber.item_id.in_({k[0] for k in c.serials}), SerialNumber.serial.in_({k[1] for k in c.serials})))}
        for rl, ln in zip(rlines, lines, strict=True):
            status = "held" if rl.hold else "in_stock"
            for s in ln.serials:
                key = (rl.item_id, s.strip().upper())
                row = existing.get(key)
                if row is None:
                    new_serials.append(SerialNumber(item_id=rl.item_id, serial=key[1], status=status,
                                                    location_id=rl.to_location_id, lot_id=rl.lot_id, receipt_id=rec.id,
                                                    owner_branch_id=branch_id))
                else:
                    returning.append((row, status, rl.to_location_id))

    holds = [QualityHold(id=uuid7(), receipt_id=rec.id, receipt_line_id=rl.id, warehouse_id=wh.id, item_id=rl.item_id,
                         lot_id=rl.lot_id, serials=rl.serials, qty=rl.qty,
                         reason="damaged" if rl.reason == "damaged" else "inspection", status="held",
                         owner_branch_id=branch_id) for rl in rlines if rl.hold]
    putaway = [TaskRequest(item_id=rl.item_id, qty=rl.qty, from_location_id=dock.id, lot_id=rl.lot_id,
                           serials=tuple(s for s in rl.serials.split("\n") if s), receipt_id=rec.id, receipt_line_id=rl.id)
               for rl in rlines if not rl.hold]
    return _Plan(rec, new_lots, received, rlines, moves, new_serials, returning, holds, putaway, dock.id,
                 units=sum(rl.qty for rl in rlines), held=sum(rl.qty for rl in rlines if rl.hold))


# ---- apply ------------------------------------------------------------------------------------


def _apply(session: Session, actor: Actor, c: _Checked, plan: _Plan, at: dt.datetime) -> tuple[Receipt, list[PutawayTask]]:
    """Write the plan: numbered receipt, lots, lines, moves, serials, holds, tasks; the expected
    receipt becomes received. Returns the receipt and its putaway tasks."""
    rec = plan.receipt
    rec.number = next_number(session, c.branch_id, "GR")
    rec.posted_at, rec.user_id = at, actor.user_id
    session.add(rec)
    session.add_all(plan.lots)
    for el, take in plan.received:
        el.qty_received += take
    session.add_all(plan.lines)
    session.flush()
    post_moves(session, actor, plan.moves, owner_branch_id=c.branch_id, at=at)
    session.add_all(plan.new_serials)
    for row, status, loc in plan.returning:  # same registry row, new life
        row.location_id, row.receipt_id = loc, rec.id
        transition(row, status, actor)
    session.add_all(plan.holds)
    tasks = create_tasks(session, c.wh.id, c.branch_id, plan.putaway)
    if c.er.arrived_at is None:
        c.er.arrived_at = rec.arrived_at
    transition(c.er, "received", actor, at=at, receipt=rec.number)
    session.flush()
    return rec, tasks


# ---- a transfer's expected receipt --------------------------------------------------------------


def _post_transfer(session: Session, actor: Actor, er: ExpectedReceipt, lines: Sequence[ReceiveLine],
                   at: dt.datetime) -> PostedReceipt:
    """An inbound transfer is taken out of transit by Inventory's ``receive`` (the sender's lots and
    serials travel with the stock; it announces the stock that arrived); here the scanned totals are
    mapped onto its lines and the units that reached the dock get putaway tasks."""
    if er.source_doc_id is None:
        raise NotFound("transfer of expected receipt", er.number)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for n, ln in enumerate(lines, 1):
        try:
            totals[ln.item_id] += to_qty(ln.qty, f"line {n} quantity")
        except DomainValueError as e:
            raise ValidationError(f"line {n} quantity", str(e).split(": ", 1)[-1]) from None
    received: dict[uuid.UUID, int] = {}
    for tl in transfers.lines_of(session, er.source_doc_id):
        take = min(totals.get(tl.item_id, 0), tl.qty_shipped)
        received[tl.id] = take
        totals[tl.item_id] = totals.get(tl.item_id, 0) - take
    over = {iid: q for iid, q in totals.items() if q > 0}
    if over:
        skus = {i.id: i.sku for i in session.scalars(select(Item).where(Item.id.in_(over)))}
        iid, q = next(iter(over.items()))
        raise ValidationError(f"{skus.get(iid, iid)} quantity", f"{q} more than the transfer shipped (or not on it)")
    got = transfers.receive(session, actor, er.source_doc_id, received)
    wh = session.get(Warehouse, er.warehouse_id)
    assert wh is not None
    dock = virtual_location(session, wh.id, "dock")
    moved = [m for m in got.moves if m.reason == "transfer_in" and m.to_location_id == dock.id]
    tasks = create_tasks(session, wh.id, wh.branch_id, [
        TaskRequest(item_id=m.item_id, qty=m.qty, from_location_id=dock.id, lot_id=m.lot_id,
                    serials=(m.serial_no,) if m.serial_no else ()) for m in moved])
    # the receiver's rows only (its ER, moves out of transit, tasks); the note says when the sender's
    # transfer shows it received (at once on a site that owns it, else after the sender's next sync)
    return PostedReceipt(got.transfer.id, got.transfer.number, len(moved), sum(m.qty for m in moved), 0,
                         [x.id for x in tasks], [], got.released, [transfers.receive_note(session, got.transfer)])
