"""Demo dispatch: carrier cut-offs per warehouse, a carrier on some of the allocated orders, and
waves planned by the real planner, the first of each warehouse released and Dallas's part-picked
(one line short; serial-tracked lines are left for a picker with a scanner), so a new dispatcher opens the Dispatch screen on a day already under way."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Warehouse
from app.models.parties import Carrier
from app.models.sales import SalesOrder
from app.services.auth import actor_by_name
from app.services.dispatch import picking, queries, waves
from app.services.dispatch.setup import set_cutoff, set_settings

#: carrier -> local cut-off; the first is every warehouse's default
CUTOFFS = (("UPS", "16:00"), ("FEDEX", "17:30"), ("USPS", "15:00"))


def seed_waves(session: Session, now: dt.datetime) -> dict[str, Any]:
    dispatcher = actor_by_name(session, "dispatcher")
    picker = actor_by_name(session, "warehouse")
    codes = {c.code: c for c in session.scalars(select(Carrier))}
    whs = list(session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)).order_by(Warehouse.code)))
    for wh in whs:
        for n, (code, at) in enumerate(CUTOFFS):
            if code in codes:
                set_cutoff(session, dispatcher, wh.code, code, at, default=n == 0)
        set_settings(session, dispatcher, wh.code, wave_max_lines=40)
    allocated = list(session.scalars(select(SalesOrder).where(SalesOrder.status == "allocated")
                                     .order_by(SalesOrder.number)))
    for n, so in enumerate(allocated):  # a third ship FedEx, a fifth the postal service, the rest the default
        code = "FEDEX" if n % 3 == 1 else "USPS" if n % 5 == 2 else ""
        if code in codes:
            so.carrier_id = codes[code].id
    session.flush()
    plan = waves.plan_waves(session, dispatcher, now=now)
    first: dict[str, str] = {}  # each warehouse's biggest wave goes to the pickers
    for w in sorted(plan.waves, key=lambda w: -len(w.stops)):
        first.setdefault(w.warehouse, w.number)
    if first:
        waves.release(session, dispatcher, sorted(first.values()), now=now)
    picked = moves = 0
    dal = first.get("DAL1") or next(iter(first.values()), None)
    if dal:
        serial = set(session.scalars(select(Item.sku).where(Item.track_serial.is_(True))))
        lines = [r for r in queries.wave_lines(session, dal) if r.status == "open" and r.sku not in serial]
        for k, r in enumerate(lines[: max(1, len(lines) // 2)]):
            short = k == 1 and r.qty > 1  # the second stop is short: a demo of the exception path
            out = picking.confirm(session, picker, dal, bin=r.bin, item=r.sku, qty=r.qty - 1 if short else None,
                                  short_reason="not_found: bin looked empty" if short else "")
            picked += 1
            moves += 1 if out.qty else 0
    return {"waves": len(plan.waves), "released": sorted(first.values()), "picked_lines": picked, "moves": moves}
