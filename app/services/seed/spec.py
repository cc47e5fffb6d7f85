"""What a seed size means, and the state the seed's stages share.

Sizes are data, not code paths: demo and large run the same generator with different
figures, so what the tests prove on demo holds for large.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from app.services.seed.bulk import Bulk, IdGen


@dataclass(frozen=True)
class SizeSpec:
    name: str
    items: int
    suppliers: int
    customers: int
    reserve_bins_per_zone: int
    #: sale events per item and warehouse in a year, by velocity class
    sales_per_year: dict[str, tuple[int, int]]
    #: days of stock one replenishment order covers (min, max)
    cover_days: tuple[int, int]
    #: sale moves of the last N days get closed sales orders behind them (all: 366)
    sales_doc_days: int
    open_order_lines: int
    shipments_in_transit: int
    extra_open_pos: int


SIZES: dict[str, SizeSpec] = {
    "demo": SizeSpec(
        name="demo", items=500, suppliers=40, customers=150, reserve_bins_per_zone=12,
        sales_per_year={"A": (150, 260), "B": (40, 80), "C": (8, 20)},
        cover_days=(21, 45), sales_doc_days=366, open_order_lines=300, shipments_in_transit=40,
        extra_open_pos=12,
    ),
    "large": SizeSpec(
        name="large", items=50_000, suppliers=400, customers=3_000, reserve_bins_per_zone=200,
        sales_per_year={"A": (16, 26), "B": (6, 10), "C": (2, 4)},
        cover_days=(90, 150), sales_doc_days=14, open_order_lines=20_000, shipments_in_transit=5_000,
        extra_open_pos=150,
    ),
}

#: the branches every seed makes: (code, name, timezone, address)
BRANCHES = (
    ("HQ", "Head office", "America/Chicago", "100 Commerce St, Dallas TX 75202"),
    ("DAL", "Dallas", "America/Chicago", "2400 Irving Blvd, Dallas TX 75207"),
    ("HOU", "Houston", "America/Chicago", "8800 Market St, Houston TX 77029"),
    ("PHX", "Phoenix", "America/Phoenix", "4300 W Buckeye Rd, Phoenix AZ 85043"),
)

Progress = Callable[[int, int, str], None]


@dataclass
class ItemRow:
    """What later stages need to know about an item (kept small: large has 50,000)."""

    id: str
    sku: str
    category: str
    velocity: str
    cost: int  # stored money
    price: int
    case: int
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    temperature: str
    hazmat: str
    #: (supplier index, lead days, lead sd days, pack, moq, price) of the preferred supplier
    supplier: tuple[int, int, float, int, int, int] = (0, 7, 1.0, 1, 1, 0)


@dataclass
class Ctx:
    spec: SizeSpec
    rng: random.Random
    ids: IdGen
    bulk: Bulk
    today: dt.date
    progress: Progress
    #: the latest moment anything may be stamped (``seed_clock``)
    clock: dt.datetime
    branch_ids: dict[str, str] = field(default_factory=dict)
    warehouses: list[tuple[str, str, str]] = field(default_factory=list)  # (id, code, branch code)
    #: warehouse id -> kind -> location id (dock, qa, supplier, customer, adjust, transit, scrap)
    virtual: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (warehouse id, item index) -> pick-face location id
    pick_face: dict[tuple[str, int], str] = field(default_factory=dict)
    #: warehouse id -> zone code -> zone id
    zones: dict[str, dict[str, str]] = field(default_factory=dict)
    #: warehouse id -> zone code -> list of reserve bin ids
    reserve: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    items: list[ItemRow] = field(default_factory=list)
    suppliers: list[tuple[str, str, int]] = field(default_factory=list)  # (id, code, order weekday)
    #: branch code -> customer (id, tier, price factor per mille)
    customers: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    carriers: dict[str, tuple[str, list[tuple[str, str, int]]]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    #: final on hand per (warehouse id, item index), for open orders and backorders
    on_hand: dict[tuple[str, int], int] = field(default_factory=dict)
    #: scratch directory of the history workers' chunk files and the names they are attached as
    scratch: tuple[str, list[str]] | None = None
    #: the seed number (stages with a random stream of their own derive it from this)
    seed: int = 1

    @property
    def ho(self) -> str:
        return self.branch_ids["HQ"]

    @functools.cached_property
    def stored(self) -> StoredIds:
        """The master ids the history's rows carry, as the 16 bytes SQLite stores (made once, after
        the master data; the forked workers inherit them)."""
        return StoredIds(self)

    def start(self) -> dt.datetime:
        """Midnight UTC of the first day of history (a year before today)."""
        d = self.today - dt.timedelta(days=365)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


class StoredIds:
    """``Ctx``'s ids in stored form, for the rows the history workers and the legacy history make:
    16 bytes as a ``bytearray``, which sqlite3 binds directly (``bulk.stored_ids``). The rows carry
    these very objects, so nothing converts 2 million moves' ids on large. A bytearray is no dict
    key: the history keys its sums by the object (``id()``), exact because this holds one object
    per id value. Python-side keys (``Ctx.on_hand``, ``Po``, ``So``) stay hex."""

    def __init__(self, ctx: Ctx) -> None:
        one: dict[str, bytearray] = {}

        def raw(hex_id: str) -> bytearray:
            found = one.get(hex_id)
            if found is None:
                found = one[hex_id] = bytearray.fromhex(hex_id)
            return found

        self.branch = {code: raw(b) for code, b in ctx.branch_ids.items()}
        #: per warehouse index
        self.warehouse = [raw(w) for w, _c, _b in ctx.warehouses]
        #: warehouse id (hex) -> kind -> location id
        self.virtual = {w: {k: raw(loc) for k, loc in kinds.items()} for w, kinds in ctx.virtual.items()}
        self.pick_face = {key: raw(loc) for key, loc in ctx.pick_face.items()}
        self.users = {role: raw(u) for role, u in ctx.users.items()}
        #: per item index
        self.items = [raw(i.id) for i in ctx.items]


def seed_clock(today: dt.date, now: dt.datetime) -> dt.datetime:
    """The latest moment the seed may stamp: the end of ``today`` for a day already past (tests pin
    one), else ``now``. Today's morning orders and yesterday's deliveries must not lie after the
    moment the seed runs: seeded at 01:37 UTC they did (09:36 that day), and a server refuses such
    rows when head office publishes them."""
    end_of_day = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), dt.UTC) - dt.timedelta(microseconds=1)
    return min(end_of_day, now)
