"""Tax on invoices: a rate per customer tax zone x item tax class, exact money, two roundings.

Each line's tax is the extension x rate rounded to the currency's decimals (what the line shows).
A tax line per rate gathers the lines: with per-line rounding its tax is the sum of the lines'
rounded taxes; with per-invoice rounding it is the rate's whole base taxed and rounded once. Both
figures are kept (``rounding_diff``) and the invoice says which one it charges, so a customer who
adds up the lines and one who taxes the total both see where a cent went.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import ItemTaxClass, TaxRate
from app.models.types import DomainValueError, to_money
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict, ValidationError
from app.services.masterdata import head_office_id
from app.services.money import round_money

DEFAULT_CLASS = "standard"


def tax_classes(session: Session, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(item_ids))
    found = {i: c for i, c in session.execute(select(ItemTaxClass.item_id, ItemTaxClass.tax_class).where(
        ItemTaxClass.item_id.in_(ids), ItemTaxClass.deleted_at.is_(None)))}
    return {i: found.get(i, DEFAULT_CLASS) for i in ids}


def rates_of(session: Session, zone: str) -> dict[str, tuple[str, Decimal]]:
    """tax class -> (name, percent) of a zone."""
    return {r.tax_class: (r.name or f"{r.tax_zone} {r.tax_class}", r.rate_pct) for r in session.scalars(
        select(TaxRate).where(TaxRate.tax_zone == zone, TaxRate.deleted_at.is_(None)))}


def rate_for(rates: dict[str, tuple[str, Decimal]], zone: str, tax_class: str, customer: str) -> tuple[str, Decimal]:
    if tax_class not in rates:
        raise Conflict(f"no tax rate for zone {zone} and tax class {tax_class} (customer {customer}): "
                       f"set one with depot invoice tax-rate {zone} {tax_class} PERCENT (nothing was invoiced)")
    return rates[tax_class]


def line_tax(extension: Decimal, rate_pct: Decimal, currency: str) -> Decimal:
    return round_money(extension * rate_pct / 100, currency)


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate_pct: Decimal
    base: Decimal
    #: what the invoice charges (by its rounding)
    amount: Decimal
    per_line: Decimal
    per_invoice: Decimal


def tax_lines(lines: Sequence[tuple[str, Decimal, Decimal]], rounding: str, currency: str) -> list[TaxLine]:
    """Tax lines of (rate name, rate %, extension) lines, by rate, highest rate first."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    for name, rate, ext in lines:
        groups.setdefault((name, rate), []).append(ext)
    out = []
    for (name, rate), exts in sorted(groups.items(), key=lambda g: (-g[0][1], g[0][0])):
        base = sum(exts, Decimal(0))
        per_line = sum((line_tax(e, rate, currency) for e in exts), Decimal(0))
        per_invoice = line_tax(base, rate, currency)
        out.append(TaxLine(name, rate, base, per_line if rounding == "line" else per_invoice, per_line, per_invoice))
    return out


def set_tax_rate(session: Session, actor: Actor | None, zone: str, tax_class: str, rate_pct: str | Decimal,
                 name: str = "") -> TaxRate:
    """Create or change the rate of a zone x class (head-office master data)."""
    if actor is not None:
        actor.require("item.edit")
    zone, tax_class = zone.strip().upper(), tax_class.strip().lower()
    if not zone or len(zone) > 12 or not tax_class or len(tax_class) > 12:
        raise ValidationError("tax zone / class", "each is 1 to 12 characters")
    try:
        rate = to_money(rate_pct, "rate")
    except DomainValueError as e:
        raise ValidationError("rate", str(e).split(": ", 1)[-1]) from None
    if rate > 100:
        raise ValidationError("rate", f"{rate} % is more than 100 %")
    row = session.scalars(select(TaxRate).where(TaxRate.tax_zone == zone, TaxRate.tax_class == tax_class)).first()
    if row is None:
        row = TaxRate(tax_zone=zone, tax_class=tax_class, owner_branch_id=head_office_id(session))
        session.add(row)
    row.rate_pct = rate
    row.name = (name or f"{zone} {tax_class} {rate.normalize()}%")[:60]
    row.deleted_at = None
    session.flush()
    if actor is not None:
        audit.record(session, actor, "tax.rate", "tax_rate", row.id, row.owner_branch_id, zone=zone,
                     tax_class=tax_class, rate=str(rate))
    return row


def set_item_tax_class(session: Session, item_id: uuid.UUID, tax_class: str) -> None:
    tax_class = tax_class.strip().lower()
    if not tax_class or len(tax_class) > 12:
        raise ValidationError("tax class", "is 1 to 12 characters")
    row = session.scalars(select(ItemTaxClass).where(ItemTaxClass.item_id == item_id)).first()
    if row is None:
        session.add(ItemTaxClass(item_id=item_id, tax_class=tax_class, owner_branch_id=head_office_id(session)))
    else:
        row.tax_class = tax_class
    session.flush()


def all_rates(session: Session) -> list[TaxRate]:
    """Every tax rate, by zone and class (Settings > Billing)."""
    return list(session.scalars(select(TaxRate).where(TaxRate.deleted_at.is_(None))
                                .order_by(TaxRate.tax_zone, TaxRate.tax_class)))
