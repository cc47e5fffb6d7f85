"""Transfer before buying: find a sister warehouse with surplus and price the move.

Surplus of a sister = its on hand - allocated - stock already promised to other transfers
- its own order-up-to level (its own needs, computed by the same maths). Only a sister
whose surplus covers the whole raw need is offered (one shipment, one arrival date; a
split between transfer and purchase is left to the buyer, who can edit quantities).
Among sisters the cheapest transfer wins, then the fastest, then the warehouse code.

Cost model (``transfer_lane`` rows, defaults in ``figures``): cost_per_shipment +
qty x cost_per_unit, compared with the purchase value (rounded qty x unit price); arrival
= today + transit days, compared with today + supplier lead time. The engine prefers the
transfer when it is cheaper or arrives sooner, and shows both options.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import TransferLane
from app.services.replenishment import figures as fg


@dataclass(frozen=True)
class Option:
    """One way to cover a need: buy from a supplier or move from a sister warehouse."""

    kind: str  # 'purchase' | 'transfer'
    qty: int
    source_id: uuid.UUID  # supplier id, or the sending warehouse id
    source_code: str
    unit_cost: Decimal
    total_cost: Decimal
    currency: str
    days: int
    arrival: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "qty": self.qty, "source_id": str(self.source_id), "source": self.source_code,
            "unit_cost": str(self.unit_cost), "total_cost": str(self.total_cost), "currency": self.currency,
            "days": self.days, "arrival": self.arrival.isoformat(),
        }


@dataclass(frozen=True)
class Lane:
    days: int
    per_unit: Decimal
    per_shipment: Decimal
    currency: str = "USD"


DEFAULT_LANE = Lane(fg.DEFAULT_TRANSFER_DAYS, fg.DEFAULT_TRANSFER_COST_PER_UNIT, fg.DEFAULT_TRANSFER_COST_PER_SHIPMENT)


def transfer_cost(lane: Lane, qty: int) -> Decimal:
    return fg.money(lane.per_shipment + lane.per_unit * qty)


class TransferPlanner:
    """Offers transfers from sister warehouses' surplus, consuming it as transfers are chosen."""

    def __init__(self, session: Session, warehouses: list[tuple[str, str, str]], surplus: Any,
                 today: dt.date) -> None:
        self._whs = warehouses
        self._surplus = surplus  # (items x warehouses) int64 array, mutated by take()
        self._today = today
        self._lanes: dict[tuple[str, str], Lane] = {}
        for lane in session.scalars(select(TransferLane).where(TransferLane.deleted_at.is_(None))):
            self._lanes[(lane.from_warehouse_id.hex, lane.to_warehouse_id.hex)] = Lane(
                int(lane.transit_days), lane.cost_per_unit, lane.cost_per_shipment, lane.currency)
        self._ix = {h: i for i, (h, _c, _b) in enumerate(warehouses)}
        self._ids = [uuid.UUID(h) for h, _c, _b in warehouses]

    def lane(self, from_hex: str, to_hex: str) -> Lane:
        return self._lanes.get((from_hex, to_hex), DEFAULT_LANE)

    def option(self, item: int, to_wh: int, need: int) -> Option | None:
        if need <= 0 or len(self._whs) < 2:
            return None
        row = self._surplus[item]
        best: tuple[Decimal, int, str, int] | None = None
        for v in (int(x) for x in (row >= need).nonzero()[0]):
            if v == to_wh:
                continue
            lane = self.lane(self._whs[v][0], self._whs[to_wh][0])
            key = (transfer_cost(lane, need), lane.days, self._whs[v][1], v)
            if best is None or key < best:
                best = key
        if best is None:
            return None
        cost, days, code, v = best
        return Option(kind="transfer", qty=need, source_id=self._ids[v], source_code=code,
                      unit_cost=fg.money(cost / need), total_cost=cost, currency="USD", days=days,
                      arrival=self._today + dt.timedelta(days=days))

    def take(self, item: int, option: Option) -> None:
        """The transfer was recommended: its stock is no longer surplus for the next pair."""
        v = self._ix[option.source_id.hex]
        self._surplus[item, v] -= option.qty
