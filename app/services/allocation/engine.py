"""The allocation computation: who gets how many units of each item, vectorised with numpy.

Shape of the problem: per (warehouse, item) a pool of pickable units and a queue of demand
*slices* ranked by the policy. A line is one slice; when the policy keeps existing allocations a
line is two: what it already holds (ranked ahead of all new demand, so it is only cut when the
stock itself went away) and what it still wants. Served in rank order, a slice gets
``clip(pool - demand ranked before it, 0, its demand)``: one cumulative sum per item, no loop.

* **fair share**: slices equal on the keys before ``fair_share`` form a group; the one group per
  item that the pool runs out in is split pro rata (floor, then the leftover units one by one to
  the largest fractions, best rank first). Without the key every slice is its own group.
* **ship complete**: an order of a ship-complete customer that would be short on any line gets
  nothing; its units go to the lines behind it. This is a fixed point: drop the short orders,
  recompute, repeat (a few rounds). Afterwards each dropped order, best first, takes the
  leftovers if they cover all of it.

Everything here is pure: arrays in, arrays out; ``plan`` turns the result into lots, reasons
and the difference against the current allocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.services.allocation.policy import Policy
from app.services.allocation.snapshot import TIER_RANK, Line

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_NO_DATE = 10**7
MAX_ROUNDS = 50


def _ordinal(iso: str | None, cache: dict[str | None, int]) -> int:
    got = cache.get(iso)
    if got is None:
        got = dt.date.fromisoformat(iso[:10]).toordinal() if iso else _NO_DATE
        cache[iso] = got
    return got


@dataclass
class Ranked:
    """The candidate lines (rankable, with something to allocate) as arrays, and their slices in
    rank order."""

    lines: list[Line]
    #: per line: its (warehouse, item) key index, its order index, need, what it holds now
    key: Ints
    order: Ints
    need: Ints
    current: Ints
    #: per policy key: the column it sorts by (ascending), per line
    columns: dict[str, Ints]
    #: slices in rank order: their line, class (0 kept, 1 new), demand, group id, key
    s_line: Ints
    s_class: Ints
    s_demand: Ints
    s_group: Ints
    s_key: Ints
    group_start: Ints
    #: per line: its position in its key's queue (1-based, by its first slice) and queue length
    rank: Ints
    queue: Ints


def key_columns(lines: Sequence[Line], policy: Policy, margins: dict[str, int]) -> dict[str, Ints]:
    """One ascending sort column per policy key (and the tie-breaks), per line."""
    dates: dict[str | None, int] = {}
    n = len(lines)
    cols: dict[str, Ints] = {}
    for k in policy.keys:
        if k == "rush":
            cols[k] = np.fromiter((0 if ln.rush else 1 for ln in lines), np.int64, n)
        elif k == "tier":
            cols[k] = np.fromiter((TIER_RANK.get(ln.tier, 9) for ln in lines), np.int64, n)
        elif k == "requested_date":
            cols[k] = np.fromiter((_ordinal(ln.requested_date, dates) for ln in lines), np.int64, n)
        elif k == "order_date":
            cols[k] = np.fromiter((_ordinal(ln.order_date, dates) for ln in lines), np.int64, n)
        elif k == "margin":
            cols[k] = np.fromiter((margins.get(ln.item_id, 0) - ln.unit_price for ln in lines), np.int64, n)
    numbers = sorted({ln.order_number for ln in lines})
    pos = {num: i for i, num in enumerate(numbers)}
    cols["_order_date"] = np.fromiter((_ordinal(ln.order_date, dates) for ln in lines), np.int64, n)
    cols["_number"] = np.fromiter((pos[ln.order_number] for ln in lines), np.int64, n)
    cols["_line"] = np.fromiter((ln.line_no for ln in lines), np.int64, n)
    return cols


def rank(lines: list[Line], key: Ints, order: Ints, need: Ints, current: Ints, policy: Policy,
         margins: dict[str, int]) -> Ranked:
    cols = key_columns(lines, policy, margins)
    n = len(lines)
    idx = np.arange(n, dtype=np.int64)
    if policy.rerank:
        s_line, s_class, s_demand = idx, np.ones(n, np.int64), need.copy()
    else:
        kept = np.minimum(current, need)
        s_line = np.concatenate([idx, idx])
        s_class = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
        s_demand = np.concatenate([kept, need - kept])
    live = s_demand > 0
    s_line, s_class, s_demand = s_line[live], s_class[live], s_demand[live]
    policy_cols = [cols[k] for k in policy.keys if k in cols]
    tie = [cols["_order_date"], cols["_number"], cols["_line"]]
    sort_keys = [c[s_line] for c in reversed(tie)] + [c[s_line] for c in reversed(policy_cols)] \
        + [s_class, key[s_line]]
    perm = np.lexsort(sort_keys) if len(s_line) else np.zeros(0, np.int64)
    s_line, s_class, s_demand = s_line[perm], s_class[perm], s_demand[perm]
    s_key = key[s_line]
    # fair-share groups: equal key, class and every policy column before 'fair_share'
    if "fair_share" in policy.keys and len(s_line):
        before = policy.keys[:policy.keys.index("fair_share")]
        group_cols = [s_key, s_class] + [cols[k][s_line] for k in before if k in cols]
        change = np.zeros(len(s_line), bool)
        change[0] = True
        for c in group_cols:
            change[1:] |= c[1:] != c[:-1]
        s_group = np.cumsum(change) - 1
        group_start = np.flatnonzero(change)
    else:
        s_group = np.arange(len(s_line), dtype=np.int64)
        group_start = s_group.copy()
    # each line's place in its key's queue (by its first slice), and the queue's length
    rank_of = np.zeros(n, np.int64)
    queue_of = np.zeros(n, np.int64)
    if len(s_line):
        first = np.full(n, -1, np.int64)
        seen = np.zeros(n, bool)
        order_lines: list[int] = []
        for i in s_line.tolist():  # first occurrence order (kept slice, then new)
            if not seen[i]:
                seen[i] = True
                order_lines.append(i)
        ol = np.asarray(order_lines, np.int64)
        first[ol] = np.arange(len(ol))
        keys_in_order = key[ol]
        key_change = np.ones(len(ol), bool)
        key_change[1:] = keys_in_order[1:] != keys_in_order[:-1]
        start_pos = np.maximum.accumulate(np.where(key_change, np.arange(len(ol)), 0))
        rank_of[ol] = np.arange(len(ol)) - start_pos + 1
        counts = np.bincount(keys_in_order, minlength=int(key.max()) + 1 if n else 0)
        queue_of[ol] = counts[keys_in_order]
    return Ranked(lines, key, order, need, current, cols, s_line, s_class, s_demand, s_group, s_key,
                  group_start, rank_of, queue_of)


def serve(r: Ranked, pool: Ints, demand: Ints) -> tuple[Ints, Bools]:
    """Hand ``pool`` (per key) to the slices in rank order; returns units per slice and which
    slices were cut by a fair-share split."""
    n = len(demand)
    alloc = np.zeros(n, np.int64)
    split = np.zeros(n, bool)
    if n == 0:
        return alloc, split
    starts = r.group_start
    g_demand = np.add.reduceat(demand, starts)
    g_key = r.s_key[starts]
    cum = np.cumsum(g_demand)
    before = cum - g_demand
    k_change = np.ones(len(starts), bool)
    k_change[1:] = g_key[1:] != g_key[:-1]
    # the running total restarts at each key: subtract 'before' of the key's first group
    first_idx = np.maximum.accumulate(np.where(k_change, np.arange(len(starts)), 0))
    key_base = before[first_idx]
    before_in_key = before - key_base
    g_alloc = np.clip(pool[g_key] - before_in_key, 0, g_demand)
    sizes = np.diff(np.append(starts, n))
    full = np.repeat(g_alloc == g_demand, sizes)
    alloc[full] = demand[full]
    straddle = (g_alloc > 0) & (g_alloc < g_demand)
    single = straddle & (sizes == 1)  # a group of one (no fair share): it simply gets what is left
    alloc[starts[single]] = g_alloc[single]
    for g in np.flatnonzero(straddle & (sizes > 1)).tolist():
        a, b = int(starts[g]), int(starts[g] + sizes[g])
        share = _pro_rata(int(g_alloc[g]), demand[a:b])
        alloc[a:b] = share
        if b - a > 1:
            split[a:b] = True
    return alloc, split


def _pro_rata(units: int, wants: Ints) -> Ints:
    """Split ``units`` over ``wants`` in proportion: floors, then one unit each to the largest
    remainders (earlier rank first on ties). Exact integers."""
    total = int(wants.sum())
    if total <= 0:
        return np.zeros(len(wants), np.int64)
    w = [int(x) for x in wants]
    share = [units * x // total for x in w]
    rest = units - sum(share)
    remainders = sorted(range(len(w)), key=lambda i: (-(units * w[i] % total), i))
    for i in remainders:
        if rest <= 0:
            break
        if share[i] < w[i]:
            share[i] += 1
            rest -= 1
    return np.asarray(share, np.int64)


@dataclass
class Outcome:
    #: units per slice (rank order) and per line
    slice_alloc: Ints
    line_alloc: Ints
    split: Bools
    #: orders (by index) a ship-complete rule kept out, and those taken back in from leftovers
    dropped: frozenset[int]
    readmitted: frozenset[int]
    rounds: int
    #: per dropped order: its lines that were short when it was dropped (the reason it was)
    short_lines: dict[int, list[int]]


def allocate(r: Ranked, pool: Ints, ship_complete: Bools) -> Outcome:
    """Serve the queue, then enforce ship-complete orders (see the module docstring)."""
    n_lines = len(r.lines)
    s_order = r.order[r.s_line]
    dropped = np.zeros(len(ship_complete), bool)
    short_lines: dict[int, list[int]] = {}
    rounds = 0
    while True:
        rounds += 1
        demand = np.where(dropped[s_order], 0, r.s_demand)
        alloc, split = serve(r, pool, demand)
        line_alloc = np.zeros(n_lines, np.int64)
        np.add.at(line_alloc, r.s_line, alloc)
        short = line_alloc < r.need
        short_orders = np.zeros(len(ship_complete), bool)
        short_orders[r.order[short]] = True
        new = short_orders & ship_complete & ~dropped
        if not new.any() or rounds >= MAX_ROUNDS:
            break
        for i in np.flatnonzero(short & new[r.order]).tolist():
            short_lines.setdefault(int(r.order[i]), []).append(i)
        dropped |= new
    readmitted: set[int] = set()
    if dropped.any():
        used = np.zeros(len(pool), np.int64)
        np.add.at(used, r.s_key, alloc)
        left = pool - used
        # best first: by the rank position of each dropped order's first slice
        first_pos: dict[int, int] = {}
        for pos, o in enumerate(s_order.tolist()):
            if dropped[o] and o not in first_pos:
                first_pos[o] = pos
        for o in sorted(first_pos, key=first_pos.__getitem__):
            mine = np.flatnonzero(s_order == o)
            wants = np.zeros(len(pool), np.int64)
            np.add.at(wants, r.s_key[mine], r.s_demand[mine])
            if (left >= wants).all():
                left -= wants
                alloc[mine] = r.s_demand[mine]
                readmitted.add(o)
        line_alloc = np.zeros(n_lines, np.int64)
        np.add.at(line_alloc, r.s_line, alloc)
    gone = frozenset(int(o) for o in np.flatnonzero(dropped)) - readmitted
    return Outcome(alloc, line_alloc, split, gone, frozenset(readmitted), rounds, short_lines)
