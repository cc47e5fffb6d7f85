"""The Tracking screen's and ``depot track``'s reads: shipments with status, promised date, ETA
and risk (filtered and paged in SQL), and one shipment's timeline, proof of delivery, notices and
open cases.

Risk is computed in SQL with the same rule as ``policy.risk`` (a test holds them together), so
"late first" sorting and the risk filter work on any number of shipments. A shipment the rule
calls on time but the ETA model flags (``model_flagged``) counts as at risk for the filter, the
order and the counts: the model is there to flag orders before the carrier does.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import and_, case, column, false, func, literal, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from app.models.org import Branch
from app.models.parties import Carrier, CarrierService, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import TrackingCycle, TrackingEvent
from app.models.workflow import SHIPMENT_UNCONFIRMED
from app.services.carriers.model import STATUSES
from app.services.errors import NotFound, ValidationError
from app.services.eta import service as eta_service
from app.services.eta.service import Risk
from app.services.ownership import ownership
from app.services.tracking import lease, notices
from app.services.tracking.policy import FINAL, RISKS, TROUBLE
from app.services.tracking.responses import open_cases

#: the status filter's choices besides a single status
VIEWS = ("moving", "trouble", "delivered", "all")


@dataclass(frozen=True)
class ShipmentRow:
    id: uuid.UUID
    number: str
    order: str
    customer: str
    customer_code: str
    carrier: str
    carrier_code: str
    service: str
    tracking_number: str
    status: str
    status_text: str
    promised: dt.date | None
    eta: dt.date | None
    risk: str
    last_event_at: dt.datetime | None
    polled_at: dt.datetime | None
    next_poll_at: dt.datetime | None
    poll_outcome: str
    stopped: str
    flag: str
    delivered_at: dt.datetime | None
    pod_signed_by: str
    branch: str
    #: the ETA model's prediction for a shipment on its way (``with_predictions``), else None
    predicted: Risk | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, dt.datetime | dt.date):
                d[k] = v.isoformat()
            elif isinstance(v, uuid.UUID):
                d[k] = str(v)
        d["predicted"] = self.predicted.as_dict() if self.predicted is not None else None
        return d

    @property
    def model_at_risk(self) -> bool:
        """The ETA model flags it while the rule (promised date, carrier ETA, trouble) does not."""
        return self.predicted is not None and self.predicted.at_risk and self.risk == "on_time"


@dataclass(frozen=True)
class Filter:
    view: str = "moving"  # one of VIEWS, or a single status
    carrier: str = ""  # carrier code
    customer: str = ""  # customer code, or words of its name
    risk: str = ""  # one of policy.RISKS
    search: str = ""  # shipment, tracking or order number (part of it)
    all_branches: bool = False

    def check(self) -> Filter:
        if self.view not in VIEWS and self.view not in STATUSES:
            raise ValidationError("status", f"must be one of {', '.join(VIEWS)} or a carrier status")
        if self.risk and self.risk not in RISKS:
            raise ValidationError("risk", f"must be one of {', '.join(RISKS)}")
        return self


def _date_text(col: Any) -> ColumnElement[Any]:
    return func.substr(col, 1, 10)


def risk_sql(today: dt.date) -> ColumnElement[str]:
    """``policy.risk`` as a SQL expression (dates are ISO text in SQLite, so they compare as text)."""
    t = literal(today.isoformat())
    t1 = literal((today + dt.timedelta(days=1)).isoformat())
    promised, eta = Shipment.promised_date, Shipment.eta_date
    return case(
        (Shipment.status.in_(("returned", "cancelled")), literal("")),
        (Shipment.status == "delivered", case(
            (and_(promised.is_not(None), Shipment.delivered_at.is_not(None),
                  _date_text(Shipment.delivered_at) > promised), literal("late")),
            (Shipment.flag != "", literal("at_risk")), else_=literal("on_time"))),
        (and_(promised.is_not(None), or_(t > promised, and_(eta.is_not(None), eta > promised))), literal("late")),
        (or_(Shipment.status.in_(tuple(TROUBLE)), Shipment.stopped.in_(("stale", "invalid")), Shipment.flag != ""),
         literal("at_risk")),
        (and_(promised.is_not(None), eta.is_(None), promised <= t1), literal("at_risk")),
        else_=literal("on_time"))


def _flag_sql(flagged: list[str]) -> ColumnElement[bool]:
    """``Shipment.id`` is one of the model's flagged ids (hex; SQLite stores 16 bytes, compared as hex), bound as one
    JSON text (a list of thousands would pass SQLite's limit on bound variables). Only SQLite
    databases have a model file, so only they have flagged ids."""
    if not flagged:
        return false()
    ids: Any = select(column("value")).select_from(func.json_each(literal(json.dumps(flagged))))
    return func.lower(func.hex(Shipment.id)).in_(ids.scalar_subquery())


def _query(session: Session, f: Filter, today: dt.date, flagged: list[str] | None = None) -> Any:
    """The filter's shipments and their rule risk; with ``flagged`` (the model's at-risk ids among
    the rule's on-time ones) the risk filter counts those as at risk, not on time."""
    risk = risk_sql(today).label("risk")
    q = (select(Shipment, SalesOrder.number, Customer.name, Customer.code, Carrier.name, Carrier.code,
                CarrierService.name, Branch.code, risk)
         .join(Carrier, Carrier.id == Shipment.carrier_id)
         .join(SalesOrder, SalesOrder.id == Shipment.sales_order_id, isouter=True)
         .join(Customer, Customer.id == SalesOrder.customer_id, isouter=True)
         .join(CarrierService, CarrierService.id == Shipment.service_id, isouter=True)
         .join(Branch, Branch.id == Shipment.owner_branch_id, isouter=True)
         .where(Shipment.deleted_at.is_(None), Shipment.status.not_in(tuple(SHIPMENT_UNCONFIRMED))))
    if f.view == "moving":
        q = q.where(Shipment.status.not_in(tuple(FINAL)))
    elif f.view == "trouble":
        q = q.where(or_(Shipment.status.in_(tuple(TROUBLE)), Shipment.stopped.in_(("stale", "invalid")),
                        Shipment.flag != "", Shipment.status == "returned"))
    elif f.view != "all":
        q = q.where(Shipment.status == f.view)
    if f.carrier:
        q = q.where(Carrier.code == f.carrier.strip().upper())
    if f.customer.strip():
        words = f.customer.strip()
        q = q.where(or_(Customer.code == words.upper(), Customer.name.ilike(f"%{words}%")))
    if f.search.strip():
        s = f"%{f.search.strip()}%"
        q = q.where(or_(Shipment.number.ilike(s), Shipment.tracking_number.ilike(s), SalesOrder.number.ilike(s)))
    if f.risk:
        rule, flag = risk_sql(today), _flag_sql(flagged or [])
        if f.risk == "at_risk":
            q = q.where(or_(rule == "at_risk", and_(rule == "on_time", flag)))
        elif f.risk == "on_time":
            q = q.where(rule == "on_time", not_(flag))
        else:
            q = q.where(rule == f.risk)
    own = ownership(session)
    if own.enforced and not f.all_branches:
        q = q.where(Shipment.owner_branch_id == own.branch_id)
    return q, risk


def _row(r: Any) -> ShipmentRow:
    s: Shipment = r[0]
    return ShipmentRow(s.id, s.number, r[1] or "", r[2] or "", r[3] or "", r[4], r[5], r[6] or "", s.tracking_number,
                       s.status, s.status_text, s.promised_date, s.eta_date, r[8], s.last_event_at, s.polled_at,
                       s.next_poll_at, s.poll_outcome, s.stopped, s.flag, s.delivered_at, s.pod_signed_by, r[7] or "")


_RISK_ORDER = {"late": 0, "at_risk": 1, "on_time": 2, "": 3}


def list_shipments(session: Session, f: Filter | None = None, *, limit: int = 200, offset: int = 0,
                   today: dt.date | None = None) -> list[ShipmentRow]:
    """Shipments by the filter, late first, then at risk (by the rule or the ETA model), then by
    promised date."""
    f = (f or Filter()).check()
    today = today or dt.datetime.now(dt.UTC).date()
    flagged = model_flagged(session, f, today=today)
    q, risk = _query(session, f, today, flagged)
    order = case((and_(risk == "on_time", _flag_sql(flagged)), _RISK_ORDER["at_risk"]),
                 *((risk == k, v) for k, v in _RISK_ORDER.items() if k), else_=3)
    q = q.order_by(order, Shipment.promised_date.is_(None), Shipment.promised_date, Shipment.number)
    return [_row(r) for r in session.execute(q.limit(limit).offset(offset))]


def with_predictions(session: Session, rows: list[ShipmentRow]) -> tuple[list[ShipmentRow], str]:
    """The rows with the ETA model's median and 90th-percentile arrival and its at-risk flag for
    those on their way (``eta.service.risks``), and a note when there is no usable model."""
    if not rows:
        return rows, ""
    found, note = eta_service.risks(session, eta_service.session_model_path(session), [r.id.hex for r in rows])
    by_id = {f.shipment_id: f for f in found}
    return [replace(r, predicted=by_id.get(r.id.hex)) for r in rows], note


def count_sentence(counts: dict[str, int]) -> str:
    """The count line above the list and under ``depot track list``: '1 shipment: 0 late, ...'."""
    total, flagged = counts["total"], counts.get("model_at_risk", 0)
    return (f"{total} shipment{'' if total == 1 else 's'}: {counts['late']} late, {counts['at_risk']} at risk"
            + (f" ({flagged} by the ETA model)" if flagged else "") + f", {counts['on_time']} on time")


def count_shipments(session: Session, f: Filter | None = None, *, today: dt.date | None = None,
                    with_model: bool = False) -> dict[str, int]:
    """How many match the filter, by risk (for the count line above the list). ``with_model``
    counts the ones the ETA model flags among the rule's on-time ones as at risk (as the filter
    and the order do) and says how many those are (``model_at_risk``)."""
    f = (f or Filter()).check()
    today = today or dt.datetime.now(dt.UTC).date()
    flagged = model_flagged(session, f, today=today) if with_model else []
    q, risk = _query(session, replace(f, risk=""), today)
    sub = q.with_only_columns(risk).subquery()
    out = {k: 0 for k in (*RISKS, "")}
    for k, n in session.execute(select(sub.c.risk, func.count()).group_by(sub.c.risk)):
        out[str(k)] = int(n)
    out["on_time"] -= len(flagged)
    out["at_risk"] += len(flagged)
    if f.risk:
        out = {k: (v if k == f.risk else 0) for k, v in out.items()}
    out["total"] = sum(out.values())
    if with_model:
        out["model_at_risk"] = len(flagged) if f.risk in ("", "at_risk") else 0
    return out


def model_flagged(session: Session, f: Filter | None = None, *, today: dt.date | None = None) -> list[str]:
    """Ids (hex) of the filter's shipments on their way that the rule calls on time and the ETA
    model flags at risk (none without a usable model)."""
    f = (f or Filter()).check()
    if f.risk not in ("", "on_time", "at_risk"):
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    q, _risk = _query(session, replace(f, risk=""), today)
    q = q.where(risk_sql(today) == "on_time", Shipment.status.in_(eta_service.OPEN),
                Shipment.delivered_at.is_(None))  # only these are predicted
    ids = [i.hex for i in session.scalars(q.with_only_columns(Shipment.id))]
    if not ids:
        return []
    found, _note = eta_service.risks(session, eta_service.session_model_path(session), ids)
    return [r.shipment_id for r in found if r.at_risk]


def carriers_in_use(session: Session) -> list[tuple[str, str]]:
    q = (select(Carrier.code, Carrier.name).where(Carrier.id.in_(select(Shipment.carrier_id).distinct()))
         .order_by(Carrier.code))
    return [(c, n) for c, n in session.execute(q)]


# -- one shipment -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime | None
    status: str
    description: str
    location: str
    raw_code: str
    source: str
    notice: str
    eta: dt.date | None
    seen_at: dt.datetime
    #: this is the event the shipment follows (its newest)
    newest: bool = False


@dataclass(frozen=True)
class Pod:
    signed_by: str
    at: dt.datetime | None
    image: str
    location: str


@dataclass
class ShipmentDetail:
    row: ShipmentRow
    ship_to: str
    customer_po: str
    shipped_at: dt.datetime | None
    poll_failures: int
    poll_message: str
    polled_by: str
    timeline: list[TimelineEntry] = field(default_factory=list)
    pod: Pod | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, dt.datetime | dt.date):
                return v.isoformat()
            return v

        return {
            **self.row.to_dict(), "ship_to": self.ship_to, "customer_po": self.customer_po,
            "shipped_at": plain(self.shipped_at), "poll_failures": self.poll_failures,
            "poll_message": self.poll_message, "polled_by": self.polled_by,
            "timeline": [{k: plain(v) for k, v in asdict(e).items()} for e in self.timeline],
            "pod": {k: plain(v) for k, v in asdict(self.pod).items()} if self.pod else None,
            "notices": self.notices, "cases": self.cases,
        }


def find(session: Session, number: str) -> Shipment:
    """A shipment by its number or its tracking number."""
    key = number.strip()
    s = session.scalar(select(Shipment).where(or_(Shipment.number == key.upper(), Shipment.tracking_number == key),
                                              Shipment.deleted_at.is_(None)))
    if s is None:
        raise NotFound("shipment", key)
    return s


def show(session: Session, number: str, *, today: dt.date | None = None) -> ShipmentDetail:
    s = find(session, number)
    today = today or dt.datetime.now(dt.UTC).date()
    q, _risk = _query(session, Filter(view="all", all_branches=True), today)
    r = session.execute(q.where(Shipment.id == s.id)).one()
    row = with_predictions(session, [_row(r)])[0][0]
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    events = list(session.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == s.id)
                                  .order_by(TrackingEvent.at.desc(), TrackingEvent.seen_at.desc())))
    newest_id = next((e.id for e in events if e.at == s.last_event_at and e.source != "eta"), None)
    timeline = [TimelineEntry(e.at, e.event_status, e.description, e.location, e.raw_code, e.source, e.notice, e.eta_date,
                              e.seen_at, e.id == newest_id) for e in events]
    pod = None
    if s.pod_signed_by or s.pod_at:
        where = next((e.location for e in events if e.event_status == "delivered"), "")
        pod = Pod(s.pod_signed_by, s.pod_at, s.pod_image, where)
    account = lease.account_for(session, s.owner_branch_id, s.carrier_id, s.account_id)
    holder = lease.holders(session).get(account) if account else None
    polled_by = "this workstation" if not ownership(session).enforced else (holder[0] if holder else "nobody yet")
    sent = [{"kind": m.subject, "to": m.to_addr, "status": m.status, "queued_at": m.created_at.isoformat(timespec="seconds"),
             "sent_at": m.sent_at.isoformat(timespec="seconds") if m.sent_at else None}
            for m in notices.sent_for(session, s.number)]
    cases = [{"kind": c.kind, "title": c.title, "status": c.status, "role": c.role, "detail": c.detail}
             for c in open_cases(session, s.id)]
    return ShipmentDetail(row, order.ship_to if order else "", order.customer_po if order else "", s.shipped_at,
                          s.poll_failures, s.poll_message, polled_by, timeline, pod, sent, cases)


@dataclass(frozen=True)
class CycleLine:
    """This workstation's last poll cycle, for the screen's status line."""

    started_at: dt.datetime
    shipments: int
    new_events: int
    changed: int
    notices: int
    wall_s: float
    problems: str

    def text(self) -> str:
        if not self.shipments:
            return "nothing was due" + (f"; {self.problems.splitlines()[0]}" if self.problems else "")
        line = (f"{self.shipments} shipments polled in {self.wall_s:.1f} s: {self.new_events} new events, "
                f"{self.changed} changed status, {self.notices} notices")
        return line + (f"; {self.problems.splitlines()[0]}" if self.problems else "")


def last_cycle(session: Session) -> CycleLine | None:
    row = session.scalar(select(TrackingCycle).order_by(TrackingCycle.seq.desc()).limit(1))
    if row is None:
        return None
    return CycleLine(row.started_at, row.shipments, row.new_events, row.changed, row.notices, row.wall_s, row.problems)
