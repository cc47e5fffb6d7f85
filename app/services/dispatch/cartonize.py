"""Cartonization: which of the configured boxes to pack a shipment in, before anyone packs.

Plain arithmetic on plain data (``suggest`` reads no database): one box when a box takes it all
(the smallest by volume whose inside fits every item's longest sides, whose volume at the fill
factor takes the units and whose weight limit takes them with its tare); otherwise the units are
laid first-fit-decreasing into the largest box that fits each item, and the lines that need more
than one box are named. Items without dimensions or weight count with a stated default, and the
suggestion says it estimated.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.packing import CartonType
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.masterdata import head_office_id

#: share of a box's inside volume that goods can fill (the rest is dunnage and air)
FILL = 0.85
#: what an item without figures is taken to be (mm, g)
DEFAULT_DIMS = (100, 100, 100)
DEFAULT_WEIGHT_G = 500


@dataclass(frozen=True)
class Box:
    code: str
    dims: tuple[int, int, int]
    max_weight_g: int
    tare_g: int

    @property
    def volume(self) -> int:
        return self.dims[0] * self.dims[1] * self.dims[2]

    def fits(self, dims: tuple[int, int, int]) -> bool:
        return all(a <= b for a, b in zip(sorted(dims, reverse=True), sorted(self.dims, reverse=True), strict=True))


@dataclass(frozen=True)
class Unit:
    """One line to pack: ``qty`` units of an item with its dimensions (mm) and weight (g)."""

    line_id: uuid.UUID
    sku: str
    qty: int
    dims: tuple[int, int, int]
    weight_g: int
    estimated: bool = False

    @property
    def volume(self) -> int:
        return self.dims[0] * self.dims[1] * self.dims[2]


@dataclass
class PlannedCarton:
    box: str
    #: line id -> units in this carton
    lines: dict[uuid.UUID, int] = field(default_factory=dict)
    volume: int = 0
    weight_g: int = 0
    fill_pct: int = 0


@dataclass
class CartonPlan:
    cartons: list[PlannedCarton]
    #: line id -> number of cartons it is spread over (only lines in more than one)
    split_lines: dict[uuid.UUID, int]
    #: why nothing fits, or that figures were estimated ('' when all is well)
    note: str = ""
    #: SKUs that fit no configured box at all
    unfit: list[str] = field(default_factory=list)

    def sentence(self, skus: dict[uuid.UUID, str] | None = None) -> str:
        if not self.cartons:
            return self.note or "nothing to pack"
        boxes: dict[str, int] = defaultdict(int)
        for c in self.cartons:
            boxes[c.box] += 1
        text = ", ".join(f"{n} x {b}" for b, n in boxes.items())
        if self.split_lines:
            names = [(skus or {}).get(k, str(k)[:8]) for k in self.split_lines]
            text += "; needs several cartons: " + ", ".join(f"{n} ({self.split_lines[k]})"
                                                            for n, k in zip(names, self.split_lines, strict=True))
        return text + (f" ({self.note})" if self.note else "")


def suggest(units: list[Unit], boxes: list[Box]) -> CartonPlan:
    units = [u for u in units if u.qty > 0]
    if not units:
        return CartonPlan([], {}, "nothing to pack")
    if not boxes:
        return CartonPlan([], {}, "no carton types are configured (depot carton-types --set, or the seed)")
    note = "estimated: some items have no dimensions or weight" if any(u.estimated for u in units) else ""
    by_size = sorted(boxes, key=lambda b: (b.volume, b.max_weight_g))
    total_v = sum(u.volume * u.qty for u in units)
    total_w = sum(u.weight_g * u.qty for u in units)
    for b in by_size:
        if all(b.fits(u.dims) for u in units) and total_v <= b.volume * FILL and total_w + b.tare_g <= b.max_weight_g:
            c = PlannedCarton(b.code, {u.line_id: u.qty for u in units}, total_v, total_w + b.tare_g,
                              round(100 * total_v / b.volume))
            return CartonPlan([c], {}, note)
    unfit = sorted({u.sku for u in units if not any(b.fits(u.dims) for b in boxes)})
    cartons: list[PlannedCarton] = []
    open_: list[tuple[Box, PlannedCarton]] = []
    for u in sorted(units, key=lambda x: (-x.volume, x.sku)):
        fitting = [b for b in by_size if b.fits(u.dims) and u.weight_g + b.tare_g <= b.max_weight_g
                   and u.volume <= b.volume * FILL]
        if not fitting:
            continue
        big = fitting[-1]
        for _ in range(u.qty):
            for box, c in open_:
                if box.fits(u.dims) and c.volume + u.volume <= box.volume * FILL and \
                        c.weight_g + u.weight_g <= box.max_weight_g:
                    break
            else:
                box, c = big, PlannedCarton(big.code, weight_g=big.tare_g)
                open_.append((box, c))
                cartons.append(c)
            c.lines[u.line_id] = c.lines.get(u.line_id, 0) + 1
            c.volume += u.volume
            c.weight_g += u.weight_g
    for box, c in open_:
        c.fill_pct = round(100 * c.volume / box.volume)
    spread: dict[uuid.UUID, int] = defaultdict(int)
    for c in cartons:
        for lid in c.lines:
            spread[lid] += 1
    if unfit:
        note = "; ".join(x for x in (note, f"fits no configured carton: {', '.join(unfit)}") if x)
    return CartonPlan(cartons, {k: v for k, v in spread.items() if v > 1}, note, unfit)


def boxes(session: Session) -> list[Box]:
    rows = session.scalars(select(CartonType).where(CartonType.deleted_at.is_(None), CartonType.active.is_(True)))
    return [Box(r.code, (r.length_mm, r.width_mm, r.height_mm), r.max_weight_g, r.tare_g) for r in rows]


def units_for(session: Session, wanted: dict[uuid.UUID, tuple[uuid.UUID, int]]) -> list[Unit]:
    """``{line id: (item id, qty)}`` -> units with the items' figures (defaults where missing)."""
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({v[0] for v in wanted.values()})))}
    out = []
    for lid, (item_id, qty) in wanted.items():
        it = items[item_id]
        dims = (it.length_mm or 0, it.width_mm or 0, it.height_mm or 0)
        est = not all(dims) or not it.weight_g
        out.append(Unit(lid, it.sku, qty, dims if all(dims) else DEFAULT_DIMS, it.weight_g or DEFAULT_WEIGHT_G, est))
    return out


def save_carton_type(session: Session, actor: Actor, code: str, *, length_mm: int, width_mm: int, height_mm: int,
                     max_weight_g: int, tare_g: int = 0, name: str = "", active: bool = True) -> CartonType:
    """Add or change a carton size (head-office master data; ``settings.edit``)."""
    actor.require("settings.edit")
    code = code.strip().upper()
    if not code or len(code) > 16:
        raise ValidationError("code", "1 to 16 characters")
    for what, v in (("length", length_mm), ("width", width_mm), ("height", height_mm)):
        if not 1 <= v <= 3000:
            raise ValidationError(what, "between 1 and 3,000 mm (inside dimensions)")
    if not 1 <= max_weight_g <= 1_000_000 or not 0 <= tare_g < max_weight_g:
        raise ValidationError("weight", "maximum weight 1 g to 1 t, tare below it")
    row = session.scalar(select(CartonType).where(CartonType.code == code))
    if row is None:
        row = CartonType(code=code, owner_branch_id=head_office_id(session))
        session.add(row)
    row.name, row.length_mm, row.width_mm, row.height_mm = name or code, length_mm, width_mm, height_mm
    row.max_weight_g, row.tare_g, row.active, row.deleted_at = max_weight_g, tare_g, active, None
    session.flush()
    return row
