"""Posting a receipt: one call, one transaction, everything or nothing.

``post_receipt`` validates every line first (item on the receipt, lot/expiry/serial capture,
reasons, over/under tolerance of the supplier, the PO's approver may not receive it, a
received document cannot be received again), then writes the receipt and its lines, the
stock moves supplier -> DOCK (or -> QA for items that need inspection and for damaged units),
the serial registry, quality holds, putaway tasks with a proposed bin, the received
quantities of the expected receipt, and one audit entry. After that it asks inventory to release
backorders the receipt covers.

Across branches: the receiving branch writes only rows it owns (receipt, lines, moves, holds,
tasks, its expected receipt). The PO's received quantities and status are derived from the
expected-receipt lines (``rollup.roll_up``): at once when this site owns the PO, else by the PO
owner's settler after its next pull. A receipt posted short leaves a follow-up expected receipt
for what is still owed (``followup``).

Quality holds are decided by ``release_holds`` (QA -> DOCK, then a putaway task) and
``reject_holds`` (QA -> supplier, reason 'rtv').
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot, lot_id_for
from app.models.org import Branch, Location, Warehouse
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder
from app.models.receiving import LINE_REASONS, QualityHold, Receipt, ReceiptLine, SerialNumber
from app.models.types import DomainValueError, to_qty, utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.numbering import next_number
from app.services.ownership import owns
from app.services.receiving.followup import follow_up
from app.services.receiving.putaway import TaskRequest, create_tasks
from app.services.receiving.rollup import roll_up
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


def _check_receiver(session: Session, actor: Actor, po: PurchaseOrder) -> None:
    try:
        approvals = importlib.import_module("app.services.buying.approvals")
    except ModuleNotFoundError:
        return
    approvers: set[uuid.UUID] = approvals.approvers_of(session, po.id)
    if actor.user_id in approvers:
        raise PermissionDenied(f"{actor.username} approved {po.number} and may not receive it (separation of duties)")


def _release_backorders(session: Session, actor: Actor, item_ids: list[uuid.UUID], warehouse_id: uuid.UUID) -> list[str]:
    try:
        mod = importlib.import_module("app.services.inventory.backorders")
    except ModuleNotFoundError:
        return []
    return list(mod.release_backorders(session, actor, item_ids, warehouse_id))


def _fixed_location(session: Session, warehouse_id: uuid.UUID, kind: str) -> Location:
    loc = session.scalars(select(Location).where(Location.warehouse_id == warehouse_id, Location.kind == kind)).first()
    if loc is None:
        raise NotFound(f"{kind} location of warehouse", warehouse_id)
    return loc


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
    po = session.get(PurchaseOrder, er.po_id) if er.po_id else None
    if po is not None:
        _check_receiver(session, actor, po)
        if po.status not in RECEIVABLE_PO:
            raise Conflict(f"{po.number} is {po.status}: only a sent or confirmed PO can be received")
    if not lines:
        raise ValidationError("lines", "nothing was scanned: a receipt needs at least one line")
    wh = session.get(Warehouse, er.warehouse_id)
    assert wh is not None
    branch_id = wh.branch_id
    if not (owns(session, er.owner_branch_id) and owns(session, branch_id)):
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

    # ---- validate everything before writing anything ------------------------------------
    totals: dict[uuid.UUID, int] = defaultdict(int)
    short = set(shortages)
    seen_serials: set[tuple[uuid.UUID, str]] = set()
    for n, ln in enumerate(lines, 1):
        item = items.get(ln.item_id)
        if item is None:
            raise NotFound("item", ln.item_id)
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
        if ln.reason == "short":
            short.add(item.id)
        totals[item.id] += qty
    if seen_serials:
        taken = session.execute(select(SerialNumber.serial, Item.sku).join(Item, Item.id == SerialNumber.item_id).where(
            SerialNumber.item_id.in_({k[0] for k in seen_serials}),
            SerialNumber.serial.in_({k[1] for k in seen_serials}), SerialNumber.status.in_(ACTIVE_SERIAL))).first()
        if taken:
            raise ValidationError("serial", f"serial {taken[0]} of {taken[1]} is already in stock")
        # a unit coming back reuses its registry row, which only the branch that registered it may change
        for item_id, serial, owner_id in session.execute(
                select(SerialNumber.item_id, SerialNumber.serial, SerialNumber.owner_branch_id).where(
                    SerialNumber.item_id.in_({k[0] for k in seen_serials}),
                    SerialNumber.serial.in_({k[1] for k in seen_serials}))):
            if (item_id, serial.upper()) in seen_serials and not owns(session, owner_id):
                code = session.scalar(select(Branch.code).where(Branch.id == owner_id)) or "another branch"
                raise ValidationError("serial", f"serial {serial} of {items[item_id].sku} is registered by {code}: "
                                                f"it can be received back only on a {code} workstation")
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

    # ---- write ------------------------------------------------------------------------------
    dock = _fixed_location(session, wh.id, "dock")
    qa = _fixed_location(session, wh.id, "qa")
    supplier_loc = virtual_location(session, wh.id, "supplier")
    number = next_number(session, branch_id, "GR")
    rec = Receipt(number=number, expected_receipt_id=er.id, po_id=er.po_id, supplier_id=er.supplier_id,
                  warehouse_id=wh.id, status="posted", arrived_at=arrived_at or er.arrived_at or at, posted_at=at,
                  user_id=actor.user_id, notes=notes, owner_branch_id=branch_id)
    session.add(rec)
    lot_ids: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    wanted = {(ln.item_id, ln.lot_code.strip().upper()) for ln in lines if ln.lot_code.strip()}
    if wanted:
        ids = {lot_id_for(i, c): (i, c) for i, c in wanted}
        have = {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.id.in_(ids)))}
        for lid, (iid, code) in ids.items():
            if lid not in have:
                exp = next((ln.expiry_date for ln in lines if ln.item_id == iid and ln.lot_code.strip().upper() == code), None)
                session.add(Lot(id=lid, item_id=iid, lot_code=code, expiry_date=exp, owner_branch_id=branch_id))
            lot_ids[(iid, code)] = lid
    session.flush()

    # distribute each item's total over its expected lines (in order; any over-receipt on the last);
    # the PO lines follow from these (rollup), whichever branch owns the PO
    remaining = dict(totals)
    first_line: dict[uuid.UUID, ExpectedReceiptLine] = {}
    for iid, els in by_item.items():
        first_line[iid] = els[0]
        for i, el in enumerate(els):
            room = max(el.qty_expected - el.qty_received, 0) if i < len(els) - 1 else remaining.get(iid, 0)
            take = min(room, remaining.get(iid, 0))
            if take:
                el.qty_received += take
                remaining[iid] -= take

    rlines: list[ReceiptLine] = []
    moves: list[MoveSpec] = []
    for n, ln in enumerate(lines, 1):
        item = items[ln.item_id]
        hold = item.needs_inspection or ln.reason == "damaged"
        code = ln.lot_code.strip().upper()
        el = next((e for e in by_item[item.id] if ln.sscc and e.sscc == ln.sscc), first_line[item.id])
        rl = ReceiptLine(receipt_id=rec.id, line_no=n, expected_line_id=el.id, po_line_id=el.po_line_id,
                         item_id=item.id, qty=int(ln.qty), lot_id=lot_ids.get((item.id, code)), lot_code=code,
                         expiry_date=ln.expiry_date, serials="\n".join(s.strip().upper() for s in ln.serials),
                         reason=ln.reason, reason_note=ln.note[:200], hold=hold, sscc=ln.sscc,
                         to_location_id=(qa if hold else dock).id, owner_branch_id=branch_id)
        rlines.append(rl)
    session.add_all(rlines)
    session.flush()
    for rl, ln in zip(rlines, lines, strict=True):
        for unit in (ln.serials or (None,)):
            moves.append(MoveSpec(item_id=rl.item_id, qty=1 if unit else rl.qty, from_location_id=supplier_loc.id,
                                  to_location_id=rl.to_location_id, reason="receipt", lot_id=rl.lot_id,
                                  serial_no=unit.strip().upper() if unit else None, doc_type="receipt", doc_id=rec.id,
                                  doc_line_id=rl.id))
    post_moves(session, actor, moves, owner_branch_id=branch_id, at=at)

    if seen_serials:
        existing = {(s.item_id, s.serial.upper()): s for s in session.scalars(select(SerialNumber).where(
            SerialNumber.item_id.in_({k[0] for k in seen_serials}), SerialNumber.serial.in_({k[1] for k in seen_serials})))}
        for rl, ln in zip(rlines, lines, strict=True):
            for s in ln.serials:
                key = (rl.item_id, s.strip().upper())
                row = existing.get(key)
                status = "held" if rl.hold else "in_stock"
                if row is None:
                    session.add(SerialNumber(item_id=rl.item_id, serial=key[1], status=status, location_id=rl.to_location_id,
                                             lot_id=rl.lot_id, receipt_id=rec.id, owner_branch_id=branch_id))
                else:  # came back (after an RTV or a sale): same registry row, new life
                    row.location_id, row.receipt_id = rl.to_location_id, rec.id
                    transition(row, status, actor)

    holds = [QualityHold(receipt_id=rec.id, receipt_line_id=rl.id, warehouse_id=wh.id, item_id=rl.item_id, lot_id=rl.lot_id,
                         serials=rl.serials, qty=rl.qty, reason="damaged" if rl.reason == "damaged" else "inspection",
                         status="held", owner_branch_id=branch_id) for rl in rlines if rl.hold]
    session.add_all(holds)
    tasks = create_tasks(session, wh.id, branch_id, [
        TaskRequest(item_id=rl.item_id, qty=rl.qty, from_location_id=dock.id, lot_id=rl.lot_id,
                    serials=tuple(s for s in rl.serials.split("\n") if s), receipt_id=rec.id, receipt_line_id=rl.id)
        for rl in rlines if not rl.hold])

    # documents: the expected receipt; the PO (here if this site owns it, else by its owner's settler)
    if er.arrived_at is None:
        er.arrived_at = rec.arrived_at
    transition(er, "received", actor, at=at, receipt=number)
    session.flush()
    notes_out: list[str] = []
    if po is not None:
        if owns(session, po.owner_branch_id):
            roll_up(session, actor, po)
        else:
            owner = session.scalar(select(Branch.code).where(Branch.id == po.owner_branch_id)) or "its branch"
            notes_out.append(f"{po.number} is {owner}'s: its received quantities are updated when {owner} next syncs")
    remainder = follow_up(session, actor, er, po)
    if remainder is not None:
        left = session.scalar(select(func.sum(ExpectedReceiptLine.qty_expected)).where(
            ExpectedReceiptLine.receipt_id == remainder.id))
        notes_out.append(f"{left} unit(s) still owed: expected on {remainder.number}")
    units = sum(rl.qty for rl in rlines)
    held = sum(rl.qty for rl in rlines if rl.hold)
    audit.record(session, actor, "receipt.post", "receipt", rec.id, branch_id, number=number,
                 expected_receipt=er.number, lines=len(rlines), units=units, held=held,
                 shortages=sorted(items[i].sku for i in short if i in items),
                 **({"remainder": remainder.number} if remainder is not None else {}))
    session.flush()
    released = _release_backorders(session, actor, sorted(totals), wh.id)
    if held:
        notes_out.insert(0, f"{held} unit(s) to quality hold")
    return PostedReceipt(rec.id, number, len(rlines), units, held, [t.id for t in tasks], [h.id for h in holds],
                         released, notes_out)


def _post_transfer(session: Session, actor: Actor, er: ExpectedReceipt, lines: Sequence[ReceiveLine],
                   at: dt.datetime) -> PostedReceipt:
    """An inbound transfer is taken out of transit by inventory's ``receive_transfer`` (the sender's
    lots and serials travel with the stock); here the scanned totals are mapped onto its lines and
    the units that reached the dock get putaway tasks."""
    try:
        tr = importlib.import_module("app.services.inventory.transfers")
    except ModuleNotFoundError:
        raise Conflict(f"{er.number} is a transfer and this build cannot receive transfers") from None
    if er.source_doc_id is None:
        raise NotFound("transfer of expected receipt", er.number)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for n, ln in enumerate(lines, 1):
        try:
            totals[ln.item_id] += to_qty(ln.qty, f"line {n} quantity")
        except DomainValueError as e:
            raise ValidationError(f"line {n} quantity", str(e).split(": ", 1)[-1]) from None
    received: dict[uuid.UUID, int] = {}
    for tl in tr.lines_of(session, er.source_doc_id):
        take = min(totals.get(tl.item_id, 0), tl.qty_shipped)
        received[tl.id] = take
        totals[tl.item_id] = totals.get(tl.item_id, 0) - take
    over = {iid: q for iid, q in totals.items() if q > 0}
    if over:
        skus = {i.id: i.sku for i in session.scalars(select(Item).where(Item.id.in_(over)))}
        iid, q = next(iter(over.items()))
        raise ValidationError(f"{skus.get(iid, iid)} quantity", f"{q} more than the transfer shipped (or not on it)")
    t = tr.receive_transfer(session, actor, er.source_doc_id, received)
    dock = _fixed_location(session, er.warehouse_id, "dock")
    from app.models.stock import StockMove

    moved = list(session.scalars(select(StockMove).where(
        StockMove.doc_type == "transfer", StockMove.doc_id == t.id, StockMove.reason == "transfer_in",
        StockMove.to_location_id == dock.id)))
    wh = session.get(Warehouse, er.warehouse_id)
    assert wh is not None
    tasks = create_tasks(session, wh.id, wh.branch_id, [
        TaskRequest(item_id=m.item_id, qty=m.qty, from_location_id=dock.id, lot_id=m.lot_id,
                    serials=(m.serial_no,) if m.serial_no else ()) for m in moved])
    released = _release_backorders(session, actor, sorted({m.item_id for m in moved}), wh.id)
    # the receiver's rows only (its ER, moves out of transit, tasks); the note says when the sender's
    # transfer shows it received (at once on a site that owns it, else after the sender's next sync)
    return PostedReceipt(t.id, t.number, len(moved), sum(m.qty for m in moved), 0, [x.id for x in tasks], [], released,
                         [tr.receive_note(session, t)])


# ---- quality hold decisions -------------------------------------------------------------------

def _open_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID]) -> list[QualityHold]:
    actor.require("receipt.post")
    if not hold_ids:
        raise ValidationError("holds", "choose at least one held line")
    holds = {h.id: h for h in session.scalars(select(QualityHold).where(QualityHold.id.in_(hold_ids)))}
    out = []
    for hid in hold_ids:
        h = holds.get(hid)
        if h is None:
            raise NotFound("quality hold", hid)
        if h.status != "held":
            raise Conflict(f"quality hold of {h.qty} unit(s) is already {h.status}")
        out.append(h)
    return out


def _hold_moves(holds: Sequence[QualityHold], qa_of: dict[uuid.UUID, uuid.UUID], to_of: dict[uuid.UUID, uuid.UUID],
                reason: str) -> list[MoveSpec]:
    moves = []
    for h in holds:
        units: list[str | None] = [s for s in h.serials.split("\n") if s] or [None]
        for unit in units:
            moves.append(MoveSpec(item_id=h.item_id, qty=1 if unit else h.qty, from_location_id=qa_of[h.warehouse_id],
                                  to_location_id=to_of[h.warehouse_id], reason=reason, lot_id=h.lot_id, serial_no=unit,
                                  doc_type="quality_hold", doc_id=h.id, doc_line_id=h.receipt_line_id))
    return moves


def _set_serials(session: Session, holds: Sequence[QualityHold], status: str, loc: dict[uuid.UUID, uuid.UUID]) -> None:
    for h in holds:
        serials = [s for s in h.serials.split("\n") if s]
        if serials:
            for sn in session.scalars(select(SerialNumber).where(SerialNumber.item_id == h.item_id,
                                                                 SerialNumber.serial.in_(serials))):
                if owns(session, sn.owner_branch_id):  # another branch's registry row is its own to update
                    sn.location_id = loc[h.warehouse_id]
                    if sn.status != status:
                        transition(sn, status, None)


def release_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID], *, note: str = "",
                  at: dt.datetime | None = None) -> list[uuid.UUID]:
    """Inspection passed: QA -> DOCK and a putaway task per hold. Returns the task ids."""
    at = at or utcnow()
    holds = _open_holds(session, actor, hold_ids)
    whs = {h.warehouse_id for h in holds}
    qa = {w: _fixed_location(session, w, "qa").id for w in whs}
    dock = {w: _fixed_location(session, w, "dock").id for w in whs}
    post_moves(session, actor, _hold_moves(holds, qa, dock, "hold"), owner_branch_id=holds[0].owner_branch_id, at=at)
    _set_serials(session, holds, "in_stock", dock)
    task_ids: list[uuid.UUID] = []
    for w in whs:
        mine = [h for h in holds if h.warehouse_id == w]
        tasks = create_tasks(session, w, mine[0].owner_branch_id, [
            TaskRequest(item_id=h.item_id, qty=h.qty, from_location_id=dock[w], lot_id=h.lot_id,
                        serials=tuple(s for s in h.serials.split("\n") if s), receipt_id=h.receipt_id,
                        receipt_line_id=h.receipt_line_id) for h in mine])
        task_ids += [t.id for t in tasks]
    for h in holds:
        h.decision_note = note[:200]
        transition(h, "released", actor, at=at, note=note)
    session.flush()
    return task_ids


def reject_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID], *, note: str,
                 at: dt.datetime | None = None) -> int:
    """Inspection failed: QA -> supplier with reason 'rtv' (return to vendor). Returns units returned."""
    if not note.strip():
        raise ValidationError("reject reason", "say why the goods are rejected")
    at = at or utcnow()
    holds = _open_holds(session, actor, hold_ids)
    whs = {h.warehouse_id for h in holds}
    qa = {w: _fixed_location(session, w, "qa").id for w in whs}
    sup = {w: virtual_location(session, w, "supplier").id for w in whs}
    post_moves(session, actor, _hold_moves(holds, qa, sup, "rtv"), owner_branch_id=holds[0].owner_branch_id, at=at)
    _set_serials(session, holds, "rtv", sup)
    for h in holds:
        h.decision_note = note.strip()[:200]
        transition(h, "rejected", actor, at=at, note=note)
    session.flush()
    return sum(h.qty for h in holds)
