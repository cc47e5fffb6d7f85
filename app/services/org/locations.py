"""Bins by pattern: aisles x bays x levels, numbered in serpentine walk order.

``generate_bins(..., aisles="A01-A20", bays="01-30", levels="1-5")`` makes 3,000 bins named
``A01-01-1`` ... in one bulk write. Their walk sequence is the order a picker walks them: up
aisle A01 (bays ascending), down A02 (bays descending), up A03 ..., every level of a bay before
the next bay, continuing after the warehouse's last walk sequence. A range is ``START-END``
with the same letter prefix (``A01-A20``, ``01-30``, ``1-5``) or single letters (``A-D``);
several parts are separated by commas (``A01-A05,B01-B05``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Location, Zone
from app.services import audit
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.errors import ValidationError
from app.services.org.setup import authorize
from app.services.org.sites import ROLES, find_warehouse, next_walk_seq
from app.services.site_rights import require_head_office

#: one call makes at most this many bins (a whole large warehouse, not a typo's worth)
MAX_BINS = 200_000
DEFAULT_PATTERN = "{aisle}-{bay}-{level}"
_NUMERIC = re.compile(r"^([A-Z]*)(\d+)-([A-Z]*)(\d+)$")
_LETTERS = re.compile(r"^([A-Z])-([A-Z])$")


def parse_range(text: str, field_name: str) -> list[str]:
    """``A01-A03`` -> A01, A02, A03; ``1-3`` -> 1, 2, 3; ``A-C`` -> A, B, C; ``X,Y`` -> X, Y."""
    out: list[str] = []
    parts = [p.strip().upper() for p in (text or "").split(",")]
    if not any(parts):
        raise ValidationError(field_name, "is required (e.g. A01-A20, 01-30 or 1-5)")
    for part in parts:
        if not part:
            raise ValidationError(field_name, f"{text!r} has an empty part")
        m = _NUMERIC.match(part)
        if m:
            p1, n1, p2, n2 = m.groups()
            if p1 != p2:
                raise ValidationError(field_name, f"{part}: both ends need the same prefix ({p1!r} vs {p2!r})")
            a, b = int(n1), int(n2)
            if a > b:
                raise ValidationError(field_name, f"{part}: the start is after the end")
            width = len(n1) if n1.startswith("0") or len(n1) == len(n2) else 0
            out += [f"{p1}{n:0{width}d}" for n in range(a, b + 1)]
            continue
        m = _LETTERS.match(part)
        if m:
            a, b = ord(m.group(1)), ord(m.group(2))
            if a > b:
                raise ValidationError(field_name, f"{part}: the start is after the end")
            out += [chr(c) for c in range(a, b + 1)]
            continue
        if "-" in part and not re.fullmatch(r"[A-Z0-9]+", part.replace("-", "")):
            raise ValidationError(field_name, f"{part!r} is not a range (use A01-A20, 01-30, 1-5 or A-D)")
        if not re.fullmatch(r"[A-Z0-9]+", part):
            raise ValidationError(field_name, f"{part!r} is not a range (use A01-A20, 01-30, 1-5 or A-D)")
        out.append(part)
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise ValidationError(field_name, f"{', '.join(dupes[:5])} named twice")
    return out


def serpentine(aisles: list[str], bays: list[str], levels: list[str]) -> Iterator[tuple[str, str, str]]:
    """(aisle, bay, level) in walk order: bays up the first aisle, down the next, and so on."""
    for i, aisle in enumerate(aisles):
        for bay in (bays if i % 2 == 0 else list(reversed(bays))):
            for level in levels:
                yield aisle, bay, level


@dataclass
class GenerateResult:
    warehouse: str
    count: int
    first_walk: int
    last_walk: int
    #: the first bins in walk order (code, walk sequence), for a preview
    sample: list[tuple[str, int]] = field(default_factory=list)
    written: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"warehouse": self.warehouse, "count": self.count, "walk_seq": [self.first_walk, self.last_walk],
                "sample": [{"code": c, "walk_seq": w} for c, w in self.sample], "written": self.written}


def generate_bins(session: Session, actor: Actor | None, warehouse: str, *, aisles: str, bays: str, levels: str,
                  role: str = "reserve", zone: str | None = None, pattern: str = DEFAULT_PATTERN,
                  capacity_volume_cm3: int = 1_000_000, capacity_weight_g: int = 1_000_000,
                  dry_run: bool = False) -> GenerateResult:
    """Make every aisle x bay x level bin of ``warehouse`` (or, with ``dry_run``, say what it would).

    Refused whole, with nothing written, when a code already exists in the warehouse."""
    authorize(session, actor)
    require_head_office(session, "bins", "add them at a head-office workstation")
    wh = find_warehouse(session, warehouse)
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(ROLES)}")
    for label, v in (("capacity volume", capacity_volume_cm3), ("capacity weight", capacity_weight_g)):
        if v < 0:
            raise ValidationError(label, f"{v} is negative")
    a, b, lv = parse_range(aisles, "aisles"), parse_range(bays, "bays"), parse_range(levels, "levels")
    total = len(a) * len(b) * len(lv)
    if total > MAX_BINS:
        raise ValidationError("bins", f"{total:,} bins is more than {MAX_BINS:,} in one go: generate them in parts")
    z = None
    if zone:
        z = session.scalar(select(Zone).where(Zone.warehouse_id == wh.id, Zone.code == zone.strip().upper(),
                                              Zone.deleted_at.is_(None)))
        if z is None:
            raise ValidationError("zone", f"unknown zone {zone.strip().upper()} in warehouse {wh.code} "
                                          "(add it first: Settings > Organisation, or depot zone add)")
    codes = [_code(pattern, wh.code, z.code if z else "", *abl) for abl in serpentine(a, b, lv)]
    if len(set(codes)) != len(codes):
        raise ValidationError("pattern", f"{pattern!r} gives several bins the same code: include {{aisle}}, {{bay}} "
                                         "and {level}")
    taken = set(session.scalars(select(Location.code).where(Location.warehouse_id == wh.id)))
    clash = [c for c in codes if c in taken]
    if clash:
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise ValidationError("bins", f"{clash[0]} already exists in warehouse {wh.code}{more}; nothing generated")
    start = next_walk_seq(session, wh.id)
    result = GenerateResult(wh.code, total, start, start + total - 1,
                            [(c, start + i) for i, c in enumerate(codes[:12])])
    if dry_run:
        return result
    stamp = Stamp.take(session)
    owner = wh.owner_branch_id.hex
    temp = z.temperature_class if z else "ambient"
    hazmat = z.hazmat_class if z else ""
    zone_id = z.id.hex if z else None
    writer = BulkInsert(session, Location, (
        "id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "warehouse_id", "zone_id", "code",
        "kind", "role", "capacity_volume_cm3", "capacity_weight_g", "temperature_class", "hazmat_class", "walk_seq"))
    writer.write((new_id(), owner, stamp.now, stamp.now, stamp.hlc, stamp.site, wh.id.hex, zone_id, code, "storage",
                  role, capacity_volume_cm3, capacity_weight_g, temp, hazmat, start + i) for i, code in enumerate(codes))
    audit.record(session, actor, "location.generate", "warehouse", wh.id, wh.owner_branch_id, warehouse=wh.code,
                 count=total, aisles=aisles, bays=bays, levels=levels, role=role, zone=z.code if z else "")
    result.written = True
    return result


def _code(pattern: str, warehouse: str, zone: str, aisle: str, bay: str, level: str) -> str:
    try:
        code = pattern.format(aisle=aisle, bay=bay, level=level, zone=zone, warehouse=warehouse).strip().upper()
    except (KeyError, IndexError, ValueError) as e:
        raise ValidationError("pattern", f"{pattern!r}: use {{aisle}}, {{bay}}, {{level}}, {{zone}} and "
                                         f"{{warehouse}} only ({e})") from None
    if not code or len(code) > 32:
        raise ValidationError("pattern", f"gives {code!r}: a bin code has 1 to 32 characters")
    return code
