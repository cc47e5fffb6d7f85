"""The receivables ledger read and paid: open items, payments applied by hand, ageing and DSO.

The ledger (``app.models.receivables``) is insert-only: what a customer owes on a document is the
sum of its rows. A payment is a ``Payment`` row plus one negative ``payment`` row per document it
pays (``ref`` = the payment number), written in one transaction; a payment larger than what is
open on the documents it names, or for a customer Depot does not know, is refused whole. Ageing
and DSO are grouped queries over integer sums (stored 1/10,000), so 100,000 open items age in
well under a second.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, case, func, select, type_coerce
from sqlalchemy.orm import Session

from app.models.billing import Payment
from app.models.org import Branch
from app.models.parties import Customer
from app.models.receivables import SALES_KINDS, ReceivableEntry
from app.models.types import MONEY_SCALE, DomainValueError, to_money
from app.services import audit
from app.services.auth import Actor
from app.services.errors import NotFound, ValidationError
from app.services.money import fmt_money
from app.services.numbering import next_number
from app.services.ownership import acting_branch

#: ageing buckets: (label, first day past due, last day past due or None)
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", -10**6, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("over 90", 91, None))
#: how a payment came in
METHODS = ("bank", "cheque", "card", "cash", "other")


def money_of(stored: int | None) -> Decimal:
    """A summed ledger figure (integer 1/10,000) as Decimal with 4 places."""
    return (Decimal(int(stored or 0)) / MONEY_SCALE).quantize(Decimal("0.0001"))


def _amount_sum() -> Any:
    return func.sum(type_coerce(ReceivableEntry.amount, BigInteger))


def customer_by(session: Session, ref: str | uuid.UUID) -> Customer:
    """A customer by code or id; an unknown one is refused with its code."""
    if isinstance(ref, uuid.UUID):
        c = session.get(Customer, ref)
    else:
        c = session.scalars(select(Customer).where(Customer.code == ref.strip().upper(),
                                                   Customer.deleted_at.is_(None))).first()
    if c is None or c.deleted_at is not None:
        raise NotFound("customer", ref)
    return c


@dataclass(frozen=True)
class OpenItem:
    doc_number: str
    doc_date: dt.date
    due_date: dt.date | None
    original: Decimal
    open: Decimal
    days_past_due: int
    currency: str = "USD"


def _per_doc(customer_ids: Sequence[uuid.UUID] | None = None) -> Select[Any]:
    q = select(ReceivableEntry.customer_id.label("customer_id"), ReceivableEntry.doc_number.label("doc"),
               func.min(ReceivableEntry.doc_date).label("doc_date"), func.min(ReceivableEntry.due_date).label("due"),
               func.sum(case((type_coerce(ReceivableEntry.amount, BigInteger) > 0,
                              type_coerce(ReceivableEntry.amount, BigInteger)), else_=0)).label("original"),
               _amount_sum().label("open"), func.min(ReceivableEntry.currency).label("currency"))
    if customer_ids is not None:
        q = q.where(ReceivableEntry.customer_id.in_(list(customer_ids)))
    return q.group_by(ReceivableEntry.customer_id, ReceivableEntry.doc_number)


def open_items(session: Session, customer_id: uuid.UUID, *, today: dt.date, docs: Sequence[str] | None = None,
               include_settled: bool = False) -> list[OpenItem]:
    """A customer's documents with something open (oldest due first); ``docs`` narrows to those numbers."""
    q = _per_doc([customer_id])
    if docs is not None:
        q = q.where(ReceivableEntry.doc_number.in_(list(docs)))
    out = []
    for _cid, doc, doc_date, due, original, open_, cur in session.execute(q):
        amount = money_of(open_)
        if amount == 0 and not include_settled:
            continue
        days = (today - due).days if due is not None else 0
        out.append(OpenItem(doc, doc_date, due, money_of(original), amount, days, cur or "USD"))
    out.sort(key=lambda o: (o.due_date or o.doc_date, o.doc_number))
    return out


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentResult:
    number: str
    customer: str
    amount: Decimal
    #: (document, amount applied) in the order applied
    applied: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class PaymentSpec:
    """One payment as a person or a bank file states it (``invoices`` empty: oldest first)."""

    customer: str
    amount: Decimal | str
    received_on: dt.date
    invoices: tuple[str, ...] = ()
    method: str = "bank"
    reference: str = ""
    bank_key: str | None = None
    note: str = ""


@dataclass
class PaymentPlan:
    customer: Customer
    amount: Decimal
    spec: PaymentSpec
    applied: list[tuple[str, Decimal, dt.date | None]] = field(default_factory=list)


def plan_payment(session: Session, spec: PaymentSpec, *, today: dt.date,
                 taken: dict[tuple[uuid.UUID, str], Decimal] | None = None) -> PaymentPlan:
    """Check one payment and decide what it pays (nothing written). ``taken``: amounts earlier
    payments of the same batch already apply, so a bank file cannot pay one invoice twice."""
    cust = customer_by(session, spec.customer)
    try:
        amount = to_money(spec.amount, "amount")
    except DomainValueError as e:
        raise ValidationError("amount", str(e).split(": ", 1)[-1]) from None
    if amount <= 0:
        raise ValidationError("amount", "must be more than zero")
    if spec.method not in METHODS:
        raise ValidationError("method", f"{spec.method!r} is not one of {', '.join(METHODS)}")
    taken = taken if taken is not None else {}
    wanted = [d.strip().upper() for d in spec.invoices if d.strip()]
    items = open_items(session, cust.id, today=today, docs=wanted or None)
    by_doc = {o.doc_number.upper(): o for o in items}
    unknown = [d for d in wanted if d not in by_doc]
    if unknown:
        raise ValidationError("invoice", f"{', '.join(unknown)}: no open item of customer {cust.code} has that number")
    ordered = [by_doc[d] for d in wanted] if wanted else [o for o in items if o.open > 0]
    left = amount
    plan = PaymentPlan(cust, amount, spec)
    for it in ordered:
        open_ = it.open - taken.get((cust.id, it.doc_number), Decimal(0))
        if open_ <= 0 or left <= 0:
            continue
        part = min(open_, left)
        plan.applied.append((it.doc_number, part, it.due_date))
        left -= part
    if left > 0:
        total_open = amount - left
        what = ", ".join(wanted) if wanted else f"customer {cust.code}'s open items"
        raise ValidationError("amount", f"payment {fmt_money(amount, cust.currency, code=True)} is larger than the "
                              f"open amount {fmt_money(total_open, cust.currency, code=True)} of {what}")
    for doc, part, _due in plan.applied:
        taken[(cust.id, doc)] = taken.get((cust.id, doc), Decimal(0)) + part
    return plan


def post_payment(session: Session, actor: Actor, plan: PaymentPlan) -> PaymentResult:
    """Write a planned payment: the Payment row and its ledger rows (the caller's transaction)."""
    cust, spec = plan.customer, plan.spec
    branch_id = acting_branch(session, cust.home_branch_id or actor.branch_id or _any_branch(session))
    number = next_number(session, branch_id, "PAY")
    pay = Payment(number=number, customer_id=cust.id, received_on=spec.received_on, amount=plan.amount,
                  currency=cust.currency, method=spec.method, reference=spec.reference[:80], bank_key=spec.bank_key,
                  entered_by=actor.username, note=spec.note, owner_branch_id=branch_id)
    session.add(pay)
    for doc, part, due in plan.applied:
        session.add(ReceivableEntry(customer_id=cust.id, kind="payment", doc_number=doc, doc_date=spec.received_on,
                                    due_date=due, amount=-part, currency=cust.currency, source="depot", ref=number,
                                    owner_branch_id=branch_id))
    session.flush()
    audit.record(session, actor, "payment.apply", "payment", pay.id, branch_id, number=number, customer=cust.code,
                 amount=str(plan.amount), applied=", ".join(f"{d} {a}" for d, a, _ in plan.applied))
    return PaymentResult(number, cust.code, plan.amount, [(d, a) for d, a, _ in plan.applied])


def _any_branch(session: Session) -> uuid.UUID:
    bid = session.scalar(select(Branch.id).order_by(Branch.created_at).limit(1))
    if bid is None:
        raise NotFound("branch", "any")
    return bid


def apply_payment(session: Session, actor: Actor, spec: PaymentSpec, *, today: dt.date | None = None) -> PaymentResult:
    """A payment entered by hand: checked whole, then written (``payment.apply``)."""
    actor.require("payment.apply")
    plan = plan_payment(session, spec, today=today or dt.date.today())
    return post_payment(session, actor, plan)


# --------------------------------------------------------------------------- ageing and DSO


@dataclass
class AgeingRow:
    customer_id: uuid.UUID
    code: str
    name: str
    currency: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))


def ageing(session: Session, *, today: dt.date, customer: str | None = None) -> list[AgeingRow]:
    """Open amounts per customer in the ``BUCKETS`` (by days past the due date), biggest total first.

    One grouped query over the per-document sums; the buckets are CASE sums in SQL."""
    per_doc = _per_doc([customer_by(session, customer).id] if customer else None).subquery()
    due = func.coalesce(per_doc.c.due, per_doc.c.doc_date)
    cols = []
    for label, first, last in BUCKETS:
        conds = [due >= today - dt.timedelta(days=last)] if last is not None else []
        if first > -10**6:
            conds.append(due <= today - dt.timedelta(days=first))
        cond = conds[0] if len(conds) == 1 else (conds[0] & conds[1])
        cols.append(func.sum(case((cond, per_doc.c.open), else_=0)).label(label))
    q = (select(per_doc.c.customer_id, Customer.code, Customer.name, Customer.currency, *cols)
         .join(Customer, Customer.id == per_doc.c.customer_id)
         .where(per_doc.c.open != 0)
         .group_by(per_doc.c.customer_id, Customer.code, Customer.name, Customer.currency))
    out = []
    for cid, code, name, cur, *sums in session.execute(q):
        out.append(AgeingRow(cid, code, name, cur or "USD",
                             {label: money_of(v) for (label, _f, _l), v in zip(BUCKETS, sums, strict=True)}))
    out.sort(key=lambda r: (-r.total, r.code))
    return out


def ageing_totals(rows: Sequence[AgeingRow]) -> dict[str, Decimal]:
    return {label: sum((r.buckets[label] for r in rows), Decimal(0)) for label, _f, _l in BUCKETS}


@dataclass(frozen=True)
class Dso:
    days: int
    receivables: Decimal
    sales: Decimal

    @property
    def value(self) -> Decimal | None:
        """Days of sales outstanding: open receivables / sales of the period x its days (None: no sales)."""
        if self.sales <= 0:
            return None
        return (self.receivables / self.sales * self.days).quantize(Decimal("0.1"))


def dso(session: Session, *, today: dt.date, days: int = 90, customer: str | None = None) -> Dso:
    """DSO over the last ``days``: what is open now against what was invoiced in the period.

    Open items imported from the legacy system (kind ``opening``) count as sales on their invoice
    date: they are in what is open, so leaving them out of the sales made every branch's DSO
    absurd for the 90 days after it adopted Depot (267 days on the demo; 79 with them)."""
    if days < 1 or days > 3660:
        raise ValidationError("days", "must be between 1 and 3660")
    where = []
    if customer:
        where.append(ReceivableEntry.customer_id == customer_by(session, customer).id)
    open_ = session.scalar(select(_amount_sum()).where(*where))
    sales = session.scalar(select(_amount_sum()).where(
        *where, ReceivableEntry.kind.in_(SALES_KINDS), ReceivableEntry.doc_date > today - dt.timedelta(days=days),
        ReceivableEntry.doc_date <= today))
    return Dso(days, money_of(open_), money_of(sales))


@dataclass(frozen=True)
class PaymentView:
    number: str
    customer: str
    received_on: dt.date
    amount: Decimal
    currency: str
    method: str
    reference: str
    applied: list[tuple[str, Decimal]]


def payments(session: Session, *, customer: str | None = None, limit: int = 200) -> list[PaymentView]:
    """Newest payments first with what each paid."""
    q = select(Payment, Customer.code).join(Customer, Customer.id == Payment.customer_id)
    if customer:
        q = q.where(Payment.customer_id == customer_by(session, customer).id)
    rows = session.execute(q.order_by(Payment.received_on.desc(), Payment.number.desc()).limit(limit)).all()
    numbers = [p.number for p, _c in rows]
    applied: dict[str, list[tuple[str, Decimal]]] = {}
    if numbers:
        for ref, doc, amount in session.execute(select(ReceivableEntry.ref, ReceivableEntry.doc_number,
                                                       ReceivableEntry.amount)
                                                .where(ReceivableEntry.kind == "payment",
                                                       ReceivableEntry.ref.in_(numbers))):
            applied.setdefault(ref, []).append((doc, -amount))
    return [PaymentView(p.number, code, p.received_on, p.amount, p.currency, p.method, p.reference,
                        applied.get(p.number, [])) for p, code in rows]
