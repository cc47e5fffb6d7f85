"""The order desk of the seed: customers' credit terms, price lists, open receivables, orders for
scarce items where the allocation policy matters, and (after the load) yesterday's allocation run.

Two stages. ``seed_sales`` runs inside the bulk load (raw rows, like the rest of the documents):
customer terms (price group, ship-complete, overdue rule, a few on credit stop), credit limits that
fit most customers' exposure (a few sit over theirs), price lists per group and for the biggest
customers, open invoices (a few far past due), customers that trade by EDI, and for a handful of
scarce items per warehouse a low-tier order that came first and better-tier orders that came later.
``seed_allocation`` then settles yesterday's book with the real engine (pure: it reads a snapshot
and computes a plan) and writes the result as rows, so the seed stays a deterministic bulk load:
credit control stops the customers it must (the holds carry their reasons), yesterday's run (first
come, first served) allocates every order up to yesterday, then each warehouse gets the everyday
policy (tier first) so the Allocation screen's simulation shows today's orders taking their place
and stock moving to better tiers. Its own random stream keeps the rest of the seed as it was.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from app.services.id_storage import HexIds
from app.services.seed.bulk import LEDGER, VERSIONED, hlc_of, iso, iso_ms, stored_ids
from app.services.seed.spec import Ctx

GROUPS = {"platinum": ("CONTRACT", 0.6), "gold": ("CONTRACT", 0.5), "silver": ("TRADE", 0.5), "bronze": ("TRADE", 0.2)}
#: customers that send their orders by EDI (the demo's 850 / ORDERS files name them)
EDI_CUSTOMERS = (("C00001", "ZZ", "BUILDMART", "x12"), ("C00002", "14", "5412345000013", "edifact"))


def _ms(ctx: Ctx, days_ago: int = 0, extra: int = 0) -> int:
    start = dt.datetime.combine(ctx.today - dt.timedelta(days=days_ago), dt.time(7), dt.UTC)
    return int(start.timestamp() * 1000) + extra


def seed_sales(ctx: Ctx, take_number: Any) -> None:
    """Customer terms, price lists, receivables and scarce-item orders (inside the load)."""
    rng = random.Random(f"depot-sales-{ctx.seed}-{ctx.spec.name}")
    conn = ctx.bulk.conn
    ctx.bulk.flush()  # the documents' rows first: this stage reads them
    exposure = {str(c): int(v or 0) for c, v in conn.execute(
        "SELECT lower(hex(o.customer_id)), SUM(l.qty_ordered * l.unit_price) FROM sales_order o JOIN sales_order_line l "
        "ON l.order_id = o.id WHERE o.status NOT IN ('closed', 'cancelled', 'invoiced') GROUP BY o.customer_id")}
    customers = [(cid, tier, branch) for branch, rows in sorted(ctx.customers.items()) for cid, tier, _f in rows]
    codes = {str(i): c for i, c in conn.execute("SELECT lower(hex(id)), code FROM customer")}
    updates, invoices = [], []
    ms = _ms(ctx, 1)
    n_inv = 0
    for cid, tier, _branch in customers:
        group, share = GROUPS.get(tier, ("", 0))
        price_group = group if rng.random() < share else ""
        ship_complete = rng.random() < 0.08
        roll = rng.random()
        overdue_days = 30 if roll < 0.7 else 45 if roll < 0.9 else None
        stop = rng.random() < 0.01
        owed = exposure.get(cid, 0)
        kind = rng.random()
        # most customers have room; a few sit over their limit or pay late
        limit = max(5_000_0000, int(owed * rng.uniform(1.8, 3.0)))
        if kind < 0.03 and owed:
            limit = int(owed * rng.uniform(0.5, 0.9))
        limit = (limit // 1000_0000 + 1) * 1000_0000
        overdue = kind > 0.975 and overdue_days is not None
        updates.append((price_group, int(ship_complete), int(stop), "cheque returned unpaid" if stop else "",
                        overdue_days, limit, cid))
        for k in range(rng.choice((0, 1, 1, 2, 3))):
            n_inv += 1
            days_ago = rng.randint(50, 90) if overdue and k == 0 else rng.randint(2, 40)
            inv_date = ctx.today - dt.timedelta(days=days_ago)
            amount = max(50_0000, int(limit * rng.uniform(0.02, 0.12)) // 100 * 100)
            invoices.append((ctx.ids.at_ms(ms + n_inv), ctx.ho, iso_ms(ms + n_inv), cid, "opening",
                             f"L{n_inv:07d}", inv_date.isoformat(), (inv_date + dt.timedelta(days=30)).isoformat(),
                             amount, "USD", "import"))
    conn.executemany("UPDATE customer SET price_group = ?, ship_complete = ?, credit_hold = ?, credit_note = ?, "
                     "overdue_days = ?, credit_limit = ? WHERE id = ?", stored_ids(updates, (6,)))
    for code, qual, edi_id, fmt in EDI_CUSTOMERS:
        conn.execute("UPDATE customer SET edi_qualifier = ?, edi_id = ?, edi_format = ? WHERE code = ?",
                     (qual, edi_id, fmt, code))
    conn.execute("UPDATE sales_order SET ship_complete = 1 WHERE customer_id IN "
                 "(SELECT id FROM customer WHERE ship_complete = 1)")
    ctx.bulk.insert("receivable_entry", (*LEDGER, "customer_id", "kind", "doc_number", "doc_date", "due_date", "amount",
                                         "currency", "source"), invoices)
    _price_lists(ctx, rng, codes, [c for c, t, _b in customers if t == "platinum"])
    _scarce_orders(ctx, rng, take_number)


def _price_lists(ctx: Ctx, rng: random.Random, codes: dict[str, str], platinum: list[str]) -> None:
    ms = _ms(ctx, 300)
    year = dt.date(ctx.today.year, 1, 1).isoformat()
    heads, lines = [], []
    n = 0

    def head(code: str, name: str, customer: str | None, group: str) -> str:
        nonlocal n
        n += 1
        row_id = ctx.ids.at_ms(ms + n)
        heads.append((row_id, ctx.ho, iso_ms(ms + n), iso_ms(ms + n), hlc_of(ms + n), "", code, name, customer, group,
                      "USD", year, None, 1))
        return row_id

    def line(pl: str, item: Any, min_qty: int, pct: float) -> None:
        nonlocal n
        n += 1
        lines.append((ctx.ids.at_ms(ms + n), ctx.ho, iso_ms(ms + n), iso_ms(ms + n), hlc_of(ms + n), "", pl, item.id,
                      min_qty, int(item.price * pct) // 100 * 100))

    for group, share, pct in (("CONTRACT", 0.2, 0.92), ("TRADE", 0.3, 0.96)):
        pl = head(f"{group}-{ctx.today.year}", f"{group.title()} prices {ctx.today.year}", None, group)
        for item in ctx.items:
            if rng.random() < share:
                line(pl, item, 1, pct)
                if item.case > 1:
                    line(pl, item, item.case * 10, pct - 0.04)
    for cid in platinum[:10]:
        pl = head(f"{codes.get(cid, cid[:8])}-SPECIAL", f"Special prices {codes.get(cid, '')}", cid, "")
        for item in rng.sample(ctx.items, min(len(ctx.items), 50)):
            line(pl, item, 1, 0.85)
    ctx.bulk.insert("price_list", (*VERSIONED, "code", "name", "customer_id", "customer_group", "currency",
                                   "valid_from", "valid_to", "active"), heads)
    ctx.bulk.insert("price_list_line", (*VERSIONED, "price_list_id", "item_id", "min_qty", "unit_price"), lines)


def _scarce_orders(ctx: Ctx, rng: random.Random, take_number: Any) -> None:
    """Per warehouse a few items with little stock: a low tier ordered all of it first (yesterday's
    first-come run gives it to them), a gold customer too, and a platinum customer today."""
    orders, lines = [], []
    n = 0
    per_wh = 4 if ctx.spec.name == "demo" else 12
    # the orders come in from 09:00, one every minute, or end a minute before a seed run earlier that day
    latest = ctx.clock - dt.timedelta(minutes=3 * per_wh * len(ctx.warehouses) + 1)
    # their ids and clocks from 08:00, or from that minute: a server refuses an HLC ahead of its clock
    ms = min(_ms(ctx, 0, 3_600_000), int(latest.timestamp() * 1000))
    for wid, _code, branch in ctx.warehouses:
        custs = ctx.customers.get(branch, [])
        by_tier: dict[str, list[str]] = {}
        for cid, tier, _f in custs:
            by_tier.setdefault(tier, []).append(cid)
        if not all(by_tier.get(t) for t in ("platinum", "gold", "bronze")):
            continue
        owner = ctx.branch_ids[branch]
        pool = [i for i, it in enumerate(ctx.items) if not it.track_serial and 20 <= ctx.on_hand.get((wid, i), 0) <= 400]
        for idx in rng.sample(pool, min(per_wh, len(pool))):
            item = ctx.items[idx]
            have = ctx.on_hand[(wid, idx)]
            for tier, days_ago, share in (("bronze", 2, 1.0), ("gold", 1, 0.4), ("platinum", 0, 0.5)):
                n += 1
                qty = max(1, int(have * share))
                so_id = ctx.ids.at_ms(ms + n * 10)
                day = ctx.today - dt.timedelta(days=days_ago)
                t = iso(min(dt.datetime.combine(day, dt.time(9, 0), dt.UTC), latest) + dt.timedelta(minutes=n))
                cust = rng.choice(by_tier[tier])
                orders.append((so_id, owner, t, t, hlc_of(ms + n * 10), "", take_number(wid, "SO"), cust, wid, "open",
                               day.isoformat(), (ctx.today + dt.timedelta(days=2 + days_ago)).isoformat(), "USD",
                               f"CPO-{rng.randint(10000, 99999)}", int(tier == "platinum")))
                lines.append((ctx.ids.at_ms(ms + n * 10 + 1), owner, t, t, hlc_of(ms + n * 10 + 1), "", so_id, 1, item.id,
                               qty, 0, 0, item.price, "open"))
    ctx.bulk.insert("sales_order", (*VERSIONED, "number", "customer_id", "warehouse_id", "status", "order_date",
                                    "requested_date", "currency", "customer_po", "rush"), orders)
    ctx.bulk.insert("sales_order_line", (*VERSIONED, "order_id", "line_no", "item_id", "qty_ordered", "qty_allocated",
                                         "qty_shipped", "unit_price", "status"), lines)


def seed_allocation(ctx: Ctx, take_number: Any) -> dict[str, int]:
    """Yesterday's order book settled, as raw rows with the seed's ids and times: credit control's
    holds (with their reasons and an exception each), then yesterday's allocation run, first come
    first served, computed by the real engine (``allocation.snapshot`` + ``allocation.plan``, pure),
    written as its ledger rows, reservations and statuses; every warehouse then gets the everyday
    policy (tier first). Today's orders came in after that run and are left open."""
    from types import SimpleNamespace

    from app.models.allocation import policy_id_for
    from app.services.allocation import plan as planner
    from app.services.allocation import snapshot
    from app.services.allocation.policy import DEFAULT_KEYS, Policy
    from app.services.sales.credit import Exposure, reason_to_hold

    conn = ctx.bulk.conn
    ctx.bulk.flush()
    today, yesterday = ctx.today.isoformat(), ctx.today - dt.timedelta(days=1)
    owner_of = {wid: ctx.branch_ids[b] for wid, _c, b in ctx.warehouses}
    # credit control at release: customers whose orders must wait for a decision
    cust = {str(r[0]): SimpleNamespace(code=r[1], credit_hold=bool(r[2]), credit_note=r[3], overdue_days=r[4],
                                       currency=r[5] or "USD", limit=r[6]) for r in conn.execute(
        "SELECT lower(hex(id)), code, credit_hold, credit_note, overdue_days, currency, credit_limit FROM customer")}
    exp: dict[str, Exposure] = {}
    money = 10_000
    for cid, doc, due, amount in conn.execute(
            "SELECT lower(hex(customer_id)), doc_number, MIN(due_date), SUM(amount) FROM receivable_entry "
            "GROUP BY customer_id, doc_number"):
        e = exp.setdefault(str(cid), Exposure(cid, limit=_dec(cust[str(cid)].limit, money)))
        e.receivables += _dec(amount, money)
        due_day = dt.date.fromisoformat(due)
        if amount > 0 and due_day < ctx.today:
            e.overdue.append((doc, due_day, (ctx.today - due_day).days, _dec(amount, money)))
    for cid, value in conn.execute(
            "SELECT lower(hex(o.customer_id)), SUM(l.qty_ordered * l.unit_price) FROM sales_order o JOIN sales_order_line l "
            "ON l.order_id = o.id WHERE o.status IN ('open', 'shipped', 'delivered') GROUP BY o.customer_id"):
        e = exp.setdefault(str(cid), Exposure(cid, limit=_dec(cust[str(cid)].limit, money)))
        e.open_orders += _dec(value, money)
    reasons: dict[str, str] = {}
    for cid, e in exp.items():
        e.overdue.sort(key=lambda o: -o[2])
        why = reason_to_hold(cust[cid], e, _dec(0, money))  # type: ignore[arg-type]
        if why:
            reasons[cid] = why
    held_at = iso(dt.datetime.combine(yesterday, dt.time(17, 30), dt.UTC))
    holds = [(oid, number, cid, wid) for oid, number, cid, wid in conn.execute(
        "SELECT lower(hex(id)), number, lower(hex(customer_id)), lower(hex(warehouse_id)) FROM sales_order "
        "WHERE status = 'open' AND order_date < ? "
        "ORDER BY number", (today,)) if str(cid) in reasons]
    conn.executemany("UPDATE sales_order SET status = 'credit_hold', credit_reason = ?, credit_held_at = ? WHERE id = ?",
                     stored_ids([(reasons[str(c)], held_at, o) for o, _n, c, _w in holds], (2,)))
    ms = _ms(ctx, 1, 10 * 3_600_000)
    ctx.bulk.insert("exception_item", (*VERSIONED, "kind", "severity", "entity", "entity_id", "entity_ref", "title",
                                       "detail", "status", "role", "key", "resolution"),
                    [(ctx.ids.at_ms(ms + k), owner_of[str(w)], held_at, held_at, hlc_of(ms + k), "", "credit.hold",
                      "warning", "sales_order", o, n, f"{n} on credit hold", reasons[str(c)], "open", "manager",
                      f"credit_hold:{o}:{held_at}", "") for k, (o, n, c, w) in enumerate(holds)])
    # yesterday's run: today's orders had not come in yet
    conn.execute("UPDATE sales_order SET status = 'draft' WHERE status = 'open' AND order_date = ?", (today,))
    runs, rows, line_updates, statuses = [], [], [], []
    ms = _ms(ctx, 1, 11 * 3_600_000)
    n = 0
    totals = {"allocated_units": 0, "orders_allocated": 0, "orders_backordered": 0, "credit_holds": len(holds)}
    for wid, _code, _branch in ctx.warehouses:
        plan = planner.build(snapshot.load(conn, [wid], today=yesterday), Policy(("order_date",), True))
        changes = plan.changes
        if not changes:
            continue
        n += 1
        run_id = ctx.ids.at_ms(ms + n * 100_000)
        at = iso_ms(ms + n * 100_000)
        up = sum(d for ln in changes for _k, d in ln.lot_deltas() if d > 0)
        runs.append((run_id, owner_of[wid], at, take_number(wid, "AL"), "run", wid, Policy(("order_date",)).as_json(),
                     "yesterday's run (first come, first served)", at, at, None, "dispatcher", len(plan.lines),
                     len(changes), 0, up, 0, ""))
        for ln in changes:
            for lot, d in ln.lot_deltas():
                n += 1
                rows.append((ctx.ids.at_ms(ms + n * 100_000 + 1), owner_of[wid], at, run_id, ln.order_id, ln.line_id,
                             ln.item_id, wid, lot or None, d, ln.rule[:20], ln.rank, ln.reason[:200]))
            line_updates.append((ln.target, ln.line_id))
        for oid, (_number, _old, new) in plan.order_status.items():
            statuses.append((new, oid))
            totals["orders_allocated" if new == "allocated" else "orders_backordered"] += 1
        totals["allocated_units"] += up
    ctx.bulk.insert("allocation_run", (*LEDGER, "number", "kind", "warehouse_id", "policy", "trigger", "started_at",
                                       "finished_at", "user_id", "username", "lines_considered", "lines_changed",
                                       "lines_failed", "units_allocated", "units_released", "failures"), runs)
    ctx.bulk.insert("allocation", (*LEDGER, "run_id", "order_id", "order_line_id", "item_id", "warehouse_id", "lot_id",
                                   "qty", "rule", "rank", "reason"), rows)
    ctx.bulk.flush()
    conn.executemany("UPDATE sales_order_line SET qty_allocated = ? WHERE id = ?", stored_ids(line_updates, (1,)))
    conn.executemany("UPDATE sales_order SET status = ? WHERE id = ?", stored_ids(statuses, (1,)))
    conn.execute("UPDATE sales_order SET status = 'open' WHERE status = 'draft' AND order_date = ?", (today,))
    _promises(ctx, conn)
    ms = _ms(ctx, 1, 12 * 3_600_000)
    ctx.bulk.insert("allocation_policy", (*VERSIONED, "warehouse_id", "keys", "rerank", "updated_by"),
                    [(policy_id_for(_uuid(wid)).hex, owner_of[wid], iso_ms(ms), iso_ms(ms), hlc_of(ms), "", wid,
                      ",".join(DEFAULT_KEYS), 1, "dispatcher") for wid, _c, _b in ctx.warehouses])
    ctx.bulk.flush()
    return totals


def _promises(ctx: Ctx, conn: Any) -> None:
    """Each open line's promise as the order screen shows it: reserved in full, available now; else
    the date date-based ATP gives its short quantity, the lines walked first come first served."""
    from app.services.inventory.promise import expected_dates

    today = ctx.today.isoformat()
    lines: list[tuple[str, str, Any]] = []
    orders: dict[Any, str] = {}
    for wid, _code, _b in ctx.warehouses:
        rows = HexIds(conn).execute(  # ids as hex here, 16 bytes in the file
            "SELECT l.id, l.order_id, l.item_id, l.qty_ordered - l.qty_shipped - l.qty_allocated FROM sales_order o "
            "JOIN sales_order_line l ON l.order_id = o.id WHERE o.warehouse_id = ? AND l.status = 'open' AND "
            "o.status IN ('open', 'backordered', 'allocated', 'credit_hold') ORDER BY o.order_date, o.number, l.line_no",
            (wid,)).fetchall()
        short = [r for r in rows if r[3] > 0]
        dates = expected_dates(conn, _uuid(wid), [(_uuid(r[2]), int(r[3])) for r in short], today=ctx.today)
        got = {r[0]: (p.date.isoformat(), p.text) for r, p in zip(short, dates, strict=True)}
        for lid, oid, _i, _need in rows:
            day, text = got.get(lid, (today, "available now"))
            lines.append((day, text[:60], lid))
            orders[oid] = max(orders.get(oid, day), day)
    conn.executemany("UPDATE sales_order_line SET promised_date = ?, promise = ? WHERE id = ?", stored_ids(lines, (2,)))
    conn.executemany("UPDATE sales_order SET promised_date = ? WHERE id = ?",
                     stored_ids([(d, o) for o, d in orders.items()], (1,)))


def _dec(stored: Any, scale: int) -> Any:
    from decimal import Decimal

    return (Decimal(int(stored or 0)) / scale).quantize(Decimal("0.0001"))


def _uuid(text: str) -> Any:
    import uuid

    return uuid.UUID(text)
