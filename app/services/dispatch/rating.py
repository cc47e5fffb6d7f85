"""Rate shopping: quotes from every enabled carrier account of the shipping branch, the cheapest
service that still meets the promised date suggested (and chosen unless someone overrides it, with
a reason), the other quotes kept on the shipment so the choice can be explained later.

Three steps, so no transaction is open while a carrier answers: ``plan_rating`` reads (a read
transaction), ``fetch_quotes`` asks the carriers (no transaction; one thread per account), and
``record_quotes`` writes the result (one short write transaction). ``rate_shipment`` runs all three
for the CLI and the window's I/O pool. A carrier that fails or times out is listed with its reason;
the others' quotes still count. A carrier whose parcel limit a carton exceeds is not asked.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.parties import Carrier, CarrierService
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.auth import Actor
from app.services.carriers import accounts as ac
from app.services.carriers.adapters import Adapter
from app.services.carriers.model import Quote, ShipmentRequest
from app.services.db import session_scope
from app.services.dispatch.confirm import find_shipment
from app.services.dispatch.parcels import overweight, shipment_request
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.settings import Settings

#: builds the adapter for an account (tests may pass their own; default: accounts.adapter_for)
AdapterFactory = Callable[[ac.AccountInfo], Adapter]


def add_business_days(start: dt.date, days: int) -> dt.date:
    d = start
    while days > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


@dataclass(frozen=True)
class QuoteRow:
    """One service offered for the shipment, by one account."""

    account_id: str
    account: str
    carrier_code: str
    carrier: str
    service_code: str
    service: str
    amount: Decimal
    currency: str
    transit_days: int | None
    eta: dt.date | None
    #: True/False against the promised date (None: nothing was promised)
    meets: bool | None

    @property
    def key(self) -> str:
        """What a person types to choose it: CARRIER:SERVICE."""
        return f"{self.carrier_code}:{self.service_code}"

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account": self.account, "carrier_code": self.carrier_code,
                "carrier": self.carrier, "service_code": self.service_code, "service": self.service,
                "amount": str(self.amount), "currency": self.currency, "transit_days": self.transit_days,
                "eta": self.eta.isoformat() if self.eta else None, "meets": self.meets}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuoteRow:
        return cls(d["account_id"], d["account"], d["carrier_code"], d["carrier"], d["service_code"], d["service"],
                   Decimal(d["amount"]), d.get("currency", "USD"), d.get("transit_days"),
                   dt.date.fromisoformat(d["eta"]) if d.get("eta") else None, d.get("meets"))


@dataclass
class RateAsk:
    """What the network step needs (plain data: it crosses threads)."""

    shipment_id: uuid.UUID
    number: str
    request: ShipmentRequest
    promised: dt.date | None
    accounts: list[ac.AccountInfo]
    #: carrier name -> why it was not asked (overweight)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class RateResult:
    number: str
    promised: dt.date | None
    quotes: list[QuoteRow]
    #: account label -> what went wrong (timeout, refused credentials, no service...)
    failures: dict[str, str]
    skipped: dict[str, str]
    suggested: QuoteRow | None
    chosen: QuoteRow | None = None
    note: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.number}: promised {self.promised or 'no date'}"]
        for q in self.quotes:
            mark = "*" if self.chosen and q.key == self.chosen.key and q.account_id == self.chosen.account_id else " "
            eta = q.eta.isoformat() if q.eta else "?"
            late = "" if q.meets is None else ("" if q.meets else "  late")
            out.append(f" {mark} {q.key:<22} {q.service[:28]:<28} {q.amount:>9} {q.currency}  eta {eta}{late}")
        out += [f"   {k}: {v}" for k, v in self.failures.items()]
        out += [f"   {k}: not asked: {v}" for k, v in self.skipped.items()]
        if self.note:
            out.append(self.note)
        return out


def promised_date(session: Session, s: Shipment) -> dt.date | None:
    if s.promised_date:
        return s.promised_date
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    return (order.promised_date or order.requested_date) if order else None


def _branch_code(session: Session, branch_id: uuid.UUID) -> str:
    return session.scalar(select(Branch.code).where(Branch.id == branch_id)) or ""


def plan_rating(session: Session, actor: Actor, ref: str | uuid.UUID, settings: Settings | None = None,
                *, ship_date: dt.date | None = None) -> RateAsk:
    """Read step: the shipment as carriers see it and the accounts to ask."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status not in ("packed",):
        raise Conflict(f"shipment {s.number} is {s.status.replace('_', ' ')}: only a packed shipment is rated")
    if s.label_id is not None:
        raise Conflict(f"shipment {s.number} has a label already: void it to rate again")
    request = shipment_request(session, s, ship_date=ship_date)
    code = _branch_code(session, s.owner_branch_id)
    accounts = [a for a in ac.list_accounts(session, settings, all_branches=True)
                if a.active and a.branch_code == code]
    carriers = {c.code: c for c in session.scalars(select(Carrier).where(Carrier.deleted_at.is_(None)))}
    ask = RateAsk(s.id, s.number, request, promised_date(session, s), [])
    for a in accounts:
        c = carriers.get(a.carrier_code)
        if c is None or not c.active:
            continue
        why = overweight(session, s, c)
        if why:
            ask.skipped[c.name] = why
            continue
        ask.accounts.append(a)
    if not ask.accounts and not ask.skipped:
        raise Conflict(f"branch {code or '?'} has no enabled carrier account: add one in Settings > Carriers")
    return ask


def fetch_quotes(ask: RateAsk, settings: Settings, engine: Engine | None = None,
                 factory: AdapterFactory | None = None) -> tuple[list[QuoteRow], dict[str, str]]:
    """Network step: every account at once (a slow carrier costs its own timeout, not the sum)."""
    make = factory or (lambda info: ac.adapter_for(info, settings, engine))

    def one(info: ac.AccountInfo) -> tuple[ac.AccountInfo, list[Quote], str]:
        try:
            reply = make(info).rate(ask.request, info.services)
        except Exception as e:  # an adapter bug must not lose the other carriers' quotes
            return info, [], f"failed: {e}"
        if not reply.ok:
            return info, [], f"{reply.outcome}: {reply.message}"
        return info, list(reply.quotes), ""

    quotes: list[QuoteRow] = []
    failures: dict[str, str] = {}
    if not ask.accounts:
        return quotes, failures
    ship = ask.request.ship_date or dt.date.today()
    with ThreadPoolExecutor(max_workers=min(8, len(ask.accounts)), thread_name_prefix="rate") as pool:
        for info, got, err in pool.map(one, ask.accounts):
            if err:
                failures[info.label] = err
            for q in got:
                eta = q.eta_date or (add_business_days(ship, q.transit_days) if q.transit_days else None)
                meets = None if ask.promised is None else (eta is not None and eta <= ask.promised)
                quotes.append(QuoteRow(str(info.id), info.label, info.carrier_code, info.carrier_name, q.service_code,
                                       q.service_name, q.amount, q.currency, q.transit_days, eta, meets))
    quotes.sort(key=lambda q: (q.amount, q.eta or dt.date.max, q.key))
    return quotes, failures


def suggest(quotes: list[QuoteRow], promised: dt.date | None) -> tuple[QuoteRow | None, str]:
    """The cheapest quote that meets the promised date; none does: the fastest, and say so."""
    if not quotes:
        return None, ""
    good = [q for q in quotes if q.meets is not False]
    if good:
        return min(good, key=lambda q: (q.amount, q.eta or dt.date.max)), ""
    fastest = min(quotes, key=lambda q: (q.eta or dt.date.max, q.amount))
    return fastest, (f"no service meets the promised date {promised}: the fastest ({fastest.key}, "
                     f"{fastest.eta or '?'}) is suggested")


def _apply_choice(session: Session, s: Shipment, q: QuoteRow, reason: str) -> None:
    carrier = session.scalar(select(Carrier).where(Carrier.code == q.carrier_code))
    if carrier is None:
        raise NotFound("carrier", q.carrier_code)
    s.carrier_id = carrier.id
    s.account_id = uuid.UUID(q.account_id)
    s.service_code = q.service_code
    s.service_id = session.scalar(select(CarrierService.id).where(CarrierService.carrier_id == carrier.id,
                                                                 CarrierService.code == q.service_code))
    s.freight_quoted = q.amount
    s.freight_currency = q.currency
    s.override_reason = reason


def record_quotes(session: Session, actor: Actor, ask: RateAsk, quotes: list[QuoteRow],
                  failures: dict[str, str]) -> RateResult:
    """Write step: the quotes on the shipment and the suggested service chosen (no label yet)."""
    s = find_shipment(session, ask.shipment_id)
    if s.status != "packed" or s.label_id is not None:
        raise Conflict(f"shipment {s.number} changed while the carriers answered (it is {s.status} "
                       f"{'with a label' if s.label_id else ''}); rate it again")
    best, note = suggest(quotes, ask.promised)
    s.quotes = json.dumps({"promised": ask.promised.isoformat() if ask.promised else None,
                           "suggested": [best.key, best.account_id] if best else None,
                           "quotes": [q.to_dict() for q in quotes], "failures": failures, "skipped": ask.skipped})
    if best is not None:
        _apply_choice(session, s, best, "")
    elif not failures and ask.skipped:
        note = "; ".join(ask.skipped.values())
    session.flush()
    return RateResult(s.number, ask.promised, quotes, failures, ask.skipped, best, best, note)


def rate_shipment(engine: Engine, settings: Settings, actor: Actor, ref: str | uuid.UUID, *,
                  factory: AdapterFactory | None = None, ship_date: dt.date | None = None) -> RateResult:
    """All three steps, each in its own transaction (the CLI's and the window's I/O pool's call)."""
    with session_scope(engine, write=False) as session:
        ask = plan_rating(session, actor, ref, settings, ship_date=ship_date)
    quotes, failures = fetch_quotes(ask, settings, engine, factory)
    with session_scope(engine) as session:
        return record_quotes(session, actor, ask, quotes, failures)


def stored_quotes(session: Session, ref: str | uuid.UUID) -> RateResult:
    """The quotes last recorded on the shipment (what the Shipping tab shows after a restart)."""
    s = find_shipment(session, ref)
    data = json.loads(s.quotes) if s.quotes else {}
    quotes = [QuoteRow.from_dict(d) for d in data.get("quotes", [])]
    sug = data.get("suggested")
    suggested = next((q for q in quotes if sug and [q.key, q.account_id] == list(sug)), None)
    chosen = next((q for q in quotes if q.carrier_code and q.service_code == s.service_code
                   and q.account_id == (str(s.account_id) if s.account_id else "")), None)
    promised = dt.date.fromisoformat(data["promised"]) if data.get("promised") else promised_date(session, s)
    _best, why = suggest(quotes, promised)
    notes = [x for x in (why, f"override: {s.override_reason}" if s.override_reason else "") if x]
    return RateResult(s.number, promised, quotes, dict(data.get("failures", {})), dict(data.get("skipped", {})),
                      suggested, chosen, "; ".join(notes))


def choose(session: Session, actor: Actor, ref: str | uuid.UUID, key: str, reason: str = "",
           account: str | None = None) -> RateResult:
    """Choose a quoted service (CARRIER:SERVICE); anything but the suggestion needs a reason."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status != "packed":
        raise Conflict(f"shipment {s.number} is {s.status.replace('_', ' ')}: its service can no longer change")
    if s.label_id is not None:
        raise Conflict(f"shipment {s.number} has a label already: void it before choosing another service")
    res = stored_quotes(session, s.id)
    key = key.strip().upper()
    found = [q for q in res.quotes if q.key.upper() == key and (account is None or account in (q.account, q.account_id))]
    if not found:
        raise ValidationError("service", f"{key} was not quoted for {s.number}; quoted: "
                              f"{', '.join(sorted({q.key for q in res.quotes})) or 'nothing (rate it first)'}")
    q = min(found, key=lambda x: x.amount)
    is_suggested = res.suggested is not None and (q.key, q.account_id) == (res.suggested.key, res.suggested.account_id)
    reason = " ".join(reason.split())
    if not is_suggested and not reason:
        raise ValidationError("reason", f"{q.key} is not the suggested service "
                              f"({res.suggested.key if res.suggested else 'none'}): say why you override it")
    _apply_choice(session, s, q, "" if is_suggested else reason[:200])
    session.flush()
    res.chosen = q
    res.note = f"override: {reason}" if not is_suggested else ""
    return res
