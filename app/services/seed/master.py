"""Master data of the seed: sites, bins, items, suppliers, customers, carriers, users.

Everything is made from the seed's rng in a fixed order, so the same seed gives the
same rows. Master rows are owned by head office, as DESIGN.md says.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

from app.models.org import pack_location_id
from app.services.auth import _N, _P, _R
from app.services.seed.bulk import VERSIONED, hlc_of, iso, money, ms_of
from app.services.seed.spec import BRANCHES, Ctx, ItemRow

#: zone code -> (name, temperature class, hazmat class)
ZONES = {
    "AMB": ("Ambient racking", "ambient", ""),
    "CHL": ("Chilled room", "chilled", ""),
    "FRZ": ("Freezer", "frozen", ""),
    "HZ3": ("Hazmat cage, flammable (class 3)", "ambient", "3"),
    "HZ8": ("Hazmat cage, corrosive (class 8)", "ambient", "8"),
}

#: name, sku prefix, temperature, lot, serial, expiry, cost range (cents), case sizes, weight g, nouns
CATEGORIES = (
    ("Fasteners", "FAS", "ambient", False, False, False, (5, 200), (100, 250, 500), (5, 80),
     ("hex bolt", "wood screw", "anchor", "washer", "lock nut", "rivet")),
    ("Hand tools", "HND", "ambient", False, False, False, (300, 6000), (6, 12), (100, 2000),
     ("hammer", "screwdriver set", "pliers", "tape measure", "utility knife", "wrench")),
    ("Power tools", "PWR", "ambient", False, True, False, (4000, 40000), (1, 2), (1500, 6000),
     ("cordless drill", "angle grinder", "circular saw", "impact driver", "jigsaw")),
    ("Electrical", "ELE", "ambient", False, False, False, (100, 8000), (10, 25, 50), (20, 900),
     ("cable reel", "breaker", "outlet", "LED lamp", "junction box", "extension cord")),
    ("Plumbing", "PLB", "ambient", False, False, False, (100, 9000), (10, 20), (50, 3000),
     ("PVC elbow", "ball valve", "copper pipe", "faucet", "P-trap", "shutoff valve")),
    ("Janitorial", "JAN", "ambient", False, False, False, (200, 4000), (6, 12), (200, 5000),
     ("mop head", "trash liner", "paper towel", "hand soap", "floor cleaner")),
    ("Chemicals", "CHM", "ambient", True, False, False, (500, 12000), (4, 6, 12), (500, 20000),
     ("solvent", "degreaser", "acid cleaner", "paint thinner", "drain opener")),
    ("Packaging", "PKG", "ambient", False, False, False, (20, 3000), (50, 100, 500), (10, 800),
     ("carton", "stretch film", "packing tape", "bubble wrap", "pallet label")),
    ("Safety", "SAF", "ambient", False, False, False, (100, 5000), (12, 24), (30, 1200),
     ("safety glasses", "work gloves", "hard hat", "hi-vis vest", "ear plugs")),
    ("Grocery", "GRO", "ambient", True, False, True, (50, 1200), (12, 24, 48), (100, 3000),
     ("canned beans", "rice", "pasta", "coffee", "sugar", "olive oil")),
    ("Dairy", "DRY", "chilled", True, False, True, (80, 900), (12, 24), (200, 2000),
     ("UHT milk", "butter", "yogurt", "cheddar", "cream")),
    ("Frozen food", "FRZ", "frozen", True, False, True, (150, 2000), (8, 12, 24), (300, 3000),
     ("frozen peas", "ice cream", "fish fillet", "pizza", "fries")),
    ("Beverages", "BEV", "ambient", True, False, True, (40, 300), (12, 24), (350, 2000),
     ("sparkling water", "cola", "iced tea", "sports drink", "orange juice")),
    ("HVAC", "HVC", "ambient", False, False, False, (500, 20000), (1, 6), (300, 15000),
     ("air filter", "thermostat", "duct tape", "fan motor", "refrigerant gauge")),
)
ADJECTIVES = ("heavy-duty", "standard", "premium", "economy", "industrial", "compact", "pro", "value")
SIZES = ("small", "medium", "large", "10 pack", "25 pack", "1 l", "5 l", "40 mm", "80 mm", "XL")
COMPANY_WORDS = ("Acme", "Lone Star", "Gulf", "Summit", "Pioneer", "Frontier", "Atlas", "Keystone", "Red River",
                 "Mesa", "Prairie", "Harbor", "Cardinal", "Liberty", "Granite", "Sierra", "Delta", "Canyon")
COMPANY_KINDS = ("Supply", "Industrial", "Distribution", "Wholesale", "Foods", "Trading", "Products", "Brands")
CUSTOMER_KINDS = ("Builders", "Contractors", "Hardware", "Market", "Facilities", "Restaurants", "Hotels",
                  "Plumbing Co", "Electric", "Schools")
TIERS = (("platinum", 10, 250_000, 880, "next_day"), ("gold", 20, 100_000, 920, "two_day"),
         ("silver", 40, 40_000, 960, "standard"), ("bronze", 30, 10_000, 1000, "economy"))
CARRIERS = (
    ("SANDBOX", "Depot carrier sandbox", "sandbox",
     (("NEXT", "Sandbox Next Day", "next_day", 1), ("2DAY", "Sandbox 2 Day", "two_day", 2),
      ("GROUND", "Sandbox Ground", "standard", 4))),
    ("UPS", "United Parcel Service", "ups",
     (("01", "UPS Next Day Air", "next_day", 1), ("02", "UPS 2nd Day Air", "two_day", 2),
      ("03", "UPS Ground", "standard", 5))),
    ("FEDEX", "FedEx", "fedex",
     (("PRIORITY_OVERNIGHT", "FedEx Priority Overnight", "next_day", 1), ("FEDEX_2_DAY", "FedEx 2Day", "two_day", 2),
      ("FEDEX_GROUND", "FedEx Ground", "standard", 5))),
    ("DHL", "DHL eCommerce", "dhl",
     (("EXPRESS", "DHL Express", "two_day", 2), ("GROUND", "DHL Parcel Ground", "economy", 7))),
    ("USPS", "US Postal Service", "usps",
     (("PRIORITY", "USPS Priority Mail", "two_day", 2), ("GROUND_ADVANTAGE", "USPS Ground Advantage", "economy", 5))),
)
#: one user per role, password "demo" (documented in docs/data.md)
DEMO_PASSWORD = "demo"
USERS = (("buyer", "Bea Buyer"), ("approver", "Al Approver"), ("receiver", "Rita Receiver"),
         ("warehouse", "Wes Warehouse"), ("dispatcher", "Dana Dispatcher"), ("clerk", "Cleo Clerk"),
         ("manager", "Max Manager"), ("admin", "Ada Admin"))


def gtin14(indicator: int, ref: int) -> str:
    """A valid GTIN-14: packaging indicator, 12 digits of company prefix + item ref, check digit."""
    body = f"{indicator}{614141000000 + ref:012d}"
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))  # weights 3, 1, 3, ... from the left
    return body + str((10 - total % 10) % 10)


class _Clock:
    """Master data is adopted in one go a month before history starts: one timestamp for
    all of it, successive milliseconds for the ids so they keep creation order."""

    def __init__(self, ctx: Ctx) -> None:
        when = ctx.start() - dt.timedelta(days=30)
        self.base = ms_of(when)
        self.text = iso(when)
        self.n = 0

    def next(self) -> tuple[int, str]:
        self.n += 1
        return self.base + self.n, self.text


def _versioned(ctx: Ctx, clock: _Clock, owner: str) -> tuple[object, ...]:
    ms, ts = clock.next()
    return (ctx.ids.at_ms(ms), owner, ts, ts, hlc_of(ms), "")


def seed_master(ctx: Ctx, local_branch: str | None) -> str:
    """Create all master data; returns the id of the branch this file works for."""
    clock = _Clock(ctx)
    _org(ctx, clock)
    _parties(ctx, clock)
    _items(ctx, clock)
    _bins(ctx, clock)
    _carriers(ctx, clock)
    _carrier_accounts(ctx, clock)
    code = (local_branch or "DAL").strip().upper()
    if code not in ctx.branch_ids:
        from app.services.errors import ValidationError

        raise ValidationError("branch", f"unknown branch {code!r} (known: {', '.join(ctx.branch_ids)})")
    _users(ctx, clock, ctx.branch_ids[code])
    return ctx.branch_ids[code]


def _org(ctx: Ctx, clock: _Clock) -> None:
    rows = []
    for code, name, tz, addr in BRANCHES:
        v = _versioned(ctx, clock, "")
        bid = str(v[0])
        ctx.branch_ids[code] = bid
        rows.append((*v, code, name, tz, int(code == "HQ"), addr))
    ho = ctx.ho
    rows = [(r[0], ho, *r[2:]) for r in rows]  # head office owns every branch row, itself included
    ctx.bulk.insert("branch", (*VERSIONED, "code", "name", "timezone", "is_head_office", "address"), rows)
    whs, locs, zones = [], [], []
    for code, name, _tz, addr in BRANCHES[1:]:
        v = _versioned(ctx, clock, ho)
        wid = str(v[0])
        ctx.warehouses.append((wid, f"{code}1", code))
        whs.append((*v, ctx.branch_ids[code], f"{code}1", f"{name} distribution center", addr))
        ctx.virtual[wid] = {}
        for kind in ("dock", "qa", "supplier", "customer", "adjust", "transit", "scrap"):
            lv = _versioned(ctx, clock, ho)
            ctx.virtual[wid][kind] = str(lv[0])
            locs.append((*lv, wid, None, kind.upper(), kind, "", 0, 0, "ambient", "", 0, None, 0, 0, 1))
        # the packing location: its id derived from the warehouse (the migration's and create_warehouse's)
        pack_id = pack_location_id(uuid.UUID(wid)).hex
        ctx.virtual[wid]["pack"] = pack_id
        locs.append((pack_id, *v[1:], wid, None, "PACK", "pack", "", 0, 0, "ambient", "", 0, None, 0, 0, 1))
        ctx.reserve[wid] = {}
        ctx.zones[wid] = {}
        for zcode, (zname, temp, haz) in ZONES.items():
            zv = _versioned(ctx, clock, ho)
            zones.append((*zv, wid, zcode, zname, temp, haz))
            ctx.zones[wid][zcode] = str(zv[0])
            ctx.reserve[wid][zcode] = []
    ctx.bulk.insert("warehouse", (*VERSIONED, "branch_id", "code", "name", "address"), whs)
    ctx.bulk.insert("zone", (*VERSIONED, "warehouse_id", "code", "name", "temperature_class", "hazmat_class"), zones)
    ctx.bulk.insert("location", LOCATION_COLUMNS, locs)


LOCATION_COLUMNS = (*VERSIONED, "warehouse_id", "zone_id", "code", "kind", "role", "capacity_volume_cm3",
                    "capacity_weight_g", "temperature_class", "hazmat_class", "walk_seq", "fixed_item_id",
                    "min_qty", "max_qty", "active")


#: supplier address lines after the street: city, state and ZIP, as a supplier's own letterhead has them
SUPPLIER_CITIES = ("Dallas, TX 75247", "Houston, TX 77029", "Phoenix, AZ 85043", "Fort Worth, TX 76106",
                   "Oklahoma City, OK 73108", "Tulsa, OK 74107", "Albuquerque, NM 87107", "San Antonio, TX 78219",
                   "Memphis, TN 38118", "Denver, CO 80216", "Little Rock, AR 72206", "Austin, TX 78744")


def _parties(ctx: Ctx, clock: _Clock) -> None:
    rng, ho = ctx.rng, ctx.ho
    rows = []
    for n in range(1, ctx.spec.suppliers + 1):
        v = _versioned(ctx, clock, ho)
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {n}"
        code = f"SUP{n:04d}"
        edi = rng.random()
        qual, edi_id, fmt = ("", "", "")
        if edi < 0.3:
            qual, edi_id, fmt = "ZZ", f"{code}EDI", "x12"
        elif edi < 0.4:
            qual, edi_id, fmt = "14", f"{5060000000000 + n}", "edifact"
        city = SUPPLIER_CITIES[n % len(SUPPLIER_CITIES)]  # not from rng: the rest of the seed stays as it was
        rows.append((*v, code, name, f"orders@{code.lower()}.example", f"{rng.randint(100, 9999)} Industrial Way\n{city}",
                     "USD", rng.choice(("NET30", "NET30", "NET45", "NET60", "2/10NET30")), qual, edi_id, fmt,
                     int(rng.random() < 0.25), money(rng.choice(("0", "2", "5", "10"))), money("100"), 1))
        ctx.suppliers.append((str(v[0]), code, rng.randint(0, 4)))
    ctx.bulk.insert("supplier", (*VERSIONED, "code", "name", "contact_email", "address", "currency", "payment_terms",
                                 "edi_qualifier", "edi_id", "edi_format", "allows_consolidation",
                                 "over_receipt_pct", "under_receipt_pct", "active"), rows)
    rows = []
    branch_codes = [b[0] for b in BRANCHES[1:]]
    tier_names = [t[0] for t in TIERS]
    tier_weights = [t[1] for t in TIERS]
    tiers = {t[0]: t for t in TIERS}
    for n in range(1, ctx.spec.customers + 1):
        v = _versioned(ctx, clock, ho)
        tier = rng.choices(tier_names, tier_weights)[0]
        _t, _w, limit, factor, level = tiers[tier]
        home = branch_codes[(n - 1) % len(branch_codes)]
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(CUSTOMER_KINDS)} {n}"
        code = f"C{n:05d}"
        credit = (limit * rng.randint(6, 14) // 10) // 1000 * 1000
        # shipment notices (Tracking): most take all at the contact address; some have an address
        # of their own, some want only the delivery and the problems, some none (not from rng)
        notify_email = f"tracking@{code.lower()}.example" if n % 10 == 7 else ""
        notify_events = {3: "none", 5: "delivered,exception"}.get(n % 10, "shipped,eta,delivered,exception")
        rows.append((*v, code, name, f"ap@{code.lower()}.example", f"{rng.randint(1, 9999)} Main St, {home}",
                     tier, money(credit), "USD", rng.choice(("NET30", "NET30", "NET15", "NET45", "COD")), level,
                     ctx.branch_ids[home], 1, notify_email, notify_events))
        ctx.customers.setdefault(home, []).append((str(v[0]), tier, factor))
    ctx.bulk.insert("customer", (*VERSIONED, "code", "name", "contact_email", "ship_to", "priority_tier",
                                 "credit_limit", "currency", "payment_terms", "service_level", "home_branch_id",
                                 "active", "notify_email", "notify_events"), rows)


def _items(ctx: Ctx, clock: _Clock) -> None:
    rng, ho = ctx.rng, ctx.ho
    by_cat: dict[str, list[int]] = {}
    for s in range(len(ctx.suppliers)):
        for c in rng.sample(range(len(CATEGORIES)), 3):
            by_cat.setdefault(CATEGORIES[c][1], []).append(s)
    items, uoms, links = [], [], []
    for n in range(ctx.spec.items):
        cat = CATEGORIES[n % len(CATEGORIES)]
        name, prefix, temp, lot, serial, expiry, (c_lo, c_hi), cases, (w_lo, w_hi), nouns = cat
        hazmat = rng.choice(("3", "3", "8")) if prefix == "CHM" else ""
        velocity = rng.choices(("A", "B", "C"), (20, 30, 50))[0]
        cost_c = rng.randint(c_lo, c_hi)
        cost = cost_c * 100  # cents -> 1/10,000
        price = cost * rng.randint(130, 180) // 100
        case = rng.choice(cases)
        weight = rng.randint(w_lo, w_hi)
        dims = sorted((rng.randint(20, 400) for _ in range(3)), reverse=True)
        v = _versioned(ctx, clock, ho)
        iid = str(v[0])
        sku = f"{prefix}-{n + 1:05d}"
        desc = f"{rng.choice(nouns).capitalize()} {rng.choice(ADJECTIVES)} {rng.choice(SIZES)}"
        inspect = prefix == "CHM" or rng.random() < 0.05
        items.append((*v, sku, desc, "EA", gtin14(0, n), dims[0], dims[1], dims[2], weight, velocity, int(lot),
                      int(serial), int(expiry), int(inspect), hazmat, temp, name, cost, price, "USD", 1))
        pallet = case * rng.choice((20, 40, 60, 80)) if case > 1 else rng.choice((8, 16, 24))
        for ind, uom, factor in ((1, "CS", case), (2, "PL", pallet)):
            if factor > 1:
                uoms.append((*_versioned(ctx, clock, ho), iid, uom, factor, gtin14(ind, n)))
        pool = by_cat.get(prefix) or [n % len(ctx.suppliers)]
        chosen = rng.sample(pool, min(len(pool), 2 if rng.random() < 0.3 else 1))
        pref: tuple[int, int, float, int, int, int] = (0, 7, 1.0, 1, 1, 0)
        for k, s in enumerate(chosen):
            far = s % 10 == 9  # every tenth supplier imports: long, variable lead times
            lead = rng.randint(25, 45) if far else rng.randint(2, 14)
            sd = round(lead * rng.uniform(0.08, 0.3), 1)
            pack = case
            moq = pack * rng.choice((1, 1, 2, 4))
            contract = cost * rng.randint(90, 100) // 100
            contracted = rng.random() < 0.3
            links.append((*_versioned(ctx, clock, ho), iid, ctx.suppliers[s][0], f"{ctx.suppliers[s][1][-4:]}-{sku}",
                          lead, money(str(sd)), pack, moq, contract, contract, "USD", int(contracted), int(k == 0)))
            if k == 0:
                pref = (s, lead, sd, pack, moq, contract)
        ctx.items.append(ItemRow(iid, sku, name, velocity, cost, price, case, lot, serial, expiry, temp, hazmat, pref))
    ctx.bulk.insert("item", (*VERSIONED, "sku", "description", "base_uom", "gtin", "length_mm", "width_mm",
                             "height_mm", "weight_g", "velocity_class", "track_lot", "track_serial", "track_expiry",
                             "needs_inspection", "hazmat_class", "temperature_class", "category", "standard_cost",
                             "list_price", "currency", "active"), items)
    ctx.bulk.insert("item_uom", (*VERSIONED, "item_id", "uom", "factor", "gtin"), uoms)
    ctx.bulk.insert("item_supplier", (*VERSIONED, "item_id", "supplier_id", "supplier_part", "lead_time_days",
                                      "lead_time_sd_days", "pack_size", "min_order_qty", "contract_price",
                                      "last_price", "currency", "contracted", "preferred"), links)


def zone_of(item: ItemRow) -> str:
    if item.hazmat:
        return f"HZ{item.hazmat}"
    return {"chilled": "CHL", "frozen": "FRZ"}.get(item.temperature, "AMB")


def _bins(ctx: Ctx, clock: _Clock) -> None:
    """A pick face per item and warehouse (fixed item, min/max), then reserve pallet bins."""
    ho, rng = ctx.ho, ctx.rng
    zone_index = {z: i for i, z in enumerate(ZONES)}
    rows = []
    for wid, _code, _b in ctx.warehouses:
        counters = dict.fromkeys(ZONES, 0)
        zone_ids = ctx.zones[wid]
        for idx, item in enumerate(ctx.items):
            z = zone_of(item)
            k = counters[z]
            counters[z] += 1
            aisle, bay, level = k // 40 + 1, (k % 40) // 2 + 1, k % 2 + 1
            v = _versioned(ctx, clock, ho)
            ctx.pick_face[(wid, idx)] = str(v[0])
            temp, haz = ZONES[z][1], ZONES[z][2]
            max_qty = item.case * rng.choice((2, 4, 6, 10))
            rows.append((*v, wid, zone_ids[z], f"{z}-{aisle:03d}-{bay:02d}-{level}", "storage", "pick",
                         200_000, 150_000, temp, haz, zone_index[z] * 1_000_000 + aisle * 1000 + bay * 10 + level,
                         item.id, max_qty // 4, max_qty, 1))
        for z in ZONES:
            for k in range(ctx.spec.reserve_bins_per_zone):
                aisle, bay, level = k // 30 + 1, (k % 30) // 3 + 1, k % 3 + 1
                v = _versioned(ctx, clock, ho)
                ctx.reserve[wid][z].append(str(v[0]))
                rows.append((*v, wid, zone_ids[z], f"{z}-R{aisle:02d}-{bay:02d}-{level}", "storage", "reserve",
                             1_800_000, 1_000_000, ZONES[z][1], ZONES[z][2],
                             zone_index[z] * 1_000_000 + 500_000 + aisle * 1000 + bay * 10 + level, None, 0, 0, 1))
    ctx.bulk.insert("location", LOCATION_COLUMNS, rows)


def _carriers(ctx: Ctx, clock: _Clock) -> None:
    carriers, services = [], []
    for code, name, api, svcs in CARRIERS:
        v = _versioned(ctx, clock, ctx.ho)
        carriers.append((*v, code, name, api, 1))
        out = []
        for scode, sname, level, days in svcs:
            sv = _versioned(ctx, clock, ctx.ho)
            services.append((*sv, str(v[0]), scode, sname, level, days))
            out.append((str(sv[0]), level, days))
        ctx.carriers[code] = (str(v[0]), out)
    ctx.bulk.insert("carrier", (*VERSIONED, "code", "name", "api", "active"), carriers)
    ctx.bulk.insert("carrier_service", (*VERSIONED, "carrier_id", "code", "name", "service_level", "transit_days"),
                    services)


#: demo account numbers per carrier (shaped like the real ones: UPS 6, FedEx 9, DHL 9, USPS EPS 10)
ACCOUNT_NUMBERS = {"SANDBOX": "SANDBOX-{branch}", "UPS": "{b}7A1E", "FEDEX": "51{n:07d}", "DHL": "95{n:07d}",
                   "USPS": "10{n:08d}"}


def _carrier_accounts(ctx: Ctx, clock: _Clock) -> None:
    """One account per carrier for every shipping branch, all pointing at the built-in sandbox
    (``endpoint = "sandbox"``: wherever it runs; it accepts its public demo secret)."""
    rows: list[tuple[object, ...]] = []
    for n, (branch, bid) in enumerate(sorted(ctx.branch_ids.items()), 1):
        if bid == ctx.ho:
            continue
        for code, _name, _api, _svcs in CARRIERS:
            carrier_id, _services = ctx.carriers[code]
            v = _versioned(ctx, clock, bid)
            number = ACCOUNT_NUMBERS[code].format(branch=branch, b=branch[:2], n=n * 1000 + len(rows))
            options = '{"crid": "56982563", "mid": "904128936"}' if code == "USPS" else ""
            quota = 5000 if code == "DHL" else 0
            rows.append((*v, carrier_id, f"{branch} {code}", number, f"depot-{branch.lower()}-{code.lower()}",
                         "sandbox", "", 600, quota, options, 1))
    ctx.bulk.insert("carrier_account", (*VERSIONED, "carrier_id", "name", "account_number", "client_id", "endpoint",
                                        "services", "requests_per_minute", "daily_quota", "options", "active"), rows)


def _password_hash(ctx: Ctx, password: str) -> str:
    """The same scrypt format as ``auth.hash_password``, with a salt from the seed's rng."""
    salt = ctx.rng.getrandbits(128).to_bytes(16, "big")
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _users(ctx: Ctx, clock: _Clock, branch_id: str) -> None:
    users, roles = [], []
    # one hash for all: they share the documented demo password anyway, and scrypt is slow on purpose
    password_hash = _password_hash(ctx, DEMO_PASSWORD)
    for role, full in USERS:
        v = _versioned(ctx, clock, ctx.ho)
        users.append((*v, role, full, f"{role}@depot.example", password_hash, branch_id, 1))
        roles.append((*_versioned(ctx, clock, ctx.ho), str(v[0]), role))
        ctx.users[role] = str(v[0])
    ctx.bulk.insert("app_user", (*VERSIONED, "username", "full_name", "email", "password_hash", "branch_id", "active"),
                    users)
    ctx.bulk.insert("user_role", (*VERSIONED, "user_id", "role"), roles)
