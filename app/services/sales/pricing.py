"""Prices for order lines: customer price lists with quantity breaks and validity dates.

The price of ``qty`` base units of an item for a customer on a date is the best break (largest
``min_qty`` not above ``qty``) of the most specific list valid that day, in the order currency:
the customer's own list, else its price group's list, else the item's list price. Among lists of
the same kind the one that started most recently wins. The line remembers where its price came
from (``price_source``). A price typed by hand is an override: only with ``price.override``, and
audited with the price it replaced.

Lists are head-office master data: ``import_price_lists`` (``depot import price-lists``) reads a
CSV with one row per break; rows of one list code form the list (header fields from its first row).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.parties import Customer
from app.models.pricing import PriceList, PriceListLine


@dataclass(frozen=True)
class Price:
    #: per base unit, in the order currency
    unit_price: Decimal
    source: str
    list_code: str = ""


def _lists(session: Session, customer: Customer, on: dt.date, currency: str) -> list[PriceList]:
    who = [PriceList.customer_id == customer.id]
    if customer.price_group:
        who.append(and_(PriceList.customer_id.is_(None), PriceList.customer_group == customer.price_group))
    rows = session.scalars(select(PriceList).where(
        or_(*who), PriceList.active.is_(True), PriceList.deleted_at.is_(None), PriceList.currency == currency,
        or_(PriceList.valid_from.is_(None), PriceList.valid_from <= on),
        or_(PriceList.valid_to.is_(None), PriceList.valid_to >= on)))
    # the customer's own lists first, then the group's; the newest start first within each
    return sorted(rows, key=lambda pl: (pl.customer_id is None, -(pl.valid_from or dt.date.min).toordinal(), pl.code))


def prices(session: Session, customer: Customer, wanted: Sequence[tuple[Item, int]], *, on: dt.date,
           currency: str = "USD") -> list[Price]:
    """The price of each (item, base units) for ``customer`` on ``on`` (one query for all lines)."""
    lists = _lists(session, customer, on, currency)
    breaks: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[int, Decimal]]] = defaultdict(list)
    if lists:
        item_ids = list({it.id for it, _q in wanted})
        for pl_id, item_id, min_qty, price in session.execute(
                select(PriceListLine.price_list_id, PriceListLine.item_id, PriceListLine.min_qty,
                       PriceListLine.unit_price)
                .where(PriceListLine.price_list_id.in_([pl.id for pl in lists]), PriceListLine.item_id.in_(item_ids),
                       PriceListLine.deleted_at.is_(None))):
            breaks[(pl_id, item_id)].append((int(min_qty), price))
    out: list[Price] = []
    for item, qty in wanted:
        found: Price | None = None
        for pl in lists:
            fits = [(m, p) for m, p in breaks.get((pl.id, item.id), []) if m <= qty]
            if fits:
                m, p = max(fits)
                found = Price(p, f"price list {pl.code}" + (f" (from {m})" if m > 1 else ""), pl.code)
                break
        out.append(found or Price(item.list_price, "list price"))
    return out


def price(session: Session, customer: Customer, item: Item, qty: int, *, on: dt.date, currency: str = "USD") -> Price:
    return prices(session, customer, [(item, qty)], on=on, currency=currency)[0]


def describe_breaks(session: Session, customer: Customer, item: Item, *, on: dt.date,
                    currency: str = "USD") -> list[dict[str, Any]]:
    """The breaks that apply to the customer for an item (for the order screen's tooltip)."""
    out = []
    for pl in _lists(session, customer, on, currency):
        for m, p in sorted(session.execute(select(PriceListLine.min_qty, PriceListLine.unit_price).where(
                PriceListLine.price_list_id == pl.id, PriceListLine.item_id == item.id,
                PriceListLine.deleted_at.is_(None))).tuples()):
            out.append({"list": pl.code, "from": int(m), "unit_price": p})
        if out:
            break
    return out
