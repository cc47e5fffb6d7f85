"""From a snapshot and a policy to a plan: every line's new reservation by lot, the rule and rank
that decided it, in words, and the difference against what it holds now. Writes nothing: the
simulation is this plan shown; a run is this plan applied (``apply``).

Lots are handed out first-expiry-first-out (lots without a date last), each line keeping the lots
it already holds where it keeps units, so a re-run does not shuffle lots for nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.services.allocation import engine
from app.services.allocation.policy import KEYS, Policy
from app.services.allocation.snapshot import ALLOCATABLE, Line, Snapshot

_NO_EXPIRY = "9999-12-31"
_KEY_WORDS = {"rush": "rush", "tier": "tier", "requested_date": "requested date", "order_date": "order date",
              "margin": "margin", "fair_share": "fair share"}


@dataclass
class LinePlan:
    line_id: str
    order_id: str
    order_number: str
    line_no: int
    customer: str
    item_id: str
    sku: str
    warehouse_id: str
    warehouse: str
    ordered: int
    shipped: int
    need: int
    current: int
    target: int
    current_lots: dict[str, int]
    target_lots: dict[str, int]
    rule: str
    rank: int
    queue: int
    reason: str
    line_hlc: int
    order_hlc: int
    order_status: str

    @property
    def delta(self) -> int:
        return self.target - self.current

    def lot_deltas(self) -> list[tuple[str, int]]:
        """(lot key, signed units) where the reservation changes; '' = no lot. Computed once."""
        got: list[tuple[str, int]] | None = self.__dict__.get("_deltas")
        if got is None:
            if not self.current_lots:
                got = [(k, d) for k, d in sorted(self.target_lots.items()) if d]
            else:
                keys = sorted(set(self.current_lots) | set(self.target_lots))
                got = [(k, d) for k in keys if (d := self.target_lots.get(k, 0) - self.current_lots.get(k, 0))]
            self.__dict__["_deltas"] = got
        return got

    @property
    def changed(self) -> bool:
        return bool(self.lot_deltas())

    @property
    def short(self) -> int:
        return max(0, self.need - self.target)

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order_number, "line": self.line_no, "customer": self.customer, "sku": self.sku,
                "warehouse": self.warehouse, "need": self.need, "current": self.current, "proposed": self.target,
                "change": self.delta, "short": self.short, "rule": self.rule, "rank": self.rank, "of": self.queue,
                "reason": self.reason,
                "lots": {k or "-": v for k, v in self.target_lots.items()} if any(self.target_lots) else {}}


@dataclass
class Plan:
    policy: Policy
    today: dt.date
    warehouse_ids: list[str]
    item_scope: frozenset[str] | None
    lines: list[LinePlan]
    #: order id -> (number, status now, status after the plan) where it changes
    order_status: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    frozen_lines: int = 0
    seconds: float = 0.0
    rounds: int = 0
    #: the snapshot's ledger marks (see ``snapshot.Snapshot``), for ``apply``'s check
    move_mark: int = 0
    alloc_mark: int = 0
    #: warehouse id -> the policy its lines were ranked by (several warehouses in one plan)
    policies: dict[str, Policy] = field(default_factory=dict)
    #: orders credit control stops at release: order id -> (number, reason)
    holds: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changes(self) -> list[LinePlan]:
        return [ln for ln in self.lines if ln.changed]

    def figures(self) -> dict[str, int]:
        ups = sum(d for ln in self.lines for _k, d in ln.lot_deltas() if d > 0)
        downs = -sum(d for ln in self.lines for _k, d in ln.lot_deltas() if d < 0)
        return {"lines": len(self.lines), "changed": len(self.changes), "units_allocated": ups,
                "units_released": downs, "short_lines": sum(1 for ln in self.lines if ln.short),
                "covered_lines": sum(1 for ln in self.lines if ln.need and not ln.short),
                "orders_changing_status": len(self.order_status), "frozen_lines": self.frozen_lines}


def build(snap: Snapshot, policy: Policy, holds: dict[str, str] | None = None) -> Plan:
    """Compute the plan for ``snap`` under ``policy`` (pure; see the module docstring). ``holds``:
    orders credit control stops at release (order id -> reason): they get nothing."""
    holds = holds or {}
    started = time.perf_counter()
    keys: dict[tuple[str, str], int] = {}
    for ln in snap.lines:
        keys.setdefault((ln.warehouse_id, ln.item_id), len(keys))
    # lot pools after what frozen lines (being picked) hold
    lot_pool: list[dict[str, int]] = [dict(snap.stock.get(k, {})) for k in keys]
    frozen = 0
    for ln in snap.lines:
        if ln.frozen:
            frozen += 1
            pool = lot_pool[keys[(ln.warehouse_id, ln.item_id)]]
            for lot, q in snap.current.get(ln.id, {}).items():
                pool[lot] = pool.get(lot, 0) - q
    totals = np.fromiter((max(0, sum(q for q in p.values() if q > 0)) for p in lot_pool), np.int64, len(keys))
    cands = [ln for ln in snap.lines if ln.rankable and (ln.need or ln.qty_allocated) and ln.order_id not in holds]
    releasing = [ln for ln in snap.lines if not ln.rankable and not ln.frozen and ln.qty_allocated]
    stopped = [ln for ln in snap.lines if ln.rankable and ln.order_id in holds]
    orders: dict[str, int] = {}
    for ln in cands:
        orders.setdefault(ln.order_id, len(orders))
    n = len(cands)
    key = np.fromiter((keys[(ln.warehouse_id, ln.item_id)] for ln in cands), np.int64, n)
    order = np.fromiter((orders[ln.order_id] for ln in cands), np.int64, n)
    need = np.fromiter((ln.need for ln in cands), np.int64, n)
    current = np.fromiter((ln.qty_allocated for ln in cands), np.int64, n)
    ship_complete = np.zeros(len(orders), bool)
    for ln in cands:
        if ln.ship_complete:
            ship_complete[orders[ln.order_id]] = True
    margins = {i: c for i, (_s, c) in snap.items.items()} if "margin" in policy.keys else {}
    ranked = engine.rank(cands, key, order, need, current, policy, margins)
    out = engine.allocate(ranked, totals, ship_complete)
    target = out.line_alloc
    # lots, in serving order (the order of first slices)
    serving: list[int] = []
    seen: set[int] = set()
    for i in ranked.s_line.tolist():
        if i not in seen:
            seen.add(i)
            serving.append(i)
    serving += [i for i in range(n) if i not in seen]
    target_lots = _lots(snap, cands, serving, target, key, lot_pool)
    split_lines = set(ranked.s_line[out.split].tolist())
    texts = _Reasons(snap, policy, cands, ranked, out, key, split_lines)
    lines: list[LinePlan] = []
    for i, ln in enumerate(cands):
        rule, reason = texts.of(i, int(target[i]))
        lines.append(_line_plan(snap, ln, int(target[i]), target_lots[i], rule, int(ranked.rank[i]),
                                int(ranked.queue[i]), reason))
    for ln in releasing:
        why = ("order cancelled" if ln.order_status == "cancelled" else "line cancelled" if ln.line_status == "cancelled"
               else "order on credit hold" if ln.order_status == "credit_hold" else f"order is {ln.order_status}")
        lines.append(_line_plan(snap, ln, 0, {}, "release", 0, 0, f"{why}: reservation given back"))
    for ln in stopped:
        lines.append(_line_plan(snap, ln, 0, {}, "credit", 0, 0, f"credit hold at release: {holds[ln.order_id]}"))
    plan = Plan(policy, snap.today, snap.warehouse_ids, snap.item_scope, lines, frozen_lines=frozen,
                rounds=out.rounds, move_mark=snap.move_mark, alloc_mark=snap.alloc_mark,
                holds={ln.order_id: (ln.order_number, holds[ln.order_id]) for ln in stopped})
    if snap.item_scope is None:
        plan.order_status = _statuses(lines)
    plan.seconds = time.perf_counter() - started
    return plan


def _line_plan(snap: Snapshot, ln: Line, target: int, lots: dict[str, int], rule: str, rank: int, queue: int,
               reason: str) -> LinePlan:
    sku = snap.items.get(ln.item_id, (ln.item_id[:8], 0))[0]
    return LinePlan(ln.id, ln.order_id, ln.order_number, ln.line_no, snap.customers.get(ln.customer_id, ""), ln.item_id,
                    sku, ln.warehouse_id, snap.warehouses.get(ln.warehouse_id, ""), ln.qty_ordered, ln.qty_shipped,
                    ln.need if ln.rankable else 0, ln.qty_allocated, target,
                    dict(snap.current.get(ln.id, {})), lots, rule, rank, queue, reason, ln.line_hlc, ln.order_hlc,
                    ln.order_status)


def _lots(snap: Snapshot, cands: list[Line], serving: list[int], target: Any, key: Any,
          lot_pool: list[dict[str, int]]) -> list[dict[str, int]]:
    """Each line's target split by lot: lots it holds first, then first-expiry-first-out."""
    out: list[dict[str, int]] = [{} for _ in cands]
    fefo: dict[int, list[str]] = {}
    for i in serving:
        t = int(target[i])
        if t <= 0:
            continue
        k = int(key[i])
        pool = lot_pool[k]
        if len(pool) <= 1 and "" in pool or not pool:
            out[i] = {"": t}  # no lots: nothing to choose
            if pool:
                pool[""] -= t
            continue
        got = out[i]
        for lot, q in sorted(snap.current.get(cands[i].id, {}).items()):
            take = min(q, t, max(0, pool.get(lot, 0)))
            if take > 0:
                got[lot] = got.get(lot, 0) + take
                pool[lot] -= take
                t -= take
        if t > 0:
            order = fefo.get(k)
            if order is None:
                order = sorted(pool, key=lambda lot: (snap.expiry.get(lot) or _NO_EXPIRY if lot else _NO_EXPIRY,
                                                      lot == "", lot))
                fefo[k] = order
            for lot in order:
                take = min(t, max(0, pool[lot]))
                if take > 0:
                    got[lot] = got.get(lot, 0) + take
                    pool[lot] -= take
                    t -= take
                if t == 0:
                    break
        if t > 0:  # the total said there was stock: keep the units lot-less rather than lose them
            got[""] = got.get("", 0) + t
    return out


def _statuses(lines: Iterable[LinePlan]) -> dict[str, tuple[str, str, str]]:
    by_order: dict[str, list[LinePlan]] = {}
    for ln in lines:
        if ln.order_status in ALLOCATABLE and ln.rule != "credit":
            by_order.setdefault(ln.order_id, []).append(ln)
    out: dict[str, tuple[str, str, str]] = {}
    for oid, lns in by_order.items():
        wanted = [ln for ln in lns if ln.need]
        if not wanted:
            continue
        new = "allocated" if all(ln.target >= ln.need for ln in wanted) else "backordered"
        old = lns[0].order_status
        if new != old:
            out[oid] = (lns[0].order_number, old, new)
    return out


class _Reasons:
    """The rule that decided each line and the sentence a dispatcher reads."""

    def __init__(self, snap: Snapshot, policy: Policy, cands: list[Line], r: engine.Ranked, out: engine.Outcome,
                 key: Any, split_lines: set[int]) -> None:
        self.snap, self.policy, self.cands, self.r, self.out, self.key = snap, policy, cands, r, out, key
        self.split = split_lines
        # per key: its lines in queue order, and whether anything was served at all
        self.queue: dict[int, list[int]] = {}
        for i in sorted(range(len(cands)), key=lambda i: (int(key[i]), int(r.rank[i]))):
            self.queue.setdefault(int(key[i]), []).append(i)
        self.served = {k for k, lines in self.queue.items() if any(out.line_alloc[i] > 0 for i in lines)}

    def _values(self, i: int) -> list[tuple[str, str]]:
        ln = self.cands[i]
        vals: list[tuple[str, str]] = []
        for k in self.policy.keys:
            if k == "rush":
                vals.append((k, "rush" if ln.rush else "not rush"))
            elif k == "tier":
                vals.append((k, ln.tier or "no tier"))
            elif k == "requested_date":
                vals.append((k, ln.requested_date or "no date"))
            elif k == "order_date":
                vals.append((k, ln.order_date))
            elif k == "margin":
                vals.append((k, f"{int(self.r.columns['margin'][i]) * -1 / 10000:.2f}/unit"))
        return vals

    def of(self, i: int, target: int) -> tuple[str, str]:
        ln, r = self.cands[i], self.r
        rank, queue = int(r.rank[i]), int(r.queue[i])
        where = f"rank {rank} of {queue}"
        need = ln.need
        if int(self.r.order[i]) in self.out.dropped:
            shorts = [self.snap.items.get(self.cands[j].item_id, (self.cands[j].item_id[:8], 0))[0]
                      for j in self.out.short_lines.get(int(self.r.order[i]), [])][:3]
            return "ship_complete", f"ship complete: nothing reserved while {', '.join(shorts) or 'a line'} is short"
        if int(self.r.order[i]) in self.out.readmitted:
            return "ship_complete", f"{where}: covered from what was left (ship complete, all lines)"
        if target >= need:
            if not self.policy.rerank and ln.qty_allocated >= need:
                return "kept", f"{where}: kept (already allocated)"
            return "covered", f"{where}: covered"
        k = int(self.key[i])
        if i in self.split:
            before = self.policy.keys[:self.policy.keys.index("fair_share")] if "fair_share" in self.policy.keys else ()
            equal = ", ".join(_KEY_WORDS[x] for x in before) or "every key"
            return "fair_share", f"{where}: fair share {target} of {need} (shared pro rata among lines equal on {equal})"
        got = f"{target} of {need}" if target else f"nothing of {need}"
        if target and not self.policy.rerank and ln.qty_allocated and target <= ln.qty_allocated:
            return "stock", f"{where}: {got}; stock went down, so less is kept"
        q = self.queue[k]
        pos = q.index(i)
        if k not in self.served or pos == 0:
            return "no_stock", f"{where}: {got}; no more pickable stock" if target else "no pickable stock"
        ahead = q[pos - 1]
        if not self.policy.rerank and self.cands[ahead].qty_allocated and not ln.qty_allocated:
            return "kept", f"{where}: {got}; {self.cands[ahead].order_number} holds it already (allocations are kept)"
        rule, why = "order_date", "first come, first served"
        for (name, a), (_n, b) in zip(self._values(i), self._values(ahead), strict=True):
            if a != b:
                rule, why = name, f"{_KEY_WORDS[name]} {b} goes before {a}"
                break
        return rule, f"{where}: {got}; behind {self.cands[ahead].order_number} ({why})"


def merge(plans: list[Plan]) -> Plan:
    """One plan of several warehouses' plans (each built under its own warehouse's policy)."""
    if len(plans) == 1:
        return plans[0]
    first = plans[0]
    out = Plan(first.policy, first.today, [w for p in plans for w in p.warehouse_ids], first.item_scope,
               [ln for p in plans for ln in p.lines], {k: v for p in plans for k, v in p.order_status.items()},
               sum(p.frozen_lines for p in plans), sum(p.seconds for p in plans), max(p.rounds for p in plans),
               min(p.move_mark for p in plans), min(p.alloc_mark for p in plans))
    out.policies = {w: p.policy for p in plans for w in p.warehouse_ids}
    out.holds = {k: v for p in plans for k, v in p.holds.items()}
    return out


def describe_keys(policy: Policy) -> list[str]:
    return [f"{k}: {KEYS[k]}" for k in policy.keys]
