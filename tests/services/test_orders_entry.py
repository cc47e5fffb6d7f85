"""Order entry: units, prices from price lists, overrides, promises, bad input, copy and cancel."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.pricing import PriceList, PriceListLine
from app.models.sales import SalesOrder
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.sales.orders import LineInput, cancel_line, cancel_order, copy_order
from tests.factories import World
from tests.services.inventory_helpers import audit_actions
from tests.services.sales_helpers import TODAY, customer, lines_of, order, people, put


def _list(session: Session, w: World, code: str, cust_id: object = None, group: str = "",
          breaks: dict[tuple[str, int], str] | None = None, **kw: object) -> PriceList:
    pl = PriceList(code=code, name=code, customer_id=cust_id, customer_group=group, owner_branch_id=w.ho.id, **kw)
    session.add(pl)
    session.flush()
    for (sku, m), price in (breaks or {}).items():
        session.add(PriceListLine(price_list_id=pl.id, item_id=w.items[sku].id, min_qty=m, unit_price=Decimal(price),
                                  owner_branch_id=w.ho.id))
    session.flush()
    return pl


def test_an_order_by_sku_and_pack_gtin_stores_base_units_and_list_prices(session: Session, world: World) -> None:
    p = people(session, world)
    put(session, world, "WIDGET", 100)
    res = order(session, world, p["clara"], "BUILDCO", [LineInput("widget", 2, "CS"), LineInput("BOLT", 5)],
                requested_date=TODAY + dt.timedelta(days=3), customer_po="PO-77")
    so = res.order
    assert so.number == "DAL-SO-000001" and so.status == "open" and so.customer_po == "PO-77"
    a, b = lines_of(session, so)
    assert (a.qty_ordered, a.uom, a.uom_factor, a.unit_price, a.price_source) == (24, "CS", 12, Decimal("2.99"), "list price")
    assert (b.qty_ordered, b.uom) == (5, "")
    # promise: 24 of 100 on hand now; BOLT has no stock and no receipt: not before today + lead time (7 days)
    assert a.promise == "available now" and a.promised_date == TODAY
    assert b.promise == f"not before {TODAY + dt.timedelta(days=7)}"
    assert so.promised_date == TODAY + dt.timedelta(days=7)
    assert "order.create" in audit_actions(session)


def test_customer_list_beats_group_list_beats_list_price_and_breaks_apply(session: Session, world: World) -> None:
    p = people(session, world)
    cust = customer(session, "ACMEBUY", price_group="TRADE")
    _list(session, world, "TRADE-26", group="TRADE", breaks={("WIDGET", 1): "2.50", ("BOLT", 1): "0.30"})
    _list(session, world, "ACME-26", cust_id=cust.id, breaks={("WIDGET", 1): "2.40", ("WIDGET", 100): "2.10"},
          valid_from=TODAY - dt.timedelta(days=10))
    _list(session, world, "ACME-OLD", cust_id=cust.id, breaks={("WIDGET", 1): "1.00"}, valid_to=TODAY - dt.timedelta(days=1))
    res = order(session, world, p["clara"], cust, {"WIDGET": 120, "BOLT": 10, "MILK": 3})
    w, b, m = lines_of(session, res.order)
    assert (w.unit_price, w.price_source) == (Decimal("2.10"), "price list ACME-26 (from 100)")
    assert (b.unit_price, b.price_source) == (Decimal("0.30"), "price list TRADE-26")
    assert (m.unit_price, m.price_source) == (Decimal("1.49"), "list price")


def test_price_override_needs_the_right_and_is_audited(session: Session, world: World) -> None:
    p = people(session, world)
    with pytest.raises(PermissionDenied, match="line 1: clara may not override prices: that needs the manager or admin role"):
        order(session, world, p["clara"], "BUILDCO", [LineInput("WIDGET", 10, unit_price="1.99")])
    assert session.scalar(select(SalesOrder.id)) is None
    res = order(session, world, p["mike"], "BUILDCO", [LineInput("WIDGET", 1, "CS", unit_price="24.00")])
    (ln,) = lines_of(session, res.order)
    assert (ln.unit_price, ln.price_source) == (Decimal("2.0000"), "override by mike")
    assert "order.price_override" in audit_actions(session)
    # typing the price the list gives is not an override
    res = order(session, world, p["clara"], "BUILDCO", [LineInput("WIDGET", 10, unit_price="2.99")])
    assert lines_of(session, res.order)[0].price_source == "list price"


@pytest.mark.parametrize(("lines", "message"), [
    ([LineInput("NOPE", 1)], "line 1: item: unknown item NOPE"),
    ([LineInput("WIDGET", 1), LineInput("BOLT", 0)], "line 2: quantity: must be more than zero"),
    ([LineInput("WIDGET", -3)], "line 1: quantity: -3 is negative"),
    ([LineInput("WIDGET", "1.5")], "line 1: quantity: '1.5' is not a whole number of base units"),
    ([LineInput("WIDGET", "1e13")], "line 1: quantity: '1e13' is larger than 1,000,000,000,000"),
    ([LineInput("WIDGET", 10**11, "CS")], "line 1: quantity: 100000000000 x 12 is larger than"),
    ([LineInput("WIDGET", 1, "PL")], "line 1: unit: WIDGET is not sold in PL (units: EA, CS)"),
    ([LineInput("WIDGET", 1, unit_price="-1")], "line 1: price: -1"),
    ([], "lines: an order needs at least one line"),
])
def test_bad_lines_refuse_the_whole_order(session: Session, world: World, lines: list[LineInput], message: str) -> None:
    p = people(session, world)
    with pytest.raises(ValidationError, match=re.escape(message)):
        order(session, world, p["mike"], "BUILDCO", lines)
    assert session.scalar(select(SalesOrder.id)) is None


def test_unknown_inactive_customer_and_a_past_requested_date_are_refused(session: Session, world: World) -> None:
    p = people(session, world)
    with pytest.raises(NotFound, match="unknown customer NOBODY"):
        order(session, world, p["clara"], "NOBODY", {"WIDGET": 1})
    world.customer.active = False
    session.flush()
    with pytest.raises(ValidationError, match="customer: BUILDCO is inactive"):
        order(session, world, p["clara"], "BUILDCO", {"WIDGET": 1})
    world.customer.active = True
    with pytest.raises(ValidationError, match="requested date: 2026-11-30 is before the order date 2026-12-01"):
        order(session, world, p["clara"], "BUILDCO", {"WIDGET": 1}, requested_date=TODAY - dt.timedelta(days=1))
    with pytest.raises(PermissionDenied, match="wes may not enter orders: that needs the clerk, dispatcher, manager or admin role"):
        order(session, world, world.actors["wes"], "BUILDCO", {"WIDGET": 1})


def test_copy_reprices_and_cancel_line_then_order(session: Session, world: World) -> None:
    p = people(session, world)
    first = order(session, world, p["clara"], "BUILDCO", [LineInput("WIDGET", 2, "CS"), LineInput("BOLT", 7)]).order
    copy = copy_order(session, p["clara"], first.id, today=TODAY)
    assert copy.order.source == "copy" and copy.notes == [f"copied from {first.number}"]
    assert [(ln.qty_ordered, ln.uom) for ln in lines_of(session, copy.order)] == [(24, "CS"), (7, "")]
    a, b = lines_of(session, first)
    with pytest.raises(ValidationError, match="reason: say why"):
        cancel_line(session, p["clara"], a.id, " ")
    cancel_line(session, p["clara"], a.id, "customer changed their mind")
    assert (a.status, first.status) == ("cancelled", "open")
    cancel_line(session, p["clara"], b.id, "no longer needed")  # the last open line cancels the order
    assert (b.status, first.status, first.cancel_reason) == ("cancelled", "cancelled", "no longer needed")
    with pytest.raises(Conflict, match="is cancelled"):
        cancel_order(session, p["clara"], first.id, "again")
