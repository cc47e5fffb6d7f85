"""The replenishment run: bulk queries over the branch database, then array maths.

One query per figure (on hand, allocated, on order, inbound, requisitioned, demand
history), each grouped by item and warehouse in SQL, loaded into ``(items x warehouses)``
numpy arrays; the maths of ``figures`` then runs over all pairs at once and only the pairs
that need stock become ``Recommendation`` objects. This is what keeps 150,000 pairs and
2 million ledger moves within a few seconds (see bench/replenish.py).

The SQL is written for the branch SQLite file (ids are 16 bytes, read here as 32-hex keys by
``_h``; times ISO text).
Nothing is written: a run is a read; decisions and requisitions are separate calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.buying import SALES_WEEK_REBUILD_SQL, SALES_WEEK_SELECT_SQL
from app.models.org import Branch, Warehouse
from app.models.workflow import open_states
from app.services.auth import Actor
from app.services.db import has_table as _has_table
from app.services.db import raw_rows as _raw
from app.services.errors import NotFound, ValidationError
from app.services.forecast.demand import week_of
from app.services.ownership import working_branch
from app.services.replenishment import figures as fg
from app.services.replenishment.config import class_settings
from app.services.replenishment.policy_inputs import fixed_min_max, policy_why, stored_forecasts
from app.services.replenishment.sister_figures import sister_surplus
from app.services.replenishment.transfers import Option, TransferPlanner

#: expected receipts still waiting for goods
_WAITING = open_states("expected_receipt")
#: the stages of a run, as ``progress`` hears them
STAGES = ("sales history", "stock on hand", "orders and purchase orders", "transfers and requisitions",
          "demand and levels", "recommendations")
#: progress(done, total, what)
Progress = Callable[[int, int, str], None]

#: PO states whose open lines are "on order"
OPEN_PO_STATES = ("draft", "pending_approval", "rejected", "approved", "sent", "confirmed", "partially_received")
#: sales order states whose allocations still hold stock
OPEN_SO_STATES = ("open", "credit_hold", "backordered", "allocated", "picking", "packed")


#: forecast hook: (session, item ids, warehouse ids, today) -> (daily mean, daily sd), each items x warehouses
Forecast = Callable[[Session, list[uuid.UUID], list[uuid.UUID], dt.date], tuple[Any, Any]]


@dataclass(frozen=True)
class Why:
    """The figures behind one recommendation, shown in the worklist and stored on the requisition."""

    history_weeks: int
    d: float
    sigma_d: float
    lt_days: float
    sigma_lt: float
    velocity_class: str
    service_level_pct: float
    z: float
    review_days: int
    ss: float
    rop: float
    oul: float
    on_hand: int
    allocated: int
    on_order: int
    inbound: int
    requisitioned: int
    position: int
    raw_qty: int
    pack_size: int
    min_order: int
    rounding: str
    next_expected: dt.date | None = None
    #: 'history' (d and sigma_d from the weekly sales) or 'forecast' (the pair's stored demand
    #: forecast over lead time + review, its backtest RMSE as the deviation; app.services.forecast)
    demand_source: str = "history"
    forecast_method: str = ""
    forecast_class: str = ""
    forecast_weeks: int = 0
    forecast_mae: float | None = None
    forecast_note: str = ""
    #: 'forecast' (ROP/OUL from the pair's demand forecast: the default where one exists),
    #: 'computed' (ROP/OUL from the sales history, lead time and service level) or 'fixed_minmax'
    #: (the pair's order point: rop = min, oul = max, no safety stock; ordered when position < min)
    policy: str = "computed"
    #: the buyer chose the policy for this pair (a replenishment_policy row), not the default
    policy_chosen: bool = False

    @property
    def policy_label(self) -> str:
        return {"fixed_minmax": "fixed min/max", "forecast": "forecast"}.get(self.policy, "computed")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            out[k] = round(v, 4) if isinstance(v, float) else (v.isoformat() if isinstance(v, dt.date) else v)
        return out


@dataclass
class Recommendation:
    item_id: uuid.UUID
    sku: str
    description: str
    warehouse_id: uuid.UUID
    warehouse_code: str
    branch_id: uuid.UUID
    qty: int
    preferred: str  # 'purchase' | 'transfer'
    why: Why
    purchase: Option | None = None
    transfer: Option | None = None

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.item_id, self.warehouse_id)

    @property
    def chosen(self) -> Option:
        opt = self.transfer if self.preferred == "transfer" else self.purchase
        assert opt is not None
        return opt

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": str(self.item_id), "sku": self.sku, "description": self.description,
            "warehouse_id": str(self.warehouse_id), "warehouse": self.warehouse_code, "qty": self.qty,
            "preferred": self.preferred,
            "purchase": self.purchase.as_dict() if self.purchase else None,
            "transfer": self.transfer.as_dict() if self.transfer else None,
            "why": self.why.as_dict(),
        }


@dataclass
class RunResult:
    recommendations: list[Recommendation]
    pairs: int
    suppressed: int = 0
    no_supplier: int = 0
    today: dt.date = field(default_factory=dt.date.today)


@dataclass
class _Scope:
    items: list[tuple[str, str, str, str]]  # (hex id, sku, description, velocity)
    warehouses: list[tuple[str, str, str]]  # (hex id, code, branch hex id)
    targets: list[int]  # warehouse indexes recommendations are made for


@functools.lru_cache(maxsize=4096)
def _uuid(hex_id: str) -> uuid.UUID:
    """Warehouse, branch and supplier ids repeat across thousands of recommendations."""
    return uuid.UUID(hex_id)



def _resolve_scope(session: Session, actor: Actor | None, branch_code: str | None,
                   warehouse_code: str | None) -> _Scope:
    items = [(_h(a), str(b), str(c), str(d)) for a, b, c, d in _raw(session, (
        "SELECT id, sku, description, velocity_class FROM item WHERE active = 1 AND deleted_at IS NULL ORDER BY sku"))]
    whs = [(_h(a), str(b), _h(c)) for a, b, c in _raw(session, (
        "SELECT id, code, branch_id FROM warehouse WHERE deleted_at IS NULL ORDER BY code"))]
    branch_hex: str | None = None
    if branch_code:
        b = session.scalars(select(Branch).where(Branch.code == branch_code.strip().upper())).first()
        if b is None:
            raise NotFound("branch", branch_code)
        branch_hex = b.id.hex
    elif actor is not None and (home := working_branch(session, actor.branch_id)) is not None:
        b = session.get(Branch, home)
        if b is not None and not b.is_head_office:
            branch_hex = b.id.hex
    targets = [i for i, w in enumerate(whs) if branch_hex is None or w[2] == branch_hex]
    if warehouse_code:
        wh = session.scalars(select(Warehouse).where(Warehouse.code == warehouse_code.strip().upper())).first()
        if wh is None:
            raise NotFound("warehouse", warehouse_code)
        targets = [i for i in targets if whs[i][0] == wh.id.hex]
        if not targets:
            raise ValidationError("warehouse", f"{wh.code} does not belong to branch {branch_code or 'of the user'}")
    return _Scope(items, whs, targets)


def _fill(session: Session, sql: str, params: dict[str, Any], item_ix: dict[str, int], wh_ix: dict[str, int],
          shape: tuple[int, int], dtype: Any = np.int64) -> Any:
    """Run ``SELECT item_hex, warehouse_hex, value`` and scatter it into an (items x warehouses) array."""
    arr = np.zeros(shape, dtype=dtype)
    rows = _raw(session, sql, params)
    if not rows:
        return arr
    ii = np.fromiter((item_ix.get(_h(r[0]), -1) for r in rows), dtype=np.int64, count=len(rows))
    ww = np.fromiter((wh_ix.get(_h(r[1]), -1) for r in rows), dtype=np.int64, count=len(rows))
    vv = np.fromiter((r[2] or 0 for r in rows), dtype=dtype, count=len(rows))
    ok = (ii >= 0) & (ww >= 0)
    np.add.at(arr, (ii[ok], ww[ok]), vv[ok])
    return arr


def _on_hand(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int], shape: tuple[int, int]) -> Any:
    """On hand per item x warehouse over internal locations.

    One sequential scan of stock_balance (NOT INDEXED: walking its primary-key index would
    cost a table lookup per row) that leaves out the few virtual locations by id; the rows
    are summed into warehouses in numpy, which avoids a sort.
    """
    virtual = [_h(r[0]) for r in _raw(session, (
        "SELECT id FROM location WHERE kind NOT IN ('storage', 'dock', 'qa')"))]
    return _fill(session, (
        "SELECT b.item_id, l.warehouse_id, b.qty FROM stock_balance b NOT INDEXED"
        " JOIN location l ON l.id = b.location_id WHERE b.qty <> 0"
        + (f" AND b.location_id NOT IN ({_sql_in_ids(virtual)})" if virtual else "")
        + " AND l.kind IN ('storage', 'dock', 'qa')"), {}, item_ix, wh_ix, shape)


@dataclass(frozen=True)
class _Source:
    supplier_id: str
    supplier_code: str
    lead_time_days: int
    lead_time_sd: float
    pack_size: int
    min_order: int
    unit_price: Decimal
    currency: str


def _source_of(r: tuple[Any, ...]) -> _Source:
    contract, last = int(r[7] or 0), int(r[8] or 0)
    price = contract if (r[10] and contract > 0) or last == 0 else last
    return _Source(_h(r[1]), str(r[2]), int(r[3]), float(r[4] or 0) / 10_000, max(int(r[5]), 1),
                   max(int(r[6]), 1), Decimal(price) / 10_000, str(r[9]))


def _sources(session: Session) -> dict[str, tuple[Any, ...]]:
    """Best supplier row per item: preferred, then contracted, then cheapest, then by code.

    Raw rows (``_source_of`` makes the object only for items that get a recommendation).
    """
    rows = _raw(session, (
        "SELECT s.item_id, s.supplier_id, p.code, s.lead_time_days, s.lead_time_sd_days, s.pack_size,"
        " s.min_order_qty, s.contract_price, s.last_price, s.currency, s.contracted, s.preferred"
        " FROM item_supplier s JOIN supplier p ON p.id = s.supplier_id"
        " WHERE s.deleted_at IS NULL AND p.deleted_at IS NULL AND p.active = 1"
        " ORDER BY s.item_id, s.preferred DESC, s.contracted DESC, s.contract_price, p.code"))
    out: dict[str, tuple[Any, ...]] = {}
    for r in rows:
        out.setdefault(_h(r[0]), r)
    return out


def _suppressed(session: Session, today: dt.date) -> set[tuple[str, str]]:
    """Pairs whose newest decision (by HLC, any branch's) is a snooze/rejection still in force.

    Decisions are insert-only rows of whoever decided (a lift is a decision too), so the newest
    one per item x warehouse counts; the NOT EXISTS probe runs on ix_recommendation_decision_pair
    only for the few decisions still in force."""
    rows = _raw(session, (
        "SELECT d.item_id, d.warehouse_id FROM recommendation_decision d"
        " WHERE d.deleted_at IS NULL AND d.kind <> 'lift' AND d.until_date > :today"
        " AND NOT EXISTS (SELECT 1 FROM recommendation_decision n"
        "  WHERE n.item_id = d.item_id AND n.warehouse_id = d.warehouse_id AND n.deleted_at IS NULL"
        "  AND (n.hlc > d.hlc OR (n.hlc = d.hlc AND (n.hlc_site > d.hlc_site"
        "   OR (n.hlc_site = d.hlc_site AND n.id > d.id)))))"), {"today": today.isoformat()})
    return {(_h(i), _h(w)) for i, w in rows}


def _sql_in(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _sql_in_ids(hex_ids: Iterable[str]) -> str:
    """Ids (32 hex) as SQL blob literals: the columns hold 16 bytes."""
    return ", ".join(f"X'{bytes.fromhex(v).hex()}'" for v in hex_ids)


def _h(v: Any) -> str:
    """A stored id (16 bytes) as the 32-hex key the run's arrays are indexed by."""
    return v.hex() if type(v) is bytes else str(v)



@dataclass
class _Arrays:
    """Every figure of a run, each an (items x warehouses) array unless said (see ``_arrays``)."""

    d: Any
    sigma_d: Any
    demand_sum: Any
    demand_sq: Any
    on_hand: Any
    allocated: Any
    on_order: Any
    inbound: Any
    outbound: Any
    req_in: Any
    req_out: Any
    next_due: dict[tuple[str, str], dt.date]
    classes: dict[str, Any]
    vel: list[str]  # per item
    z: Any  # items x 1
    review: Any  # items x 1
    src_rows: list[Any]  # per item
    lt: Any  # items x 1
    sigma_lt: Any  # items x 1
    stored: Any
    fixed: Any
    chosen: Any
    ss: Any
    rop: Any
    oul: Any
    position: Any
    need: Any
    due: Any
    surplus: Any


def _arrays(session: Session, scope: _Scope, item_ix: dict[str, int], wh_ix: dict[str, int],
            shape: tuple[int, int], today: dt.date, history_weeks: int, forecast: Forecast | None,
            use_forecasts: bool, stage: Callable[[str], None]) -> _Arrays:
    """The bulk queries and the array maths of a run (also what a branch publishes of its own
    warehouses for its sisters: services.replenishment.sister_figures)."""
    stage("sales history")
    demand_sum, demand_sq = _history(session, today, history_weeks, item_ix, wh_ix, shape)
    stage("stock on hand")
    on_hand = _on_hand(session, item_ix, wh_ix, shape)
    stage("orders and purchase orders")
    allocated = _fill(session, (
        # qty_allocated: reserved and not yet shipped (shipping consumes it; issue 12)
        "SELECT sl.item_id, so.warehouse_id, SUM(sl.qty_allocated)"
        " FROM sales_order so CROSS JOIN sales_order_line sl ON sl.order_id = so.id"
        f" WHERE so.status IN ({_sql_in(OPEN_SO_STATES)}) AND so.deleted_at IS NULL AND sl.deleted_at IS NULL"
        " AND sl.status NOT IN ('cancelled', 'closed') GROUP BY sl.item_id, so.warehouse_id"), {}, item_ix, wh_ix, shape)
    on_order = _fill(session, (
        "SELECT pl.item_id, pl.ship_to_warehouse_id, SUM(MAX(pl.qty_ordered - pl.qty_received, 0))"
        " FROM purchase_order po CROSS JOIN purchase_order_line pl ON pl.po_id = po.id"
        f" WHERE po.status IN ({_sql_in(OPEN_PO_STATES)}) AND po.deleted_at IS NULL AND pl.deleted_at IS NULL"
        " AND pl.status NOT IN ('cancelled', 'closed', 'received') GROUP BY pl.item_id, pl.ship_to_warehouse_id"),
        {}, item_ix, wh_ix, shape)
    next_due = _next_expected(session)
    stage("transfers and requisitions")
    inbound, outbound = _transfers(session, item_ix, wh_ix, shape)
    req_in = _fill(session, (
        "SELECT item_id, warehouse_id, SUM(qty) FROM requisition WHERE status = 'open' AND deleted_at IS NULL"
        f" AND {_NOT_ON_A_DOCUMENT} GROUP BY item_id, warehouse_id"), {}, item_ix, wh_ix, shape)
    req_out = _fill(session, (
        "SELECT item_id, source_warehouse_id, SUM(qty) FROM requisition WHERE status = 'open' AND kind = 'transfer'"
        f" AND deleted_at IS NULL AND {_NOT_ON_A_DOCUMENT} GROUP BY item_id, source_warehouse_id"),
        {}, item_ix, wh_ix, shape)

    stage("demand and levels")
    classes = class_settings(session)
    sources = _sources(session)
    z_of = {k: fg.z_for(v[0]) for k, v in classes.items()}
    vel = [it[3] if it[3] in classes else "C" for it in scope.items]
    z = np.array([z_of[v] for v in vel])[:, None]
    review = np.array([classes[v][1] for v in vel], dtype=np.float64)[:, None]
    src_rows = [sources.get(it[0]) for it in scope.items]
    lt = np.array([r[3] if r else 0 for r in src_rows], dtype=np.float64)[:, None]
    sigma_lt = np.array([(r[4] or 0) / 10_000 if r else 0.0 for r in src_rows], dtype=np.float64)[:, None]

    d, sigma_d = fg.demand_from_weeks(demand_sum, demand_sq, history_weeks)
    if forecast is not None:
        fd, fs = forecast(session, [uuid.UUID(it[0]) for it in scope.items],
                          [uuid.UUID(w[0]) for w in scope.warehouses], today)
        if np.shape(fd) != shape or np.shape(fs) != shape:
            raise ValidationError("forecast", f"must give arrays of shape {shape} (items x warehouses)")
        d, sigma_d = np.asarray(fd, dtype=np.float64), np.asarray(fs, dtype=np.float64)
        stored = None
    # the buyer's policy per pair (policies.py): fixed min/max, computed from history, or forecast
    fixed, fmin, fmax, chosen = fixed_min_max(session, item_ix, wh_ix, shape)
    if forecast is None:
        stored = stored_forecasts(session, today, item_ix, wh_ix, shape, lt + review) if use_forecasts else None
        if stored is not None:
            stored.has &= chosen != "computed"  # the buyer asked for the history-based figures
            d = np.where(stored.has, stored.d, d)
            sigma_d = np.where(stored.has & ~np.isnan(stored.sigma_d), stored.sigma_d, sigma_d)
    ss, rop, oul = fg.levels(z, d, sigma_d, lt, sigma_lt, review)
    position = on_hand + on_order + inbound + req_in - allocated
    ss = np.where(fixed, 0.0, ss)
    rop = np.where(fixed, fmin, rop)
    oul = np.where(fixed, fmax, oul)
    need = np.ceil(oul - position - 1e-9)
    due = np.where(fixed, position < rop, position <= rop)

    # sister surplus: free stock above the sister's own order-up-to level
    surplus = np.floor(on_hand - allocated - outbound - req_out - np.ceil(oul)).astype(np.int64)
    return _Arrays(d=d, sigma_d=sigma_d, demand_sum=demand_sum, demand_sq=demand_sq, on_hand=on_hand,
                   allocated=allocated, on_order=on_order, inbound=inbound, outbound=outbound, req_in=req_in,
                   req_out=req_out, next_due=next_due, classes=classes, vel=vel, z=z, review=review,
                   src_rows=src_rows, lt=lt, sigma_lt=sigma_lt, stored=stored, fixed=fixed, chosen=chosen,
                   ss=ss, rop=rop, oul=oul, position=position, need=need, due=due, surplus=surplus)


def run(session: Session, actor: Actor | None, *, branch_code: str | None = None,
        warehouse_code: str | None = None, today: dt.date | None = None,
        history_weeks: int = fg.DEFAULT_HISTORY_WEEKS, forecast: Forecast | None = None,
        use_forecasts: bool = True, progress: Progress | None = None) -> RunResult:
    """Compute recommendations for every item x warehouse of the branch (read only).

    ``actor`` None is a scheduled/system run (nothing is written either way); otherwise the
    actor needs ``replenish.run``. The branch defaults to the actor's (all for head office).
    ``forecast`` (the hook for a forecast service) replaces the history-based daily demand
    and its deviation; it gets the item and warehouse ids in array order. Without it, pairs with a
    stored demand forecast (``depot forecast run``) use it unless ``use_forecasts`` is False.
    ``progress(done, total, what)`` hears each stage as it starts (the screen shows it).
    """
    def stage(what: str) -> None:
        if progress is not None:
            progress(STAGES.index(what), len(STAGES), what)

    if actor is not None:
        actor.require("replenish.run")
    if not 1 <= int(history_weeks) <= 520:
        raise ValidationError("history weeks", f"{history_weeks} must be between 1 and 520")
    today = today or dt.date.today()
    scope = _resolve_scope(session, actor, branch_code, warehouse_code)
    item_ix = {h: i for i, (h, *_rest) in enumerate(scope.items)}
    wh_ix = {h: i for i, (h, *_rest) in enumerate(scope.warehouses)}
    shape = (len(scope.items), len(scope.warehouses))
    if not shape[0] or not scope.targets:
        return RunResult([], 0, today=today)

    a = _arrays(session, scope, item_ix, wh_ix, shape, today, history_weeks, forecast, use_forecasts, stage)
    d, sigma_d, on_hand, allocated, on_order = a.d, a.sigma_d, a.on_hand, a.allocated, a.on_order
    inbound, req_in, next_due, classes, vel, z, review = a.inbound, a.req_in, a.next_due, a.classes, a.vel, a.z, a.review
    src_rows, lt, sigma_lt, stored, fixed, chosen = a.src_rows, a.lt, a.sigma_lt, a.stored, a.fixed, a.chosen
    ss, rop, oul, position, need = a.ss, a.rop, a.oul, a.position, a.need
    target_mask = np.zeros(shape[1], dtype=bool)
    target_mask[scope.targets] = True
    candidates = a.due & (need > 0) & target_mask[None, :]
    surplus = sister_surplus(session, a.surplus, scope.warehouses, item_ix)  # published, on a selective branch
    stage("recommendations")
    planner = TransferPlanner(session, scope.warehouses, surplus, today)
    suppressed = _suppressed(session, today)
    n_suppressed = n_nosup = 0
    recs: list[Recommendation] = []
    for i, w in zip(*np.nonzero(candidates), strict=True):
        i, w = int(i), int(w)
        ihex, sku, desc, _v = scope.items[i]
        whex, wcode, bhex = scope.warehouses[w]
        if (ihex, whex) in suppressed:
            n_suppressed += 1
            continue
        row = src_rows[i]
        s = _source_of(row) if row is not None else None
        raw = int(need[i, w])
        rounded = fg.round_order(raw, s.pack_size, s.min_order) if s else fg.Rounded(raw, "none (no supplier)")
        why = Why(
            history_weeks=history_weeks, d=float(d[i, w]), sigma_d=float(sigma_d[i, w]), lt_days=float(lt[i, 0]),
            sigma_lt=float(sigma_lt[i, 0]), velocity_class=vel[i], service_level_pct=float(classes[vel[i]][0]),
            z=float(z[i, 0]), review_days=int(review[i, 0]), ss=float(ss[i, w]), rop=float(rop[i, w]),
            oul=float(oul[i, w]), on_hand=int(on_hand[i, w]), allocated=int(allocated[i, w]),
            on_order=int(on_order[i, w]), inbound=int(inbound[i, w]), requisitioned=int(req_in[i, w]),
            position=int(position[i, w]), raw_qty=raw, pack_size=s.pack_size if s else 1,
            min_order=s.min_order if s else 1, rounding=rounded.note, next_expected=next_due.get((ihex, whex)),
            **(stored.why(i, w) if stored is not None and stored.has[i, w] else {}),
            **policy_why(fixed[i, w], bool(stored is not None and stored.has[i, w]), str(chosen[i, w])),
        )
        purchase = None
        if s is not None:
            purchase = Option(
                kind="purchase", qty=rounded.qty, source_id=_uuid(s.supplier_id), source_code=s.supplier_code,
                unit_cost=s.unit_price, total_cost=fg.money(s.unit_price * rounded.qty), currency=s.currency,
                days=s.lead_time_days, arrival=today + dt.timedelta(days=s.lead_time_days))
        transfer = planner.option(i, w, raw)
        if purchase is None and transfer is None:
            n_nosup += 1
            continue
        preferred = "purchase"
        if transfer is not None and (purchase is None or transfer.total_cost < purchase.total_cost
                                     or transfer.arrival < purchase.arrival):
            preferred = "transfer"
            planner.take(i, transfer)
        rec = Recommendation(
            item_id=uuid.UUID(ihex), sku=sku, description=desc, warehouse_id=_uuid(whex), warehouse_code=wcode,
            branch_id=_uuid(bhex), qty=(transfer.qty if preferred == "transfer" and transfer else rounded.qty),
            preferred=preferred, why=why, purchase=purchase, transfer=transfer)
        recs.append(rec)
    recs.sort(key=lambda r: (r.warehouse_code, r.sku))
    if progress is not None:
        progress(len(STAGES), len(STAGES), f"{len(recs):,} recommendations")
    return RunResult(recs, pairs=shape[0] * len(scope.targets), suppressed=n_suppressed, no_supplier=n_nosup,
                     today=today)


#: an open requisition another branch already put on a PO (its owner has not settled it yet) is
#: counted by that PO line (on order), not twice (requisitions.conversions_of)
_NOT_ON_A_DOCUMENT = ("NOT EXISTS (SELECT 1 FROM audit_entry a WHERE a.entity = 'requisition'"
                      " AND a.entity_id = requisition.id AND a.action = 'requisition.convert')")


def _next_expected(session: Session) -> dict[tuple[str, str], dt.date]:
    """Earliest expected date of the open PO lines per item x ship-to (shown beside on order)."""
    rows = _raw(session, (
        "SELECT pl.item_id, pl.ship_to_warehouse_id, MIN(COALESCE(pl.expected_date, po.expected_date))"
        " FROM purchase_order po CROSS JOIN purchase_order_line pl ON pl.po_id = po.id"
        f" WHERE po.status IN ({_sql_in(OPEN_PO_STATES)}) AND po.deleted_at IS NULL AND pl.deleted_at IS NULL"
        " AND pl.status NOT IN ('cancelled', 'closed', 'received') AND pl.qty_ordered > pl.qty_received"
        " GROUP BY pl.item_id, pl.ship_to_warehouse_id"))
    return {(_h(i), _h(w)): dt.date.fromisoformat(str(d)[:10]) for i, w, d in rows if d}


def _history(session: Session, today: dt.date, weeks: int, item_ix: dict[str, int], wh_ix: dict[str, int],
             shape: tuple[int, int]) -> tuple[Any, Any]:
    """Sum and sum of squares of weekly sales per item x warehouse over the ``weeks`` full
    weeks before the current one.

    Read from ``sales_week`` (one ordered pass, one row back per pair); the weekly buckets
    themselves are kept by triggers as sales are posted. Sales are moves to a warehouse's
    customer location (reversed sales are taken back) and imported sales history
    (``sales_history``, demand only: it moves no stock).
    """
    cur = week_of(today)
    if _has_table(session, "sales_week"):
        sql = ("SELECT item_id, warehouse_id, SUM(qty), SUM(qty * qty) FROM sales_week"
               " WHERE week >= :w0 AND week < :w1 GROUP BY item_id, warehouse_id")
    else:  # a database from before sales_week: the same buckets straight from the ledger (slower)
        sql = (f"SELECT item_id, warehouse_id, SUM(qty), SUM(qty * qty) FROM ({SALES_WEEK_SELECT_SQL})"
               " WHERE week >= :w0 AND week < :w1 GROUP BY item_id, warehouse_id")
    rows = _raw(session, sql, {"w0": cur - weeks, "w1": cur})
    total = np.zeros(shape, dtype=np.float64)
    total_sq = np.zeros(shape, dtype=np.float64)
    if rows:
        n = len(rows)
        ii = np.fromiter((item_ix.get(_h(r[0]), -1) for r in rows), dtype=np.int64, count=n)
        ww = np.fromiter((wh_ix.get(_h(r[1]), -1) for r in rows), dtype=np.int64, count=n)
        s1 = np.fromiter((float(r[2]) for r in rows), dtype=np.float64, count=n)
        s2 = np.fromiter((float(r[3]) for r in rows), dtype=np.float64, count=n)
        ok = (ii >= 0) & (ww >= 0)
        np.add.at(total, (ii[ok], ww[ok]), s1[ok])
        np.add.at(total_sq, (ii[ok], ww[ok]), s2[ok])
    return total, total_sq


def rebuild_sales_weeks(session: Session) -> int:
    """Recompute the weekly sales digest from the ledger; returns its row count."""
    session.execute(text("DELETE FROM sales_week"))
    session.execute(text(SALES_WEEK_REBUILD_SQL))
    return int(session.scalar(text("SELECT count(*) FROM sales_week")) or 0)


def _transfers(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int],
               shape: tuple[int, int]) -> tuple[Any, Any]:
    """(inbound, outbound-not-yet-shipped) quantities of open transfers per item x warehouse.

    Transfer orders (Inventory area) when that table exists; expected receipts with source
    'transfer' that no transfer order points at count as inbound too.
    """
    zeros = np.zeros(shape, dtype=np.int64)
    inbound = _fill(session, (
        "SELECT el.item_id, er.warehouse_id, SUM(MAX(el.qty_expected - el.qty_received, 0))"
        " FROM expected_receipt er CROSS JOIN expected_receipt_line el ON el.receipt_id = er.id"
        " WHERE er.source = 'transfer' AND er.status IN (" + ", ".join(f"'{s}'" for s in _WAITING) + ")"
        " AND er.deleted_at IS NULL AND el.deleted_at IS NULL"
        + (" AND er.id NOT IN (SELECT expected_receipt_id FROM transfer_order WHERE expected_receipt_id IS NOT NULL)"
           # the receiver's own ER of a transfer (before the sender links it) is that transfer's inbound
           " AND (er.source_doc_id IS NULL OR er.source_doc_id NOT IN (SELECT id FROM transfer_order))"
           if _has_table(session, "transfer_order") else "")
        + " GROUP BY el.item_id, er.warehouse_id"), {}, item_ix, wh_ix, shape)
    if not _has_table(session, "transfer_order"):
        return inbound, zeros
    inbound = inbound + _fill(session, (
        "SELECT tl.item_id, t.to_warehouse_id, SUM(MAX(tl.qty - tl.qty_received - tl.qty_short, 0))"
        " FROM transfer_order t CROSS JOIN transfer_line tl ON tl.transfer_id = t.id"
        " WHERE t.status IN ('draft', 'shipped') AND t.deleted_at IS NULL AND tl.deleted_at IS NULL"
        # received at the destination (its moves out of transit are here), not yet settled by the sender
        " AND NOT EXISTS (SELECT 1 FROM stock_move m WHERE m.doc_type = 'transfer' AND m.doc_id = t.id"
        " AND m.reason <> 'transfer_out')"
        " GROUP BY tl.item_id, t.to_warehouse_id"), {}, item_ix, wh_ix, shape)
    outbound = _fill(session, (
        "SELECT tl.item_id, t.from_warehouse_id, SUM(MAX(tl.qty - tl.qty_shipped, 0))"
        " FROM transfer_order t CROSS JOIN transfer_line tl ON tl.transfer_id = t.id"
        " WHERE t.status = 'draft' AND t.deleted_at IS NULL AND tl.deleted_at IS NULL"
        " GROUP BY tl.item_id, t.from_warehouse_id"), {}, item_ix, wh_ix, shape)
    return inbound, outbound


def all_arrays(session: Session, today: dt.date, history_weeks: int = fg.DEFAULT_HISTORY_WEEKS
               ) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]], _Arrays]:
    """(items, warehouses, arrays) of every active item at every warehouse, as a run computes them
    (no forecast hook; stored forecasts and the buyers' policies count): what a branch publishes of
    its own warehouses for its sisters (services.replenishment.figures_publish)."""
    scope = _resolve_scope(session, None, None, None)
    item_ix = {h: i for i, (h, *_rest) in enumerate(scope.items)}
    wh_ix = {h: i for i, (h, *_rest) in enumerate(scope.warehouses)}
    shape = (len(scope.items), len(scope.warehouses))
    a = _arrays(session, scope, item_ix, wh_ix, shape, today, history_weeks, None, True, lambda _what: None)
    return scope.items, scope.warehouses, a
