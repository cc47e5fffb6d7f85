"""Credit control at entry and at release: limit, overdue rule, credit stop; release by the right only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.receivables import ReceivableEntry
from app.services.allocation import runs
from app.services.errors import Conflict, PermissionDenied
from app.services.importer import ImportRejected, import_csv
from app.services.sales import credit
from tests.factories import World
from tests.services.inventory_helpers import audit_actions
from tests.services.sales_helpers import TODAY, allocated, customer, order, people, put


def _receivables(session: Session, w: World, body: str) -> None:
    import_csv(session, w.actors["root"], "receivables", body.encode("cp1252"))


def test_over_the_limit_holds_with_the_reason_and_only_credit_release_releases(session: Session, world: World) -> None:
    p = people(session, world)
    cust = customer(session, "TIGHT", limit="1000")
    _receivables(session, world, "customer;invoice_number;invoice_date;due_date;amount_open\n"
                                 "TIGHT;INV-1;2026-11-20;2026-12-20;900,00\n")
    ok = order(session, world, p["clara"], cust, {"BOLT": 100}).order  # 35.00: 935 <= 1000
    assert ok.status == "open"
    held = order(session, world, p["clara"], cust, {"WIDGET": 30}).order  # 89.70 more: over
    assert held.status == "credit_hold"
    assert held.credit_reason == ("credit limit 1,000.00 USD exceeded: exposure 935.00 USD (open items 900.00 USD "
                                  "+ open orders 35.00 USD) + this order 89.70 USD")
    exc = session.scalars(select(ExceptionItem).where(ExceptionItem.entity_id == held.id)).one()
    assert (exc.kind, exc.status, exc.role, exc.detail) == ("credit.hold", "open", "manager", held.credit_reason)
    with pytest.raises(PermissionDenied, match="clara may not release credit holds: that needs the manager or admin role"):
        credit.release(session, p["clara"], held.id, "paid")
    done = credit.release(session, p["mike"], held.id, "customer paid INV-1 by phone")
    assert done.applied and held.status == "open" and held.credit_released_by == "mike"
    assert (exc.status, exc.resolution) == ("resolved", "released by mike: customer paid INV-1 by phone")
    assert "order.credit_release" in audit_actions(session)
    with pytest.raises(Conflict, match="not on credit hold"):
        credit.release(session, p["mike"], held.id, "again")
    # released by a person: the allocation run does not ask again
    put(session, world, "WIDGET", 40)
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert held.status == "allocated" and allocated(session, held) == [30]


def test_an_invoice_overdue_beyond_the_rule_and_a_credit_stop_hold(session: Session, world: World) -> None:
    p = people(session, world)
    late = customer(session, "LATEPAY", overdue_days=30)
    _receivables(session, world, "customer,invoice_number,invoice_date,due_date,amount_open\n"
                                 "LATEPAY,INV-9,2026-09-01,2026-10-01,120.50\n")
    so = order(session, world, p["clara"], late, {"BOLT": 1}).order
    assert so.credit_reason == "invoice INV-9 is 61 days past due (120.50 USD open since 2026-10-01; rule: 30 days)"
    stop = customer(session, "STOPPED", credit_hold=True, credit_note="cheque bounced")
    assert order(session, world, p["clara"], stop, {"BOLT": 1}).order.credit_reason == \
        "customer STOPPED is on credit stop: cheque bounced"
    # no rule, no limit: never held
    free = customer(session, "FREEBIE", overdue_days=None)
    _receivables(session, world, "customer,invoice_number,invoice_date,due_date,amount_open\n"
                                 "FREEBIE,INV-1,2020-01-01,2020-02-01,99999\n")
    assert order(session, world, p["clara"], free, {"BOLT": 1}).order.status == "open"


def test_credit_is_asked_again_when_the_order_is_released_to_the_warehouse(session: Session, world: World) -> None:
    p = people(session, world)
    cust = customer(session, "SLIPPING", overdue_days=10)
    put(session, world, "BOLT", 50)
    so = order(session, world, p["clara"], cust, {"BOLT": 10}).order
    assert so.status == "open"
    # since entry an old invoice arrived from the legacy system
    _receivables(session, world, "customer,invoice_number,invoice_date,due_date,amount_open\n"
                                 "SLIPPING,INV-3,2026-10-01,2026-11-01,10\n")
    plan = runs.simulate(session, p["dan"], today=TODAY)
    (ln,) = plan.lines
    assert (ln.target, ln.rule) == (0, "credit")
    assert ln.reason.startswith("credit hold at release: invoice INV-3 is 30 days past due")
    res = runs.run(session, p["dan"], plan)
    assert res.orders_held == [so.number] and so.status == "credit_hold" and allocated(session, so) == [0]


def test_receivables_import_refuses_bad_rows_and_a_second_import(session: Session, world: World) -> None:
    customer(session, "PAYER")
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "receivables",
                   b"customer,invoice_number,invoice_date,due_date,amount_open\n"
                   b"NOBODY,I1,2026-01-01,2026-02-01,10\n"
                   b"PAYER,I2,2026-03-01,2026-02-01,10\n"
                   b"PAYER,I3,2026-03-01,2026-04-01,0\n"
                   b"PAYER,I4,2026-03-01,2026-04-01,12.5\n")
    reasons = [str(pr) for pr in e.value.problems]
    assert reasons == ["line 2: customer: unknown customer NOBODY",
                       "line 3: due_date: 2026-02-01 is before invoice_date 2026-03-01",
                       "line 4: amount_open: 0 is not an open item"]
    assert session.scalar(select(ReceivableEntry.id)) is None
    res = import_csv(session, world.actors["root"], "receivables",
                     b"customer,invoice_number,invoice_date,due_date,amount_open\nPAYER,I4,2026-03-01,2026-04-01,12.5\n")
    assert res.imported == 1
    with pytest.raises(ImportRejected, match="I4 of PAYER is already in the receivables ledger"):
        import_csv(session, world.actors["root"], "receivables",
                   b"customer,invoice_number,invoice_date,due_date,amount_open\nPAYER,I4,2026-03-01,2026-04-01,1\n")
    exp = credit.exposure(session, session.scalar(select(ReceivableEntry.customer_id)), today=TODAY)
    assert exp.receivables == 12.5 and exp.overdue[0][:3] == ("I4", dt.date(2026, 4, 1), 244)
