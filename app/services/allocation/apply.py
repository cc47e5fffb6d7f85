"""Writing a plan: the allocation ledger, the lines' reservations and the orders' statuses, in the
caller's transaction, without overwriting anything that changed after the plan was computed.

A plan is computed from a snapshot (a read transaction), so the world may move before it is
written: a user at another workstation changes a line, a pulled receipt adds stock, another run
allocates. ``apply`` therefore checks, for every line it would change:

* the line and its order still carry the versions (HLC) the plan saw; otherwise the line is
  **failed** with that reason and left as it is (run again to include it);
* no stock move and no reservation touched its item since the snapshot (both ledgers are
  insert-only, so a higher rowid than the snapshot's mark is a newer write); otherwise a line that
  would take more is failed (one that gives back is still written: that never over-allocates).

What is written: one ``AllocationRun`` per branch (every row names its run), one ledger row per
line and lot that changes (+ takes, - gives back, with the rule, rank and reason), the lines'
``qty_allocated`` (raw UPDATEs with a fresh HLC: 20,000 ORM objects would cost seconds) and each
touched order's status through ``workflow.transition`` (audited, announced).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.allocation import Allocation, AllocationRun
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.org import Branch, Warehouse
from app.models.sales import SalesOrder
from app.models.stamps import micros
from app.models.types import iso_utc, utcnow
from app.services import audit
from app.services.allocation.plan import LinePlan, Plan
from app.services.allocation.snapshot import ALLOCATABLE, _chunked, _rows
from app.services.auth import Actor
from app.services.bulk import BulkInsert, run_many
from app.services.db import site_id
from app.services.events import AllocationChanged, emit
from app.services.numbering import next_number
from app.services.ownership import ownership
from app.services.sales import credit
from app.services.workflow import transition

ALLOC_COLUMNS = ("id", "owner_branch_id", "created_at", "run_id", "order_id", "order_line_id", "item_id", "warehouse_id",
                 "lot_id", "qty", "rule", "rank", "reason")
CHANGED_ELSEWHERE = "changed while the run computed (another user or workstation): not touched, run again"


@dataclass
class Failure:
    order: str
    line_no: int
    sku: str
    reason: str

    def text(self) -> str:
        return f"{self.order}/{self.line_no} {self.sku}: {self.reason}"


@dataclass
class RunResult:
    numbers: list[str]
    kind: str
    lines_considered: int
    lines_changed: int
    units_allocated: int
    units_released: int
    failures: list[Failure] = field(default_factory=list)
    orders_allocated: list[str] = field(default_factory=list)
    orders_backordered: list[str] = field(default_factory=list)
    #: orders credit control stopped at release (now on credit hold)
    orders_held: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.numbers:
            text = "nothing to change"
            if self.orders_held:
                text += f"; {len(self.orders_held)} order(s) put on credit hold"
            return text + (f"; {len(self.failures)} line(s) failed" if self.failures else "")
        text = (f"{', '.join(self.numbers)}: {self.lines_changed} line(s) changed, {self.units_allocated} unit(s) "
                f"allocated, {self.units_released} released; {len(self.orders_allocated)} order(s) allocated, "
                f"{len(self.orders_backordered)} backordered")
        if self.orders_held:
            text += f"; {len(self.orders_held)} put on credit hold"
        if self.failures:
            text += f"; {len(self.failures)} line(s) failed (see failures)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.numbers, "kind": self.kind, "lines_considered": self.lines_considered,
                "lines_changed": self.lines_changed, "units_allocated": self.units_allocated,
                "units_released": self.units_released,
                "failures": [{"order": f.order, "line": f.line_no, "sku": f.sku, "reason": f.reason}
                             for f in self.failures],
                "orders_allocated": self.orders_allocated, "orders_backordered": self.orders_backordered,
                "orders_held": self.orders_held,
                "notes": self.notes}


def apply_plan(session: Session, actor: Actor | None, plan: Plan, *, kind: str = "run", trigger: str = "",
               verify: bool = True, move_mark: int | None = None, alloc_mark: int | None = None) -> RunResult:
    """Write ``plan`` (see the module docstring). ``verify=False`` when the plan was computed in
    this same write transaction (nothing can have changed). ``actor`` None: a follow-up."""
    started = utcnow()
    changes = plan.changes
    failures: list[Failure] = []
    own = ownership(session)
    branch_of = {w.id.hex: w.branch_id for w in session.scalars(select(Warehouse))}
    codes = {b.id: b.code for b in session.scalars(select(Branch))}
    writable: list[LinePlan] = []
    for ln in changes:
        owner = branch_of.get(ln.warehouse_id)
        if not own.owns(owner):
            failures.append(Failure(ln.order_number, ln.line_no, ln.sku,
                                    f"{ln.warehouse} is allocated at a {codes.get(owner, '?') if owner else '?'} workstation"))
        else:
            writable.append(ln)
    if verify and writable:
        writable = _verify(session, plan, writable, failures,
                           (plan.move_mark, plan.alloc_mark) if move_mark is None else (move_mark, alloc_mark or 0))
    holds = _holds(session, plan, own, branch_of, failures, verify)
    if not writable and not holds and not plan.order_status:
        return RunResult([], kind, len(plan.lines), 0, 0, 0, failures)
    # one run row per branch (a standalone file holds every branch's warehouses)
    by_branch: dict[uuid.UUID, list[LinePlan]] = defaultdict(list)
    for ln in writable:
        by_branch[branch_of[ln.warehouse_id]].append(ln)
    now, site = utcnow(), site_id(session)
    now_text = iso_utc(now)
    now_us = micros(now)  # the raw UPDATE's updated_at (``stamps.UTCMicros``)
    numbers: list[str] = []
    alloc_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    ups = downs = 0
    for branch, lines in sorted(by_branch.items(), key=lambda kv: codes.get(kv[0], "")):
        number = next_number(session, branch, "AL")
        numbers.append(number)
        run_id = uuid7()
        b_up = sum(d for ln in lines for _k, d in ln.lot_deltas() if d > 0)
        b_down = -sum(d for ln in lines for _k, d in ln.lot_deltas() if d < 0)
        ups, downs = ups + b_up, downs + b_down
        whs = {ln.warehouse_id for ln in lines}
        session.add(AllocationRun(
            id=run_id, owner_branch_id=branch, number=number, kind=kind,
            warehouse_id=uuid.UUID(next(iter(whs))) if len(whs) == 1 else None, policy=plan.policy.as_json(),
            trigger=trigger[:120], started_at=started, finished_at=now, user_id=actor.user_id if actor else None,
            username=actor.username if actor else "system", lines_considered=len(plan.lines),
            lines_changed=len(lines), lines_failed=len(failures), units_allocated=b_up, units_released=b_down,
            failures="\n".join(f.text() for f in failures)[:20000]))
        for ln in lines:
            for lot, d in ln.lot_deltas():
                alloc_rows.append((uuid7().hex, branch.hex, now_text, run_id.hex, ln.order_id, ln.line_id, ln.item_id,
                                   ln.warehouse_id, lot or None, d, ln.rule[:20], ln.rank, ln.reason[:200]))
            line_rows.append((ln.delta, clock.now(), site, now_us, ln.line_id))
    if alloc_rows:
        # the run rows first (allocation rows name them), then the ledger through the bulk writer
        # (ownership checked; for a big run the capture is done set-based: app.services.bulk)
        BulkInsert(session, Allocation, ALLOC_COLUMNS).write(alloc_rows)
        run_many(session, "sales_order_line", "UPDATE sales_order_line SET qty_allocated = qty_allocated + ?, "
                 "hlc = ?, hlc_site = ?, updated_at = ? WHERE id = ?", [r for r in line_rows if r[0]])
        for obj in list(session.identity_map.values()):  # raw updates: ORM copies are stale now
            session.expire(obj)
    settle = {ln.order_id for ln in writable} | _status_only(session, plan, own, branch_of, verify)
    allocated, backordered = _settle_orders(session, actor, settle, numbers[0] if numbers else "")
    for order, why in holds:
        credit.hold(session, actor, order, why)
    result = RunResult(numbers, kind, len(plan.lines), len(writable), ups, downs, failures,
                       [n for _i, n in allocated], [n for _i, n in backordered], [o.number for o, _w in holds])
    if numbers:
        audit.record(session, actor, f"allocation.{kind}", "allocation_run", None, next(iter(by_branch)),
                     runs=numbers, trigger=trigger, policy=plan.policy.describe(), lines=len(writable), allocated=ups,
                     released=downs, failed=len(failures))
        event = emit(session, AllocationChanged(actor, run_numbers=numbers, kind=kind,
                                                allocated=[i for i, _n in allocated],
                                                backordered=[i for i, _n in backordered]))
        result.notes.extend(event.notes)
    return result


def _status_only(session: Session, plan: Plan, own: Any, branch_of: dict[str, uuid.UUID], verify: bool) -> set[str]:
    """Orders whose status the plan changes although none of their lines does (nothing to be had:
    open -> backordered), still as the plan saw them."""
    first = {ln.order_id: ln for ln in plan.lines}
    ids = [o for o in plan.order_status if o in first and own.owns(branch_of.get(first[o].warehouse_id))]
    if not verify or not ids:
        return set(ids)
    now = {str(i): int(h) for i, h in _chunked(session, "SELECT id, hlc FROM sales_order WHERE id IN ({keys})", ids)}
    return {o for o in ids if now.get(o) == first[o].order_hlc}


def _holds(session: Session, plan: Plan, own: Any, branch_of: dict[str, uuid.UUID], failures: list[Failure],
           verify: bool) -> list[tuple[SalesOrder, str]]:
    """The orders the plan stops for credit, still as the plan saw them."""
    out: list[tuple[SalesOrder, str]] = []
    first = {ln.order_id: ln for ln in plan.lines if ln.rule == "credit"}
    for oid, (number, why) in sorted(plan.holds.items(), key=lambda kv: kv[1][0]):
        ln = first.get(oid)
        order = session.get(SalesOrder, uuid.UUID(oid))
        if ln is None or order is None or not own.owns(branch_of.get(ln.warehouse_id)):
            continue
        if order.status not in ALLOCATABLE or (verify and order.hlc != ln.order_hlc):
            failures.append(Failure(number, 0, "", CHANGED_ELSEWHERE))
            continue
        out.append((order, why))
    return out


def _verify(session: Session, plan: Plan, lines: list[LinePlan], failures: list[Failure],
            marks: tuple[int, int]) -> list[LinePlan]:
    line_ids = [ln.line_id for ln in lines]
    order_ids = sorted({ln.order_id for ln in lines})
    now_line = {str(i): (int(h), int(q)) for i, h, q in _chunked(
        session, "SELECT id, hlc, qty_allocated FROM sales_order_line WHERE id IN ({keys})", line_ids)}
    now_order = {str(i): int(h) for i, h in _chunked(session, "SELECT id, hlc FROM sales_order WHERE id IN ({keys})",
                                                     order_ids)}
    move_mark, alloc_mark = marks
    moved = {(str(w), str(i)) for w, i in _rows(
        session, "SELECT DISTINCT l.warehouse_id, m.item_id FROM stock_move m JOIN location l "
        "ON l.id IN (m.from_location_id, m.to_location_id) WHERE m.rowid > ?", (move_mark,))}
    moved |= {(str(w), str(i)) for w, i in _rows(
        session, "SELECT DISTINCT warehouse_id, item_id FROM allocation WHERE rowid > ?", (alloc_mark,))}
    ok: list[LinePlan] = []
    for ln in lines:
        got = now_line.get(ln.line_id)
        if got is None or got[0] != ln.line_hlc or got[1] != ln.current or now_order.get(ln.order_id) != ln.order_hlc:
            failures.append(Failure(ln.order_number, ln.line_no, ln.sku, CHANGED_ELSEWHERE))
        elif (ln.warehouse_id, ln.item_id) in moved and any(d > 0 for _k, d in ln.lot_deltas()):
            failures.append(Failure(ln.order_number, ln.line_no, ln.sku,
                                    f"stock of {ln.sku} moved while the run computed: not taken, run again"))
        else:
            ok.append(ln)
    return ok


def _settle_orders(session: Session, actor: Actor | None, order_ids: set[str],
                   run_number: str) -> tuple[list[tuple[uuid.UUID, str]], list[tuple[uuid.UUID, str]]]:
    """Move each touched order to what its lines now say: every open line reserved in full ->
    allocated, something short -> backordered (orders being picked or on hold are left alone)."""
    if not order_ids:
        return [], []
    sums = _chunked(session, "SELECT l.order_id, SUM(CASE WHEN l.status = 'open' THEN "
                    "MAX(l.qty_ordered - l.qty_shipped - l.qty_allocated, 0) ELSE 0 END), "
                    "SUM(CASE WHEN l.status = 'open' THEN 1 ELSE 0 END) FROM sales_order_line l "
                    "WHERE l.deleted_at IS NULL AND l.order_id IN ({keys}) GROUP BY l.order_id", sorted(order_ids))
    want = {str(oid): ("allocated" if int(short) == 0 else "backordered") for oid, short, n_open in sums if n_open}
    now = {str(i): st for i, st in _chunked(session, "SELECT id, status FROM sales_order WHERE id IN ({keys})",
                                             sorted(want))}
    ids = [uuid.UUID(o) for o, new in want.items() if now.get(o) != new and now.get(o) in ALLOCATABLE]
    orders: list[SalesOrder] = []
    for i in range(0, len(ids), 500):
        orders.extend(session.scalars(select(SalesOrder).where(SalesOrder.id.in_(ids[i:i + 500]),
                                                               SalesOrder.status.in_(ALLOCATABLE))))
    allocated: list[tuple[uuid.UUID, str]] = []
    backordered: list[tuple[uuid.UUID, str]] = []
    for o in sorted(orders, key=lambda o: o.number):
        new = want[o.id.hex]
        if o.status == new:
            continue
        transition(o, new, actor, run=run_number)
        (allocated if new == "allocated" else backordered).append((o.id, o.number))
    session.flush()
    return allocated, backordered
