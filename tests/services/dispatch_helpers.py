"""Helpers the dispatch tests share: a carrier with a cut-off, allocated orders, a planned wave."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.parties import Carrier
from app.models.sales import SalesOrder
from app.services.allocation import runs
from app.services.auth import Actor
from app.services.dispatch.setup import set_cutoff
from tests.factories import World
from tests.services.sales_helpers import TODAY, customer, order, people, put

#: 14:00 UTC on the orders' day (the test branches keep UTC)
NOW = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)


def carrier(session: Session, w: World, code: str = "UPS") -> Carrier:
    found = session.scalar(select(Carrier).where(Carrier.code == code))
    if found is None:
        found = Carrier(code=code, name=f"{code} ground", api="sandbox", owner_branch_id=w.ho.id)
        session.add(found)
        session.flush()
    return found


def desk(session: Session, w: World) -> dict[str, Any]:
    """clara (clerk), dan (dispatcher), mike (manager), wes (warehouse); a customer; UPS at 16:00."""
    p: dict[str, Any] = people(session, w)
    p["wes"] = w.actors["wes"]
    p["cust"] = customer(session, "SHOPCO", "gold")
    carrier(session, w)
    set_cutoff(session, p["dan"], "DAL1", "UPS", "16:00", default=True)
    return p


def allocated_orders(session: Session, w: World, p: dict[str, Any], books: list[dict[str, int]],
                     stock: dict[str, list[tuple[str, int]]] | None = None) -> list[SalesOrder]:
    for sku, places in (stock or {}).items():
        for bin_key, qty in places:
            put(session, w, sku, qty, bin_key)
    out = [order(session, w, p["clara"], p["cust"], lines).order for lines in books]
    actor: Actor = p["dan"]
    runs.run(session, actor, runs.simulate(session, actor, warehouse="DAL1", today=TODAY))
    session.expire_all()
    return out
