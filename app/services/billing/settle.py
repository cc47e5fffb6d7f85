"""The invoicing queue settled in batches: the billing job.

A carrier event does not invoice inside the tracking transaction (that made each delivery cost
~15 ms of the poller's time, one numbering call, one plan and a dozen queries each): its follow-up
is a ``billing_due`` row written in that transaction (``release.py``), and this job settles the
queue. Each batch (``BATCH`` shipments, oldest first) is one transaction that:

1. reads what it needs set-based: the shipments, their pending invoices, what each may bill
   (``shipped.basis``), the orders, customers, billing profiles, items, tax classes and rates;
2. plans each shipment's steps in turn as the follow-up did (picked up: make the invoice, release
   it for customers billed on shipment; delivered: release it with the proof of delivery, made
   first if there is none); a refusal (no tax rate) is a case for the clerks, as it was;
3. takes the invoice numbers with one call per branch (``numbering.next_numbers``) and writes the
   new invoices, their lines, tax lines, ledger rows and audit entries with the bulk writer;
   invoices made earlier (pending since the pickup) are released through the workflow;
4. removes the settled queue rows.

So a batch is all or nothing: a process killed half way leaves the queue as it was and no number
taken; the next run settles it. An event seen twice queues one row (the key is shipment + step),
and a shipment already invoiced has nothing left to bill: no invoice twice. An invoice made here
has the id derived from its shipment, as before, so two workstations that both saw the event make
one row. A batch that fails for an unexpected reason is retried one shipment a transaction; a
shipment that fails three times waits with its error for a person (``failing``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from app.models.billing import BillingDue, Invoice, InvoiceLine, InvoiceTax
from app.models.catalog import Item
from app.models.docs_common import AuditEntry
from app.models.exceptions import ExceptionItem
from app.models.ids import uuid7
from app.models.parties import Carrier, Customer
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.types import iso_utc, utcnow
from app.services import exception_inbox, jobs
from app.services.billing import tax
from app.services.billing.invoices import _NS, ledger_row, pod_reference, priced, released, terms_days
from app.services.billing.profile import Billing, billing_many
from app.services.billing.shipped import Basis, Billable, basis
from app.services.bulk import BulkInsert, Stamp
from app.services.changes import Change
from app.services.db import session_scope
from app.services.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.numbering import next_numbers
from app.services.ownership import acting_branch, owns

log = logging.getLogger("depot.billing")

#: shipments one settling transaction takes
BATCH = 500
#: unexpected failures of one shipment before it waits for a person
MAX_ATTEMPTS = 3
FAULT_ENV = "DEPOT_BILLING_FAULT"
#: the key of the case a refused shipment raises (+ the shipment id's hex)
REFUSED_KEY = "billing.invoice:"


@dataclass
class Settled:
    """What the job did (``ok``/``changed`` for the job runner)."""

    shipments: int = 0
    made: int = 0
    released: int = 0
    refused: int = 0
    failed: int = 0
    waiting: int = 0
    numbers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def changed(self) -> bool:
        return bool(self.shipments)

    def add(self, other: Settled) -> None:
        self.shipments += other.shipments
        self.made += other.made
        self.released += other.released
        self.refused += other.refused
        self.failed += other.failed
        self.numbers += other.numbers
        self.notes += other.notes

    def line(self) -> str:
        if not self.shipments and not self.failed:
            return "no invoice follow-up waiting" + (f" ({self.waiting} need a person)" if self.waiting else "")
        text = (f"{self.shipments} shipment{'s' if self.shipments != 1 else ''} settled: {self.made} invoices made, "
                f"{self.released} released")
        if self.refused:
            text += f", {self.refused} refused (a case each for the clerks)"
        if self.failed:
            text += f", {self.failed} failed (retried later)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"shipments": self.shipments, "made": self.made, "released": self.released, "refused": self.refused,
                "failed": self.failed, "waiting": self.waiting, "numbers": self.numbers, "notes": self.notes}


@dataclass
class _New:
    """An invoice this batch makes (numbered when the batch is planned)."""

    ship: Any
    order: Any
    customer: Any
    bill: Billing
    billables: list[Billable]
    lines: list[tuple]  # type: ignore[type-arg]
    day: dt.date
    release: bool
    pod_ref: str
    number: str = ""


def _fault(point: str, count: int) -> None:
    """Crash tests: DEPOT_BILLING_FAULT=commit:N kills the process just before batch N commits."""
    want = os.environ.get(FAULT_ENV, "")
    if want and want == f"{point}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


def due_shipments(session: Session, limit: int = BATCH) -> list[uuid.UUID]:
    """The oldest ``limit`` shipments with queued follow-ups (those failing for a person left out)."""
    return list(session.scalars(select(BillingDue.shipment_id).where(BillingDue.attempts < MAX_ATTEMPTS)
                                .group_by(BillingDue.shipment_id).order_by(func.min(BillingDue.created_at))
                                .limit(limit)))


def failing(session: Session) -> list[tuple[uuid.UUID, str, int, str]]:
    """Follow-ups that failed ``MAX_ATTEMPTS`` times: (shipment id, step, attempts, error)."""
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(select(
        BillingDue.shipment_id, BillingDue.step, BillingDue.attempts, BillingDue.message).where(
        BillingDue.attempts >= MAX_ATTEMPTS))]


def settle(session: Session, shipment_ids: list[uuid.UUID], *, now: dt.datetime | None = None) -> Settled:
    """Settle the queued follow-ups of these shipments in the caller's transaction (see the module doc)."""
    now = now or utcnow()
    out = Settled()
    if not shipment_ids:
        return out
    steps: dict[uuid.UUID, dict[str, dt.date]] = {}
    for sid, step, day in session.execute(select(BillingDue.shipment_id, BillingDue.step, BillingDue.day)
                                          .where(BillingDue.shipment_id.in_(shipment_ids))):
        steps.setdefault(sid, {})[step] = day
    ships, orders, customers, bills, pending, ctx = _load(session, shipment_ids, list(steps), out)
    new: list[_New] = []
    to_release: list[tuple[Invoice, dt.date, str | None]] = []
    for sh in ships:
        order = orders.get(sh.sales_order_id)
        cust = customers.get(order.customer_id) if order is not None else None
        if order is None or cust is None:
            continue  # nothing to say to billing, as the follow-up found
        bill = bills[cust.id]
        st = steps[sh.id]
        made: _New | None = None
        open_ = pending.get(sh.id)
        if "shipped" in st:
            if open_ is None:
                made = ctx.make(sh, order, cust, bill, st["shipped"], release=bill.invoice_on == "shipment",
                                pod=pod_reference(sh))
            elif bill.invoice_on == "shipment":
                to_release.append((open_, st["shipped"], None))
                open_ = None  # released: the delivery finds nothing pending
        if "delivered" in st:
            pod = pod_reference(sh)
            if made is not None:
                if not made.release:  # made pending a moment ago: released with the proof of delivery
                    made.release, made.day, made.pod_ref = True, st["delivered"], pod
            elif open_ is not None:
                to_release.append((open_, st["delivered"], pod))
            else:
                made = ctx.make(sh, order, cust, bill, st["delivered"], release=True, pod=pod)
        if made is not None:
            new.append(made)
    _write(session, new, now, out)
    for inv, day, pod_ref in to_release:
        session.add(ReceivableEntry(**released(inv, None, day, pod_ref)))
        out.released += 1
        out.numbers.append(inv.number)
    session.execute(delete(BillingDue).where(BillingDue.shipment_id.in_(list(steps))))
    out.shipments = len(steps)
    session.flush()
    return out


#: the customers' and items' columns an invoice is planned and written from (Core rows: a batch
#: reads hundreds of each, and whole ORM rows cost more than the invoices' own figures)
_CUSTOMER_COLS = (Customer.id, Customer.code, Customer.currency, Customer.payment_terms, Customer.ship_to,
                  Customer.contact_email)
_ITEM_COLS = (Item.id, Item.sku, Item.description, Item.base_uom)


def _load(session: Session, order: list[uuid.UUID], ids: list[uuid.UUID], out: Settled) -> tuple[Any, ...]:
    """What settling (or checking) these shipments reads, set-based: the shipments this site owns
    with an order (in ``order``'s order), their orders, customers, billing profiles, pending
    invoices and the ``_Ctx`` that plans their invoices."""
    order_of = {sid: i for i, sid in enumerate(order)}
    ships = sorted(session.execute(select(
        Shipment.id, Shipment.number, Shipment.status, Shipment.sales_order_id, Shipment.carrier_id,
        Shipment.tracking_number, Shipment.owner_branch_id, Shipment.pod_signed_by, Shipment.pod_at,
        Shipment.pod_image, Shipment.delivered_at).where(Shipment.id.in_(ids), Shipment.deleted_at.is_(None))).all(),
        key=lambda r: order_of[r.id])
    ships = [s for s in ships if s.sales_order_id is not None and owns(session, s.owner_branch_id)]
    orders = {o.id: o for o in session.execute(select(
        SalesOrder.id, SalesOrder.number, SalesOrder.customer_id, SalesOrder.currency, SalesOrder.customer_po,
        SalesOrder.ship_to).where(SalesOrder.id.in_({s.sales_order_id for s in ships})))}
    customers = {c.id: c for c in session.execute(select(*_CUSTOMER_COLS).where(
        Customer.id.in_({o.customer_id for o in orders.values()})))}
    bills = billing_many(session, list(customers.values()))
    pending = {i.shipment_id: i for i in session.scalars(select(Invoice).where(
        Invoice.shipment_id.in_([s.id for s in ships]), Invoice.kind == "invoice", Invoice.status == "pending"))}
    base = basis(session, [(s.id, s.sales_order_id) for s in ships])
    classes = tax.tax_classes(session, [ln.item_id for ln in base.lines.values()] +
                              [b.item_id for bs in base.own.values() for b in bs])
    items = {i.id: i for i in session.execute(select(*_ITEM_COLS).where(Item.id.in_(list(classes))))}
    return ships, orders, customers, bills, pending, _Ctx(session, base, items, classes, {}, out)


def could_settle(session: Session, shipment_ids: list[uuid.UUID]) -> tuple[set[uuid.UUID], int]:
    """Which of these delivered shipments a queued 'delivered' step would settle now (the
    reconcile round's question; nothing is written): those with a pending invoice to release,
    those with lines to bill that plan (the tax rates exist...), and those refused whose case was
    never raised (settling raises it, once). Returns (those ids, how many were left out: nothing
    left to bill, or refused again with their case already raised)."""
    out: set[uuid.UUID] = set()
    if not shipment_ids:
        return out, 0
    ships, orders, customers, bills, pending, ctx = _load(session, shipment_ids, shipment_ids, Settled())
    raised = {k for k in session.scalars(select(ExceptionItem.key).where(
        ExceptionItem.kind == "billing.invoice", ExceptionItem.entity_id.in_([s.id for s in ships])))}
    left = 0
    for sh in ships:
        order = orders.get(sh.sales_order_id)
        cust = customers.get(order.customer_id) if order is not None else None
        if order is None or cust is None:
            left += 1
            continue
        if sh.id in pending:
            out.add(sh.id)
            continue
        billables = ctx.base.billables(sh.id, sh.sales_order_id)
        if not billables:
            left += 1  # nothing left to bill: settling it would do nothing
            continue
        try:
            ctx._plan(sh, order, cust, bills[cust.id], billables)
        except DomainError:
            if f"{REFUSED_KEY}{sh.id.hex}" in raised:
                left += 1  # refused again, and its case is raised already: wait for what it asks
                continue
        ctx.base.bill(sh.id, billables)  # as settling would: a later shipment of the order bills the rest
        out.add(sh.id)
    return out, left + len(shipment_ids) - len(ships)


@dataclass
class _Ctx:
    """What planning one shipment's invoice reads (loaded once for the batch)."""

    session: Session
    base: Basis
    items: dict[uuid.UUID, Any]
    classes: dict[uuid.UUID, str]
    rates: dict[str, dict[str, tuple[str, Decimal]]]
    out: Settled

    def make(self, sh: Any, order: Any, cust: Any, bill: Billing, day: dt.date, *, release: bool,
             pod: str) -> _New | None:
        """The invoice of the shipment's unbilled lines (None: nothing to bill, or refused with a case)."""
        billables = self.base.billables(sh.id, sh.sales_order_id)
        if not billables:
            return None
        try:
            lines = self._plan(sh, order, cust, bill, billables)
        except DomainError as e:
            exception_inbox.raise_exception(
                self.session, None, kind="billing.invoice", title=f"{sh.number} could not be invoiced", detail=str(e),
                severity="warning", role="clerk", entity="shipment", entity_id=sh.id, entity_ref=sh.number,
                key=f"{REFUSED_KEY}{sh.id.hex}", owner_branch_id=sh.owner_branch_id)
            self.out.refused += 1
            return None
        self.base.bill(sh.id, billables)
        return _New(sh, order, cust, bill, billables, lines, day, release, pod[:200])

    def _plan(self, sh: Any, order: Any, cust: Any, bill: Billing, billables: list[Billable]) -> list[tuple]:  # type: ignore[type-arg]
        """``invoices._plan``'s checks, on the batch's rows (the same refusals, the same sentences)."""
        if sh.status == "cancelled":
            raise Conflict(f"shipment {sh.number} is cancelled: there is nothing to invoice")
        if sh.status in ("packing", "packed"):
            raise Conflict(f"shipment {sh.number} is {sh.status}, not shipped yet: it is invoiced once confirmed")
        zone = bill.tax_zone
        if zone not in self.rates:
            self.rates[zone] = tax.rates_of(self.session, zone)
        out = []
        for b in billables:
            ln = self.base.lines.get(b.order_line_id)
            if ln is None or ln.order_id != order.id:
                raise ValidationError("line", f"an order line billed on {sh.number} is not on {order.number}")
            if b.qty <= 0:
                raise ValidationError(f"line {ln.line_no}", "the quantity to invoice must be more than zero")
            if ln.qty_shipped == 0:
                raise Conflict(f"line {ln.line_no} of {order.number} has not shipped: it cannot be invoiced")
            done = self.base.done.get(ln.id, 0)
            if b.shipment_line_id is not None and done + b.qty > ln.qty_shipped:
                raise Conflict(f"line {ln.line_no} of {order.number} is already invoiced "
                               f"({done} of {ln.qty_shipped} shipped units billed; {b.qty} more asked)")
            item = self.items.get(ln.item_id)
            if item is None:
                raise NotFound("item of order line", f"{order.number} line {ln.line_no}")
            klass = self.classes.get(ln.item_id, tax.DEFAULT_CLASS)
            name, rate = tax.rate_for(self.rates[zone], zone, klass, cust.code)
            out.append((b.order_line_id, b.shipment_line_id, item, b.qty, item.base_uom,
                        ln.unit_price if b.unit_price is None else b.unit_price, klass, name, rate))
        return out


def _write(session: Session, new: list[_New], now: dt.datetime, out: Settled) -> None:
    """Number and write this batch's new invoices with the bulk writer (one numbering call a branch)."""
    if not new:
        return
    by_branch: dict[uuid.UUID, list[_New]] = {}
    for m in new:
        by_branch.setdefault(m.ship.owner_branch_id, []).append(m)
    for branch, group in by_branch.items():
        for m, number in zip(group, next_numbers(session, branch, "INV", len(group)), strict=True):
            m.number = number
    derived = {m.ship.id: uuid.uuid5(_NS, f"shipment:{m.ship.id.hex}") for m in new}
    taken = set(session.scalars(select(Invoice.id).where(Invoice.id.in_(list(derived.values())))))
    carriers = dict(session.execute(select(Carrier.id, Carrier.name).where(
        Carrier.id.in_({m.ship.carrier_id for m in new}))).all())
    stamp = Stamp.take(session)
    now_s = iso_utc(now)  # shared values in stored form once, not converted row by row
    versioned = {"created_at": now_s, "updated_at": now_s, "hlc": stamp.hlc, "hlc_site": stamp.site}
    invs: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    taxes: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for m in new:
        sh, order, cust, bill = m.ship, m.order, m.customer, m.bill
        branch = sh.owner_branch_id
        inv_id = derived[sh.id] if derived[sh.id] not in taken else uuid7()  # a cancelled one holds the key
        cur = order.currency or cust.currency
        p = priced(m.lines, bill.tax_rounding, cur)
        total = p.subtotal + p.tax_total
        due = m.day + dt.timedelta(days=terms_days(cust.payment_terms))
        invs.append({
            "id": inv_id, "owner_branch_id": branch, **versioned, "number": m.number, "kind": "invoice",
            "status": "released" if m.release else "pending", "customer_id": cust.id, "sales_order_id": order.id,
            "shipment_id": sh.id, "invoice_date": m.day, "due_date": due, "terms": cust.payment_terms,
            "currency": cur, "customer_po": order.customer_po, "bill_to": bill.bill_to,
            "ship_to": order.ship_to or cust.ship_to, "carrier": carriers.get(sh.carrier_id, ""),
            "tracking_number": sh.tracking_number, "pod_ref": m.pod_ref, "invoice_on": bill.invoice_on,
            "tax_rounding": bill.tax_rounding, "subtotal": p.subtotal, "tax_total": p.tax_total, "total": total,
            "released_at": now_s if m.release else None})
        lines += [{"id": uuid7(), "owner_branch_id": branch, **versioned, "invoice_id": inv_id, **ln}
                  for ln in p.lines]
        taxes += [{"id": uuid7(), "owner_branch_id": branch, **versioned, "invoice_id": inv_id, "name": t.name,
                   "rate_pct": t.rate_pct, "base": t.base, "amount": t.amount,
                   "rounding_diff": t.per_line - t.per_invoice} for t in p.taxes]
        out.made += 1
        out.numbers.append(m.number)
        if m.release:
            out.released += 1
            ledger.append({"id": uuid7(), "created_at": now_s,
                           **ledger_row(cust.id, m.number, m.day, due, total, cur, order.id, branch)})
            # what workflow.transition writes when a pending invoice is released
            audits.append({"id": uuid7(), "created_at": now_s, "user_id": None, "username": "system",
                           "action": "invoice.release", "entity": "invoice", "entity_id": inv_id,
                           "owner_branch_id": acting_branch(session, branch),
                           "detail": json.dumps({"number": m.number, "old": "pending", "new": "released",
                                                 "total": str(total), "pod": m.pod_ref}, sort_keys=True)})
    for model, rows in ((Invoice, invs), (InvoiceLine, lines), (InvoiceTax, taxes), (ReceivableEntry, ledger),
                        (AuditEntry, audits)):
        if rows:
            writer, data = BulkInsert.for_dicts(session, model, rows)
            writer.write(data)


def run(engine: Engine, _settings: Any = None, *, batch: int = BATCH) -> Settled:
    """Settle the whole queue, one transaction a batch (the billing job, ``depot invoice settle``,
    and the end of every poll cycle). A batch that fails is retried one shipment a transaction, so
    one bad shipment holds up nobody else; it is tried again at the next run, three times in all."""
    total = Settled()
    skip: set[uuid.UUID] = set()
    k = 0
    while True:
        with session_scope(engine, write=False) as s:
            ids = [i for i in due_shipments(s, batch + len(skip)) if i not in skip][:batch]
        if not ids:
            break
        k += 1
        try:
            with session_scope(engine) as s:
                part = settle(s, ids)
                _fault("commit", k)
            total.add(part)
            continue
        except Exception:  # noqa: BLE001 - one bad shipment must not stop the queue: found below
            log.exception("settling %d queued invoice follow-ups failed; one at a time", len(ids))
        for sid in ids:
            try:
                with session_scope(engine) as s:
                    total.add(settle(s, [sid]))
            except Exception as e:  # noqa: BLE001 - kept in the queue with its error (``failing``)
                log.exception("settling the invoice follow-up of shipment %s failed", sid)
                skip.add(sid)
                total.failed += 1
                with session_scope(engine) as s:
                    s.execute(update(BillingDue).where(BillingDue.shipment_id == sid).values(
                        attempts=BillingDue.attempts + 1, message=f"{type(e).__name__}: {e}"[:300]))
    with session_scope(engine, write=False) as s:
        total.waiting = len(failing(s))
    return total


#: the queue is settled every minute in the window (and at the end of every poll cycle, which is
#: where its rows come from: a delivery is invoiced in the cycle that saw it)
SETTLE = jobs.register(jobs.Job(
    "billing.settle", run, interval_s=60, first_s=15, kinds=(Change.INVOICE, Change.EXCEPTION),
    label="invoice delivered shipments", follows=("tracking.poll",)))
