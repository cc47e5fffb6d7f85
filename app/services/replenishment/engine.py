"""The replenishment run: bulk queries over the branch database, then array maths.

One query per figure (on hand, allocated, on order, inbound, requisitioned, demand
history; ``reads``), each grouped by item and warehouse in SQL, loaded into ``(items x warehouses)``
numpy arrays; the maths of ``figures`` then runs over all pairs at once and only the pairs
that need stock become ``Recommendation`` objects. This is what keeps 150,000 pairs and
2 million ledger moves within a few seconds (see bench/replenish.py).

The arrays are indexed by 32-hex ids (``reads.h``: the file stores 16 bytes).
Nothing is written: a run is a read; decisions and requisitions are separate calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch, Warehouse
from app.services.auth import Actor
from app.services.db import raw_rows as _raw
from app.services.errors import NotFound, ValidationError
from app.services.ownership import working_branch
from app.services.replenishment import figures as fg
from app.services.replenishment import reads as rd
from app.services.replenishment.config import class_settings
from app.services.replenishment.policy_inputs import fixed_min_max, policy_why, stored_forecasts
from app.services.replenishment.sister_figures import sister_surplus
from app.services.replenishment.transfers import Option, TransferPlanner

#: the stages of a run, as ``progress`` hears them
STAGES = ("sales history", "stock on hand", "orders and purchase orders", "transfers and requisitions",
          "demand and levels", "recommendations")
#: progress(done, total, what)
Progress = Callable[[int, int, str], None]



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
    items = [(rd.h(a), str(b), str(c), str(d)) for a, b, c, d in _raw(session, (
        "SELECT id, sku, description, velocity_class FROM item WHERE active = 1 AND deleted_at IS NULL ORDER BY sku"))]
    whs = [(rd.h(a), str(b), rd.h(c)) for a, b, c in _raw(session, (
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
    demand_sum, demand_sq = rd.history(session, today, history_weeks, item_ix, wh_ix, shape)
    stage("stock on hand")
    on_hand = rd.on_hand(session, item_ix, wh_ix, shape)
    stage("orders and purchase orders")
    allocated = rd.allocated(session, item_ix, wh_ix, shape)
    on_order = rd.on_order(session, item_ix, wh_ix, shape)
    next_due = rd.next_expected(session)
    stage("transfers and requisitions")
    inbound, outbound = rd.transfers(session, item_ix, wh_ix, shape)
    req_in, req_out = rd.requisitioned(session, item_ix, wh_ix, shape)

    stage("demand and levels")
    classes = class_settings(session)
    sources = rd.sources(session)
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
    suppressed = rd.suppressed(session, today)
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
        s = rd.source_of(row) if row is not None else None
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
