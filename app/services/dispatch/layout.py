"""Where a bin is on the floor, the order a picker walks bins in, and how far that walk is.

A bin code names its place: ``{zone}-{aisle}-{bay}-{level}`` (the seed: ``A-012-07-2``, reserve
``A-R03-05-1``; ``depot locations generate``: ``A01-07-2`` in a zone). The last three parts are
aisle, bay and level; codes that do not say so fall back on the bin's walk sequence as its bay.

The floor model is the usual one for a warehouse of parallel aisles: aisles side by side
(``AISLE_PITCH_M`` apart, zones one after the other in code order), bays along each aisle
(``BAY_M`` each), a cross aisle at the front and at the back, and the packing station at the front
before the first aisle. The planned path is the shortest of: the **serpentine** (aisles in order,
up one visited aisle, down the next), the serpentine with returns (an aisle whose stops lie near the
cross aisle the picker is on is entered and left there: the "combined" rule of order-picking
routing) and, for a small wave, nearest-neighbour; each bay's levels together. The distance of any visiting order is the sum of
its legs: along an aisle when two stops share it, else out through the nearer end (front or back)
and across. Both the planned path and "in order-line order" are measured with the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AISLE_PITCH_M = 3.0
BAY_M = 1.4
#: waves of at most this many stops also try nearest-neighbour routing (quadratic, so small ones only)
NEAREST_MAX = 60
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Spot:
    """A bin's place: zone, aisle (as written), bay and level numbers."""

    zone: str
    aisle: str
    bay: int
    level: int


def _num(text: str, default: int) -> int:
    m = _DIGITS.search(text)
    return int(m.group(1)) if m else default


def spot_of(code: str, zone: str = "", walk_seq: int = 0) -> Spot:
    """Read zone, aisle, bay and level from a bin code (see the module doc)."""
    parts = [p for p in code.upper().split("-") if p]
    if zone and parts and parts[0] == zone.upper() and len(parts) > 1:
        parts = parts[1:]
    if len(parts) >= 3:
        return Spot(zone, parts[-3], _num(parts[-2], walk_seq), _num(parts[-1], 0))
    if len(parts) == 2:
        return Spot(zone, parts[0], _num(parts[1], walk_seq), 0)
    return Spot(zone, "", _num(parts[0], walk_seq) if parts else walk_seq, 0)


class Floor:
    """The aisles a set of bins lie in, placed side by side; distances and the serpentine order."""

    def __init__(self, spots: Iterable[Spot]) -> None:
        spots = list(spots)
        aisles = sorted({(s.zone, s.aisle) for s in spots})
        self.x = {a: (i + 1) * AISLE_PITCH_M for i, a in enumerate(aisles)}
        self.index = {a: i for i, a in enumerate(aisles)}
        self.length = (max((s.bay for s in spots), default=0) + 1) * BAY_M

    def xy(self, s: Spot) -> tuple[float, float]:
        return self.x[(s.zone, s.aisle)], s.bay * BAY_M

    def leg(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        (xa, ya), (xb, yb) = a, b
        if xa == xb:
            return abs(ya - yb)
        return abs(xa - xb) + min(ya + yb, 2 * self.length - ya - yb)

    def distance(self, stops: Sequence[Spot]) -> float:
        """Metres from the packing station through ``stops`` in this order and back."""
        here = (0.0, 0.0)
        total = 0.0
        for s in stops:
            nxt = self.xy(s)
            if nxt != here:
                total += self.leg(here, nxt)
                here = nxt
        return total + self.leg(here, (0.0, 0.0)) if stops else 0.0

    def serpentine(self, stops: Sequence[Spot]) -> list[int]:
        """Indexes of ``stops`` in walking order: the shortest (by ``distance``) of the routing rules
        below; a small wave also tries nearest-neighbour (few stops spread over many aisles is where
        walking every aisle end to end loses)."""
        candidates = [self._combined(stops), self._alternating(stops)]
        if len(stops) <= NEAREST_MAX:
            candidates.append(self._nearest(stops))
        return min(candidates, key=lambda order: self.distance([stops[i] for i in order]))

    def _by_aisle(self, stops: Sequence[Spot]) -> list[list[int]]:
        by_aisle: dict[int, list[int]] = {}
        for i, s in enumerate(stops):
            by_aisle.setdefault(self.index[(s.zone, s.aisle)], []).append(i)
        return [by_aisle[a] for a in sorted(by_aisle)]

    def _alternating(self, stops: Sequence[Spot]) -> list[int]:
        """The plain serpentine: up the first visited aisle, down the next, and so on."""
        out: list[int] = []
        for n, here in enumerate(self._by_aisle(stops)):
            up = n % 2 == 0
            out += sorted(here, key=lambda i: (stops[i].bay if up else -stops[i].bay, stops[i].level, i))
        return out

    def _combined(self, stops: Sequence[Spot]) -> list[int]:
        """Each visited aisle walked end to end, or entered and left at the same end when its stops
        lie near the cross aisle the picker is on (the "combined" rule of order-picking routing)."""
        out: list[int] = []
        front = True
        for here in self._by_aisle(stops):
            ys = [stops[i].bay * BAY_M for i in here]
            deep = max(ys) if front else self.length - min(ys)
            up = front
            out += sorted(here, key=lambda i: (stops[i].bay if up else -stops[i].bay, stops[i].level, i))
            if 2 * deep > self.length:
                front = not front
        return out

    def _nearest(self, stops: Sequence[Spot]) -> list[int]:
        left = list(range(len(stops)))
        left.sort(key=lambda i: (self.index[(stops[i].zone, stops[i].aisle)], stops[i].bay, stops[i].level, i))
        here = (0.0, 0.0)
        out: list[int] = []
        while left:
            best = min(left, key=lambda i: (self.leg(here, self.xy(stops[i])), stops[i].level))
            left.remove(best)
            out.append(best)
            here = self.xy(stops[best])
        return out
