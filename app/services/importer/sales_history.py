"""Sales history from a legacy system: daily units per item and warehouse, demand only.

A year of daily history for 50,000 items at three warehouses is millions of rows, too many to
hold as parsed rows, so this kind streams: each chunk of the file is checked and (while the
file is good, or with ``skip_bad``) written at once, inside a savepoint the importer rolls back
when the file is refused. The rules are those of every import: unknown warehouse, item or
customer, a warehouse of another branch, a date in the future, a duplicate row (same day,
warehouse, item, customer and reference) in the file or already in the database.

Rows go to ``sales_history`` (an insert-only ledger owned by the warehouse's branch); its
trigger adds them to ``sales_week``, so the replenishment run reads them as demand. No stock
moves: history never changes today's stock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.demand import SalesHistory
from app.models.ids import uuid7_hex_batch
from app.models.org import Warehouse
from app.models.parties import Customer
from app.models.stamps import days, iso_micros
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, cursor, id_column
from app.services.importer.fields import Field, Problem, Row, code, date, qty
from app.services.importer.fields import text as text_field
from app.services.importer.stock_orders import _foreign

SALES_FIELDS = [
    Field("date", date, True), Field("warehouse", code(16), True), Field("sku", code(40), True),
    Field("qty", qty, True), Field("customer", code(20)), Field("reference", text_field(40)),
]
_COLUMNS = ("id", "owner_branch_id", "created_at", "item_id", "warehouse_id", "sale_date", "qty", "customer_id",
            "reference")


class SalesHistoryLoader:
    """Checks and writes one chunk at a time; keeps what it needs across chunks (lookups, keys seen)."""

    def __init__(self, session: Session, actor: Actor | None, today: dt.date | None = None) -> None:
        self.session = session
        self.today = today or dt.date.today()
        foreign = _foreign(session)
        self.whs: dict[str, tuple[int, str, str, str | None]] = {}
        for n, w in enumerate(session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)))):
            self.whs[w.code] = (n, w.id.hex, w.branch_id.hex, foreign(w))
        self.items = {s: (n, i.hex) for n, (s, i) in enumerate(
            session.execute(select(Item.sku, Item.id).where(Item.deleted_at.is_(None))))}
        self.customers = {c: (n + 1, i.hex) for n, (c, i) in enumerate(
            session.execute(select(Customer.code, Customer.id).where(Customer.deleted_at.is_(None))))}
        self.refs: dict[str, int] = {"": 0}
        #: packed key of every row seen -> its line (about 100 bytes a row, not a parsed row's 500)
        self.seen: dict[int, int] = {}
        self.history_here = session.scalar(text("SELECT EXISTS (SELECT 1 FROM sales_history)")) == 1
        self._keys_made = False
        self.writer = BulkInsert(session, SalesHistory, _COLUMNS)
        self._nw = max(len(self.whs), 1)
        self._ni = max(len(self.items), 1)
        self._nc = len(self.customers) + 1

    def check(self, rows: list[Row], problems: list[Problem]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        keys: list[int] = []
        lines: list[int] = []
        today = self.today
        for row in rows:
            v = row.values
            errors = []
            wh = self.whs.get(v["warehouse"])
            item = self.items.get(v["sku"])
            cust = self.customers.get(v["customer"]) if "customer" in v else (0, None)
            day: dt.date = v["date"]
            if wh is None:
                errors.append(f"warehouse: unknown warehouse {v['warehouse']}")
            elif wh[3]:
                errors.append(wh[3])
            if item is None:
                errors.append(f"sku: unknown item {v['sku']}")
            if cust is None:
                errors.append(f"customer: unknown customer {v['customer']}")
            if day > today:
                errors.append(f"date: {day.isoformat()} is in the future (today is {today.isoformat()}); "
                              "sales history is what was sold")
            if errors:
                problems.append(Problem(row.line, "; ".join(errors)))
                continue
            assert wh is not None and item is not None and cust is not None
            ref = v.get("reference", "")
            r = self.refs.setdefault(ref, len(self.refs))
            key = (((day.toordinal() * self._nw + wh[0]) * self._ni + item[0]) * self._nc + cust[0]) * (1 << 32) + r
            first = self.seen.get(key)
            if first is not None:
                problems.append(Problem(row.line, f"duplicate sales of {v['sku']} at {v['warehouse']} on "
                                                  f"{day.isoformat()}" + (f" to {v['customer']}" if cust[1] else "")
                                        + (f" ref {ref}" if ref else "") + f" (first on line {first})"))
                continue
            self.seen[key] = row.line
            out.append((wh[2], item[1], wh[1], days(day), v["qty"], cust[1], ref))  # the day as stored (``stamps``)
            keys.append(key)
            lines.append(row.line)
        if self.history_here and out:
            out = self._not_in_database(out, lines, problems)
        return out

    def _history_keys(self, cur: Any) -> None:
        """The keys of the rows in the table when the first chunk is checked, in a temporary table
        indexed by (item, warehouse, day), made once per load (a scan and a sort: ~1 s for a million
        rows). ``sales_history`` keeps no index of its own on that key (0024b_history_index, 57 MB
        on the large set): nothing else reads it by that key. Rows this load writes are not in it;
        the file's own duplicates are ``seen``."""
        if self._keys_made:
            return
        cur.execute("DROP TABLE IF EXISTS temp.import_sales_have")
        cur.execute("CREATE TEMP TABLE import_sales_have AS SELECT item_id, warehouse_id, sale_date, customer_id, "
                    "reference FROM main.sales_history")
        cur.execute("CREATE INDEX temp.ix_import_sales_have ON import_sales_have (item_id, warehouse_id, sale_date)")
        self._keys_made = True

    def _not_in_database(self, rows: list[tuple[Any, ...]], lines: list[int],
                         problems: list[Problem]) -> list[tuple[Any, ...]]:
        """Rows already in the table (a file imported twice) are duplicates: found by one join
        of this chunk's keys (a temporary table) with the history's keys (``_history_keys``)."""
        cur = cursor(self.session)
        self._history_keys(cur)
        # sale_date: the day number sales_history stores (``stamps.days``)
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS import_sales_keys (n INTEGER PRIMARY KEY, item_id TEXT, "
                    "warehouse_id TEXT, sale_date INTEGER, customer_id TEXT, reference TEXT)")
        cur.execute("DELETE FROM import_sales_keys")
        cur.executemany("INSERT INTO import_sales_keys VALUES (?, ?, ?, ?, ?, ?)",
                        [(n, id_column(r[1]), id_column(r[2]), r[3], id_column(r[5]), r[6])  # ids: the stored 16 bytes
                         for n, r in enumerate(rows)])
        cur.execute("SELECT k.n FROM import_sales_keys k JOIN import_sales_have h ON h.item_id = k.item_id "
                    "AND h.warehouse_id = k.warehouse_id AND h.sale_date = k.sale_date "
                    "AND h.customer_id IS k.customer_id AND h.reference = k.reference")
        dupes = {int(n) for (n,) in cur.fetchall()}
        cur.execute("DELETE FROM import_sales_keys")
        if not dupes:
            return rows
        for n in sorted(dupes):
            problems.append(Problem(lines[n], "this sale is already in the database (sales history imported "
                                              "before?)"))
        return [r for n, r in enumerate(rows) if n not in dupes]

    def bulk(self) -> AbstractContextManager[BulkInsert]:
        """One bulk load for the whole file: triggers set aside once; into an empty table (a first
        load) its secondary indexes too, built by one sort at the end. The keys of the history
        already here (``_history_keys``) go with the load (on failure, with its savepoint)."""
        return self._dropping_keys(self.writer.load(drop_indexes=not self.history_here))

    @contextlib.contextmanager
    def _dropping_keys(self, load: AbstractContextManager[BulkInsert]) -> Iterator[BulkInsert]:
        with load as writer:
            yield writer
        if self._keys_made:
            cursor(self.session).execute("DROP TABLE IF EXISTS temp.import_sales_have")
            self._keys_made = False

    def write(self, rows: list[tuple[Any, ...]]) -> int:
        stamp = Stamp.take(self.session)
        ids = uuid7_hex_batch(len(rows))
        now = iso_micros(stamp.now)  # created_at as stored (``stamps``)
        return self.writer.write([(i, r[0], now, *r[1:]) for i, r in zip(ids, rows, strict=True)])


def open_loader(session: Session, actor: Actor | None) -> SalesHistoryLoader:
    return SalesHistoryLoader(session, actor)
