"""Where a bin is on the floor, the order a picker walks bins in, and how far that walk is.

A bin code names its place: ``{zone}-{aisle}-{bay}-{level}`` (the seed: ``A-012-07-2``, reserve
``A-R03-05-1``; ``depot locations generate``: ``A01-07-2`` in a zone). The last three parts are
aisle, bay and level; codes that do not say so fall back on the bin's walk sequence as its bay.

The floor model is the usual one for a warehouse of parallel aisles: aisles side by side
(``AISLE_PITCH_M`` apart, zones one after the other in code order), bays along each aisle
(``BAY_M`` each), a cross aisle at the front and at the back, and the packing station at the front
before the first aisle. The planned path is a **serpentine**: aisles in order, each visited aisle
walked from the end nearer to the picker (up from the front, down from the back, so up the first,
down the next when they are walked end to end), each bay's levels together. The distance of any visiting order is the sum of
its legs: along an aisle when two stops share it, else out through the nearer end (front or back)
and across. Both the planned path and "in order-line order" are measured with the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AISLE_PITCH_M = 3.0
BAY_M = 1.4
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
        """Indexes of ``stops`` in walking order: aisles in order; each visited aisle walked from the
        end nearer to where the picker is (up from the front, down from the back: the serpentine),
        levels of a bay together."""
        by_aisle: dict[int, list[int]] = {}
        for i, s in enumerate(stops):
            by_aisle.setdefault(self.index[(s.zone, s.aisle)], []).append(i)
        out: list[int] = []
        y = 0.0
        for aisle in sorted(by_aisle):
            up = y <= self.length / 2
            here = sorted(by_aisle[aisle], key=lambda i: (stops[i].bay if up else -stops[i].bay, stops[i].level, i))
            out += here
            y = stops[here[-1]].bay * BAY_M
        return out
