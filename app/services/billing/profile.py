"""How a customer is billed, and the company paper billing documents print on.

A customer without a ``customer_billing`` row is billed with the defaults (released on proof of
delivery, tax zone STD, tax rounded per line, bill-to = ship-to). ``paper`` is the letterhead
with its logo checked: a logo that is not a PNG or JPEG stops the document with one line that says
where to fix it, before anything is written or numbered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import INVOICE_ON, TAX_ROUNDING, CustomerBilling
from app.models.parties import Customer
from app.services import audit
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.masterdata import head_office_id
from app.services.org.company import check_logo, letterhead
from reports.letterhead import Letterhead


@dataclass(frozen=True)
class Billing:
    bill_to: str
    invoice_email: str
    invoice_on: str
    tax_zone: str
    tax_id: str
    tax_rounding: str


def billing_of(session: Session, customer: Customer) -> Billing:
    return billing_many(session, [customer])[customer.id]


def billing_many(session: Session, customers: Sequence[Any]) -> dict[uuid.UUID, Billing]:
    """``billing_of`` for many customers in one query (customer id -> Billing); ORM rows or Core
    rows with their id, ship_to and contact_email."""
    ids = [c.id for c in customers]
    rows: dict[uuid.UUID, CustomerBilling] = {}
    for n in range(0, len(ids), 500):
        rows.update({r.customer_id: r for r in session.scalars(select(CustomerBilling).where(
            CustomerBilling.customer_id.in_(ids[n:n + 500]), CustomerBilling.deleted_at.is_(None)))})
    out = {}
    for c in customers:
        row = rows.get(c.id)
        out[c.id] = (Billing(c.ship_to, c.contact_email, "delivery", "STD", "", "line") if row is None else
                     Billing(row.bill_to or c.ship_to, row.invoice_email or c.contact_email, row.invoice_on,
                             row.tax_zone, row.tax_id, row.tax_rounding))
    return out


def set_billing(session: Session, actor: Actor | None, customer: Customer, **values: str) -> Billing:
    """Change how ``customer`` is billed (only the fields given); head-office master data."""
    set_billing_many(session, actor, [(customer, values)])
    return billing_of(session, customer)


def set_billing_many(session: Session, actor: Actor | None, changes: list[tuple[Customer, dict[str, str]]]) -> None:
    """``set_billing`` for many customers: every change checked first, then one query for their rows
    and one flush (a flush per customer walks the whole session again: the seed's 3,000 took 20 s)."""
    if actor is not None:
        actor.require("item.edit")
    allowed = {"bill_to": 400, "invoice_email": 200, "invoice_on": 10, "tax_zone": 12, "tax_id": 40, "tax_rounding": 8}
    for _customer, values in changes:
        for k, v in values.items():
            if k not in allowed:
                raise ValidationError(k, "is not a billing setting")
            if len(v) > allowed[k]:
                raise ValidationError(k, f"is longer than {allowed[k]} characters")
        if "invoice_on" in values and values["invoice_on"] not in INVOICE_ON:
            raise ValidationError("invoice_on", f"{values['invoice_on']!r} is not one of {', '.join(INVOICE_ON)}")
        if "tax_rounding" in values and values["tax_rounding"] not in TAX_ROUNDING:
            raise ValidationError("tax_rounding",
                                  f"{values['tax_rounding']!r} is not one of {', '.join(TAX_ROUNDING)}")
    ids = [c.id for c, _v in changes]
    rows: dict[uuid.UUID, CustomerBilling] = {}
    for n in range(0, len(ids), 500):
        for r in session.scalars(select(CustomerBilling).where(CustomerBilling.customer_id.in_(ids[n:n + 500]))):
            rows.setdefault(r.customer_id, r)
    owner: uuid.UUID | None = None
    for customer, values in changes:
        row = rows.get(customer.id)
        if row is None:
            owner = owner or head_office_id(session)
            row = rows[customer.id] = CustomerBilling(customer_id=customer.id, owner_branch_id=owner)
            session.add(row)
        for k, v in values.items():
            setattr(row, k, v.strip().upper() if k == "tax_zone" else v.strip())
    session.flush()
    if actor is not None:
        for customer, values in changes:
            row = rows[customer.id]
            audit.record(session, actor, "customer.billing", "customer_billing", row.id, row.owner_branch_id,
                         customer=customer.code, **values)


def paper(session: Session, branch_id: uuid.UUID | None) -> Letterhead:
    """The letterhead for a billing document; a damaged logo is refused with where to fix it."""
    head = letterhead(session, branch_id)
    if head.logo:
        try:
            check_logo(head.logo)
        except ValidationError as e:
            raise ValidationError("company logo", f"{e.rule}: replace it in Settings > Organisation "
                                  "(nothing was printed)") from None
    return head


def remit_to(head: Letterhead) -> str:
    return "\n".join(v for v in (head.name, head.address, head.contact_line()) if v)
