"""Documents of the seed: the POs and SOs behind the history, and today's open work.

Open work is what the screens start from: POs still on their way (with expected receipts,
some announced by ASN with SSCC cartons), drafts waiting for approval, open and
backordered sales orders, and shipments in transit with tracking numbers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from app.models.tracking import derived_id
from app.services.carriers.sandbox.world import World
from app.services.seed.bulk import VERSIONED, hlc_of, iso, iso_ms
from app.services.seed.history import DAYS, History, Po, So
from app.services.seed.sales import seed_allocation, seed_sales
from app.services.seed.spec import Ctx

PO_COLUMNS = (*VERSIONED, "number", "revision", "supplier_id", "warehouse_id", "status", "order_date",
              "expected_date", "currency", "payment_terms", "rush", "requested_by_id", "approval_reasons", "notes")
PO_LINE_COLUMNS = (*VERSIONED, "po_id", "line_no", "item_id", "ship_to_warehouse_id", "qty_ordered", "qty_received",
                   "uom", "unit_price", "expected_date", "status")
ER_COLUMNS = (*VERSIONED, "number", "source", "po_id", "supplier_id", "warehouse_id", "expected_at", "dock",
              "status", "asn_ref", "carrier", "pro_number")
ER_LINE_COLUMNS = (*VERSIONED, "receipt_id", "po_line_id", "item_id", "qty_expected", "qty_received", "sscc",
                   "lot_code", "expiry_date")
SO_COLUMNS = (*VERSIONED, "number", "customer_id", "warehouse_id", "status", "order_date", "requested_date",
              "currency", "customer_po", "rush")
SO_LINE_COLUMNS = (*VERSIONED, "order_id", "line_no", "item_id", "qty_ordered", "qty_allocated", "qty_shipped",
                   "unit_price", "status")
SHIPMENT_COLUMNS = (*VERSIONED, "number", "sales_order_id", "warehouse_id", "carrier_id", "service_id",
                    "tracking_number", "status", "shipped_at", "eta", "next_poll_at", "promised_date", "moved_at")
#: the demo's tracking policy for each branch: its carrier sandbox runs 60 times faster than the
#: clock, so it polls 60 times more often than a real branch would (labels every 6 min, moving
#: parcels every minute; Settings > Tracking shows and changes it)
DEMO_TRACKING_POLICY = {"label_minutes": 6, "transit_minutes": 1, "out_minutes": 1, "trouble_minutes": 1,
                        "unknown_minutes": 5, "stale_days": 5, "lease_minutes": 15}


def sscc18(serial: int) -> str:
    """A valid SSCC-18: extension digit, GS1 company prefix, serial reference, check digit."""
    body = f"0{614141:07d}{serial:09d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class _Numbers:
    """Branch-prefixed document numbers, handed out in time order; saved as number series."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.next: Counter[tuple[str, str]] = Counter()
        self.branch_of = {wid: b for wid, _c, b in ctx.warehouses}

    def take(self, warehouse_id: str, doc: str) -> str:
        b = self.branch_of[warehouse_id]
        self.next[(b, doc)] += 1
        return f"{b}-{doc}-{self.next[(b, doc)]:06d}"

    def save(self) -> None:
        ctx = self.ctx
        ms = _ms_today(ctx)
        rows = [(ctx.ids.at_ms(ms), ctx.branch_ids[b], iso_ms(ms), iso_ms(ms), hlc_of(ms), "",
                 ctx.branch_ids[b], doc, n + 1, 6) for (b, doc), n in sorted(self.next.items())]
        ctx.bulk.insert("number_series", (*VERSIONED, "branch_id", "doc_type", "next_value", "width"), rows)


def _ms_today(ctx: Ctx) -> int:
    start = ctx.start() + dt.timedelta(days=DAYS)
    return int(start.timestamp() * 1000)


def _vers(ctx: Ctx, ms: int, owner: str, row_id: str | None = None) -> tuple[object, ...]:
    ts = iso_ms(ms)
    return (row_id or ctx.ids.at_ms(ms), owner, ts, ts, hlc_of(ms), "")


def _day(ctx: Ctx, day: int) -> dt.date:
    return ctx.today - dt.timedelta(days=DAYS - day)


class _DayText:
    """The ISO text of a history day, made once per day (the documents write 650,000 of them)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.text: dict[int, str] = {}

    def __call__(self, day: int) -> str:
        text = self.text.get(day)
        if text is None:
            text = self.text[day] = _day(self.ctx, day).isoformat()
        return text


def seed_documents(ctx: Ctx, hist: History) -> None:
    numbers = _Numbers(ctx)
    _purchase_orders(ctx, hist, numbers)
    _extra_open_pos(ctx, numbers)
    shipped = _sales_orders(ctx, hist, numbers)
    _open_sales_orders(ctx, numbers)
    _shipments(ctx, shipped, numbers)
    seed_sales(ctx, numbers.take)
    seed_allocation(ctx, numbers.take)
    numbers.save()


def _purchase_orders(ctx: Ctx, hist: History, numbers: _Numbers) -> None:
    rng = ctx.rng
    owner_of = {wid: ctx.branch_ids[b] for wid, _c, b in ctx.warehouses}
    pos, lines, ers, er_lines = [], [], [], []
    carton = 0
    day_text = _DayText(ctx)
    for po in sorted(hist.pos.values(), key=lambda p: (p.ms, p.id)):
        owner = owner_of[po.warehouse_id]
        open_lines = [ln for ln in po.lines if ln.arrival_day >= DAYS]
        if not open_lines:
            status = "closed"
        elif len(open_lines) < len(po.lines):
            status = "partially_received"
        else:
            status = "confirmed" if rng.random() < 0.6 else "sent"
        number = numbers.take(po.warehouse_id, "PO")
        expected = max(ln.expected_day for ln in po.lines)
        pos.append((*_vers(ctx, po.ms, owner, po.id), number, 0, ctx.suppliers[po.supplier][0], po.warehouse_id,
                    status, day_text(po.order_day), day_text(expected), "USD", "NET30", 0,
                    ctx.users["buyer"], "", ""))
        for n, ln in enumerate(po.lines, 1):
            arrived = ln.arrival_day < DAYS
            item = ctx.items[ln.item]
            uom = "CS" if item.case > 1 and ln.qty % item.case == 0 else "EA"
            lines.append((*_vers(ctx, ln.ms, owner, ln.id), po.id, n, item.id, po.warehouse_id, ln.qty,
                          ln.qty if arrived else 0, uom, ln.price, day_text(ln.expected_day),
                          "received" if arrived else "open"))
        if not open_lines:
            continue
        eta = min(ln.arrival_day for ln in open_lines)
        asn = status == "confirmed" and rng.random() < 0.5
        er_ms = po.ms + 1000
        er_id = ctx.ids.at_ms(er_ms)
        when = dt.datetime.combine(_day(ctx, eta), dt.time(8 + rng.randint(0, 8)), dt.UTC)
        ers.append((*_vers(ctx, er_ms, owner, er_id), numbers.take(po.warehouse_id, "ER"), "asn" if asn else "po",
                    po.id, ctx.suppliers[po.supplier][0], po.warehouse_id, iso(when), f"D{rng.randint(1, 6)}",
                    "expected", f"ASN{number[-6:]}{rng.randint(10, 99)}" if asn else "",
                    rng.choice(("Estes", "ODFL", "XPO", "Saia")) if asn else "",
                    f"{rng.randint(10**9, 10**10 - 1)}" if asn else ""))
        for k, ln in enumerate(open_lines):
            item = ctx.items[ln.item]
            sscc = lot = ""
            expiry = None
            if asn:
                carton += 1
                sscc = sscc18(carton)
                if item.track_lot:
                    lot = f"SUP{_day(ctx, po.order_day):%y%m%d}"
                    if item.track_expiry:
                        expiry = (_day(ctx, eta) + dt.timedelta(days=rng.randint(60, 365))).isoformat()
            er_lines.append((*_vers(ctx, er_ms + k + 1, owner), er_id, ln.id, item.id, ln.qty, 0, sscc, lot, expiry))
    ctx.bulk.insert("purchase_order", PO_COLUMNS, pos)
    ctx.bulk.insert("purchase_order_line", PO_LINE_COLUMNS, lines)
    ctx.bulk.insert("expected_receipt", ER_COLUMNS, ers)
    ctx.bulk.insert("expected_receipt_line", ER_LINE_COLUMNS, er_lines)


def _extra_open_pos(ctx: Ctx, numbers: _Numbers) -> None:
    """POs not yet sent (draft, waiting for approval, approved): the buyer's desk today."""
    rng = ctx.rng
    by_supplier: dict[int, list[int]] = {}
    for idx, item in enumerate(ctx.items):
        by_supplier.setdefault(item.supplier[0], []).append(idx)
    suppliers = sorted(by_supplier)
    ms0 = _ms_today(ctx) - 3600_000
    pos, lines = [], []
    for n in range(ctx.spec.extra_open_pos):
        wid, _c, b = ctx.warehouses[n % len(ctx.warehouses)]
        owner = ctx.branch_ids[b]
        s = rng.choice(suppliers)
        ms = ms0 + n * 10
        po_id = ctx.ids.at_ms(ms)
        status = ("draft", "pending_approval", "approved")[n % 3]
        picked = rng.sample(by_supplier[s], min(len(by_supplier[s]), rng.randint(1, 6)))
        lead = max(ctx.items[i].supplier[1] for i in picked)
        pos.append((*_vers(ctx, ms, owner, po_id), numbers.take(wid, "PO"), 0, ctx.suppliers[s][0], wid, status,
                    ctx.today.isoformat(), (ctx.today + dt.timedelta(days=lead)).isoformat(), "USD", "NET30",
                    int(rng.random() < 0.1), ctx.users["buyer"],
                    "total above the buyer's limit" if status == "pending_approval" else "", ""))
        for k, i in enumerate(picked, 1):
            item = ctx.items[i]
            qty = item.supplier[4] * rng.randint(1, 3)
            lines.append((*_vers(ctx, ms + k, owner), po_id, k, item.id, wid, qty, 0, "EA", item.supplier[5],
                          (ctx.today + dt.timedelta(days=item.supplier[1])).isoformat(), "open"))
    ctx.bulk.insert("purchase_order", PO_COLUMNS, pos)
    ctx.bulk.insert("purchase_order_line", PO_LINE_COLUMNS, lines)


def _sales_orders(ctx: Ctx, hist: History, numbers: _Numbers) -> list[So]:
    """Closed orders behind the sale moves; the last days' orders are shipped, some still in transit."""
    rng = ctx.rng
    owner_of = {wid: ctx.branch_ids[b] for wid, _c, b in ctx.warehouses}
    branch_of = {wid: b for wid, _c, b in ctx.warehouses}
    recent = [so for so in hist.sos.values() if so.day >= DAYS - 3]
    recent.sort(key=lambda s: (s.ms, s.id))
    in_transit = {so.id for so in rng.sample(recent, min(len(recent), ctx.spec.shipments_in_transit))}
    orders, lines = [], []
    shipped: list[So] = []
    day_text = _DayText(ctx)
    for so in sorted(hist.sos.values(), key=lambda s: (s.ms, s.id)):
        owner = owner_of[so.warehouse_id]
        if so.id in in_transit:
            # every eighth one has its label but waits for the carrier's pickup: its order is packed
            status, line_status = ("packed" if len(shipped) % 8 == 3 else "shipped"), "shipped"
            shipped.append(so)
        elif so.day >= DAYS - 3:
            status, line_status = "delivered", "shipped"
        else:
            status, line_status = "closed", "closed"
        cust = ctx.customers[branch_of[so.warehouse_id]][so.customer]
        orders.append((*_vers(ctx, so.ms, owner, so.id), numbers.take(so.warehouse_id, "SO"), cust[0], so.warehouse_id,
                       status, day_text(so.day), day_text(so.day), "USD",
                       f"CPO-{rng.randint(10000, 99999)}", 0))
        for n, (lid, idx, qty, price) in enumerate(so.lines, 1):
            lines.append((*_vers(ctx, so.ms + n, owner, lid), so.id, n, ctx.items[idx].id, qty, 0, qty, price,
                          line_status))
    ctx.bulk.insert("sales_order", SO_COLUMNS, orders)
    ctx.bulk.insert("sales_order_line", SO_LINE_COLUMNS, lines)
    return shipped


def _open_sales_orders(ctx: Ctx, numbers: _Numbers) -> None:
    """Today's order book: open lines, backorders where stock is short, a few credit holds."""
    rng = ctx.rng
    orders, lines = [], []
    made = 0
    ms0 = _ms_today(ctx) - 2 * 3600_000
    n = 0
    while made < ctx.spec.open_order_lines:
        wid, _c, b = ctx.warehouses[n % len(ctx.warehouses)]
        owner = ctx.branch_ids[b]
        custs = ctx.customers[b]
        c = rng.randrange(len(custs))
        ms = ms0 + n * 10
        so_id = ctx.ids.at_ms(ms)
        k = min(rng.randint(1, 8), ctx.spec.open_order_lines - made)
        short = False
        for ln in range(1, k + 1):
            idx = rng.randrange(len(ctx.items))
            item = ctx.items[idx]
            qty = 1 if item.track_serial else item.case * rng.randint(1, 3)
            back = ctx.on_hand.get((wid, idx), 0) < qty
            short |= back
            lines.append((*_vers(ctx, ms + ln, owner), so_id, ln, item.id, qty, 0, 0, item.price * custs[c][2] // 1000,
                          "open"))
        # allocation decides allocated / backordered, credit control the holds (seed.sales); the draw
        # that once picked random holds stays, so the rest of the seed is unchanged
        if not short:
            rng.random()
        status = "open"
        day = ctx.today - dt.timedelta(days=rng.randint(0, 3))
        orders.append((*_vers(ctx, ms, owner, so_id), numbers.take(wid, "SO"), custs[c][0], wid, status,
                       day.isoformat(), (ctx.today + dt.timedelta(days=rng.randint(1, 10))).isoformat(), "USD",
                       f"CPO-{rng.randint(10000, 99999)}", int(rng.random() < 0.08)))
        made += k
        n += 1
    ctx.bulk.insert("sales_order", SO_COLUMNS, orders)
    ctx.bulk.insert("sales_order_line", SO_LINE_COLUMNS, lines)


def tracking_number(carrier: str, n: int) -> str:
    """A tracking number in the shape ``carrier`` issues (the poller refuses another carrier's shape)."""
    return {
        "SANDBOX": f"SBX{n:012d}",
        "UPS": f"1ZDEP0010{n:09d}",
        "FEDEX": f"{700000000000 + n:012d}",
        "DHL": f"{3000000000 + n:010d}",
        "USPS": f"9400{n:018d}",
    }[carrier]


def _shipments(ctx: Ctx, shipped: list[So], numbers: _Numbers) -> None:
    """Shipments in transit: the demo tracks them with the built-in carrier sandbox."""
    rng = ctx.rng
    owner_of = {wid: ctx.branch_ids[b] for wid, _c, b in ctx.warehouses}
    codes = ["SANDBOX"] if ctx.spec.name == "demo" else ["SANDBOX", "SANDBOX", "UPS", "FEDEX", "DHL", "USPS"]
    today0 = dt.datetime.combine(ctx.today, dt.time(0), dt.UTC)
    demo = ctx.spec.name == "demo"
    rows = []
    for n, so in enumerate(shipped, 1):
        code = rng.choice(codes)
        carrier_id, services = ctx.carriers[code]
        svc_id, _level, days = rng.choice(services)
        ship_at = dt.datetime.combine(_day(ctx, so.day), dt.time(17, rng.randint(0, 59)), dt.UTC)
        eta = ship_at + dt.timedelta(days=days)
        poll = today0 + dt.timedelta(minutes=rng.randint(0, 12 * 60))
        number = tracking_number(code, n)
        label_only = (n - 1) % 8 == 3  # its order is packed (see _sales_orders)
        # promised: the service's days (at least four: the customer was promised a date, not a
        # service), and a day's margin for most (not from rng: the rest of the seed stays as it was)
        margin = 0 if n % 5 == 0 else 1
        promised = (ship_at + dt.timedelta(days=max(days, 4) + margin)).date()
        if demo and not _known_to_sandbox(number):
            ship_at -= dt.timedelta(days=6)  # the carrier never heard of it: tracking goes stale at once
            promised -= dt.timedelta(days=6)
        ms = int(ship_at.timestamp() * 1000) + n
        rows.append((*_vers(ctx, ms, owner_of[so.warehouse_id]), numbers.take(so.warehouse_id, "SH"), so.id,
                     so.warehouse_id, carrier_id, svc_id, number, "label_created" if label_only else "in_transit",
                     iso(ship_at), iso(eta), iso(today0 if demo else poll), promised.isoformat(), iso(ship_at)))
    ctx.bulk.insert("shipment", SHIPMENT_COLUMNS, rows)
    if demo:
        _tracking_policies(ctx)


def _known_to_sandbox(number: str) -> bool:
    """Whether the built-in carrier sandbox tells a story for this number (about 28 in 29)."""
    return World().known(number)


def _tracking_policies(ctx: Ctx) -> None:
    ms = _ms_today(ctx)
    cols = tuple(DEMO_TRACKING_POLICY)
    rows = [(*_vers(ctx, ms, bid, derived_id("tracking-policy", _uuid(bid)).hex), *DEMO_TRACKING_POLICY.values(), "seed")
            for _code, bid in sorted(ctx.branch_ids.items()) if bid != ctx.ho]
    ctx.bulk.insert("tracking_policy", (*VERSIONED, *cols, "updated_by"), rows)


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


__all__ = ["Po", "seed_documents", "sscc18"]
