"""The ways an allocation run starts: a simulation (writes nothing), a run (the dispatcher's, or
``depot allocate``), and the incremental re-allocations follow-ups make after stock arrived or an
order gave stock back.

A dispatcher's run is two steps on purpose: ``simulate`` reads a snapshot and computes the plan
(in a read transaction: nobody waits for it), ``run`` writes it in a short write transaction and
fails any line that changed in between (``apply``). ``depot allocate`` does the same two steps.
A follow-up computes and writes inside the transaction that changed the stock (nothing can slip
in between), keeping every existing allocation and handing out only what is free.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Warehouse
from app.services.allocation import plan as planner
from app.services.allocation import snapshot
from app.services.allocation.apply import RunResult, apply_plan
from app.services.allocation.policy import Policy, parse_keys, policy_for
from app.services.auth import Actor
from app.services.errors import NotFound
from app.services.ownership import ownership
from app.services.sales import credit


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """A run makes ~100,000 short-lived objects and no cycles worth collecting: the cyclic collector
    would walk the whole heap again and again (a third of a 20,000-line run). Back on afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def scope(session: Session, warehouse: str | uuid.UUID | None = None) -> list[Warehouse]:
    """The warehouses a run covers: the one named, else every warehouse this site allocates (its
    branch's on a replicating site; all on a standalone file)."""
    if warehouse is not None:
        if isinstance(warehouse, uuid.UUID):
            wh = session.get(Warehouse, warehouse)
        else:
            wh = session.scalar(select(Warehouse).where(Warehouse.code == str(warehouse).strip().upper()))
        if wh is None or wh.deleted_at is not None:
            raise NotFound("warehouse", warehouse)
        return [wh]
    own = ownership(session)
    rows = list(session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)).order_by(Warehouse.code)))
    return [w for w in rows if own.owns(w.branch_id)]


def _policy(session: Session, wh: Warehouse, keys: str | Iterable[str] | None, rerank: bool | None) -> Policy:
    base = policy_for(session, wh.id)
    return Policy(parse_keys(keys) if keys is not None else base.keys, base.rerank if rerank is None else rerank)


def credit_at_release(session: Session, snap: snapshot.Snapshot) -> dict[str, str]:
    """Orders about to get their first units whose customer credit control now stops (went over
    the limit or overdue since entry): order id -> reason. Orders a person released are not asked."""
    holding: set[str] = set()
    first: dict[str, tuple[str, Any]] = {}
    for ln in snap.lines:
        if ln.qty_allocated:
            holding.add(ln.order_id)
        elif ln.rankable and not ln.credit_released:
            first.setdefault(ln.order_id, (ln.customer_id, ln))
    asked = [(uuid.UUID(o), uuid.UUID(c), Decimal(0)) for o, (c, _ln) in first.items() if o not in holding]
    found = credit.blocked(session, asked, today=snap.today)
    return {o.hex: why for o, why in found.items()}


def simulate(session: Session, actor: Actor, *, warehouse: str | uuid.UUID | None = None,
             keys: str | Iterable[str] | None = None, rerank: bool | None = None,
             today: dt.date | None = None, progress: Callable[[int, int, str], object] | None = None) -> planner.Plan:
    """Who would get what under the warehouse's policy (or ``keys``/``rerank`` to try another),
    line by line with the rule and rank, against what each line holds now. Writes nothing."""
    actor.require("order.allocate")
    plans = []
    whs = scope(session, warehouse)
    report = progress or (lambda _d, _t, _s: None)
    with quiet_gc():
        for n, wh in enumerate(whs):
            report(2 * n, 2 * len(whs), f"reading {wh.code}")
            snap = snapshot.load(session, [wh.id], today=today)
            report(2 * n + 1, 2 * len(whs), f"ranking {len(snap.lines):,} lines of {wh.code}")
            plans.append(planner.build(snap, _policy(session, wh, keys, rerank), credit_at_release(session, snap)))
        report(2 * len(whs), 2 * len(whs), "done")
    if not plans:
        return planner.Plan(Policy(), today or dt.date.today(), [], None, [])
    return planner.merge(plans)


def run(session: Session, actor: Actor, plan: planner.Plan, *, trigger: str = "") -> RunResult:
    """Write a simulated plan (the Accept button, ``depot allocate``); lines that changed since
    the plan was computed are failed with the reason, not overwritten."""
    actor.require("order.allocate")
    with quiet_gc():
        return apply_plan(session, actor, plan, kind="run",
                          trigger=trigger or f"{actor.username}: {plan.policy.describe()}")


def reallocate(session: Session, actor: Actor | None, warehouse_id: uuid.UUID, *, items: Iterable[Any] | None = None,
               orders: Iterable[Any] | None = None, kind: str = "arrival", trigger: str = "",
               today: dt.date | None = None) -> RunResult:
    """Hand out what is free in ``warehouse_id`` for ``items`` (or the items of ``orders``) to the
    lines waiting for them, keeping every existing allocation, and take back what lines that no
    longer want stock hold. Inside the caller's transaction (a follow-up: no check needed)."""
    wh = session.get(Warehouse, warehouse_id) if warehouse_id is not None else None
    if wh is None or not ownership(session).owns(wh.branch_id):
        return RunResult([], kind, 0, 0, 0, 0)
    snap = snapshot.load(session, [wh.id], items=items, orders=orders, today=today)
    if not snap.lines:
        return RunResult([], kind, 0, 0, 0, 0)
    policy = Policy(policy_for(session, wh.id).keys, rerank=False)
    return apply_plan(session, actor, planner.build(snap, policy, credit_at_release(session, snap)), kind=kind,
                      trigger=trigger, verify=False)
