"""Orders that arrive in bulk (``depot import orders``): each line gets its promise and each order
its customer's ship-complete rule, computed set-based before the rows are written.

Promises walk each warehouse's new lines first come, first served (order date, number, line)
against the item's supply (``inventory.promise``: pickable stock, reservations, the backlog already
waiting, receipts by date). Credit is not asked here: a legacy system's open orders were approved
by it; credit control asks again when an order is released to the warehouse (its first
allocation), which catches a customer who is over the limit or overdue today.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.services.inventory.promise import Promise, _promise_from, supply


def promise_new(session: Session, lines: Sequence[tuple[Any, uuid.UUID, uuid.UUID, int]], *,
                today: dt.date | None = None) -> dict[Any, Promise]:
    """Promises for new lines ``(key, warehouse, item, base units)`` given in queue order."""
    today = today or dt.date.today()
    by_wh: dict[uuid.UUID, list[tuple[Any, uuid.UUID, int]]] = defaultdict(list)
    for key, wh, item, qty in lines:
        by_wh[wh].append((key, item, qty))
    out: dict[Any, Promise] = {}
    for wh, rows in by_wh.items():
        sup = supply(session, list(dict.fromkeys(i for _k, i, _q in rows)), wh, today=today)
        taken: dict[uuid.UUID, int] = {}
        for key, item, qty in rows:
            out[key] = _promise_from(sup[item], qty, taken.get(item, 0), today)
            taken[item] = taken.get(item, 0) + qty
    return out
