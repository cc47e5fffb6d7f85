"""Import from a legacy system: items, suppliers, customers, item-suppliers, opening stock, open orders.

One call reads and checks the whole file first (header, numbers, duplicate keys within
the file and against the database, unknown references) and writes only when every row
is good, or, with ``skip_bad``, writes the good rows and reports the bad ones. Either way
every bad row is reported with its file line and reason, and nothing half-written is left:
the caller's transaction holds all the rows or none.

Master rows go in with bulk INSERTs (the per-row service calls of ``masterdata`` take
minutes for 50,000 items) but follow the same rules; change capture stays on, because
an import is a local change the server must receive. Stock goes in only through
``services.stock.post_moves`` as 'opening' moves from the warehouse's adjust location.

Across branches: master kinds are head-office data, so a branch workstation refuses them
up front (one error, nothing read or written). Stock and order rows for a warehouse of another
branch are bad rows ("warehouse HOU1 belongs to HOU: import it at a HOU workstation"): the
server would refuse them at push, so they are reported (or skipped with ``skip_bad``) here.

The organisation (branches, warehouses, locations) and the open items of the old system (open
purchase orders, order points, sales history) are kinds of the same import (``org_kinds``,
``open_items``, ``sales_history``). Sales history is a *streaming* kind: too big to hold, it is
checked and written chunk by chunk inside a savepoint that is rolled back when the file is
refused, so "nothing written" holds for it too. ``dry_run`` checks a file and writes nothing
(the setup assistant's preview and error list).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy.orm import Session

from app.services import audit
from app.services.auth import Actor
from app.services.errors import PermissionDenied, ValidationError
from app.services.importer import (
    carriers,
    master,
    open_items,
    org_kinds,
    sales_history,
    sales_kinds,
    stock_orders,
)
from app.services.importer.fields import (
    CsvRead,
    CsvStream,
    Field,
    ImportRejected,
    Problem,
    Row,
    iter_csv,
    read_csv,
)
from app.services.masterdata import head_office_id
from app.services.org.setup import authorize
from app.services.site_rights import require_head_office

__all__ = ["KINDS", "ImportRejected", "ImportResult", "Problem", "import_csv"]


@dataclass(frozen=True)
class Kind:
    fields: list[Field]
    #: the key that must be unique within the file and against the database
    key: Callable[[dict[str, Any]], tuple[Any, ...]]
    describe_key: Callable[[tuple[Any, ...]], str]
    #: check references and database duplicates; returns the good rows, prepared for writing
    prepare: Callable[[Session, list[Row], list[Problem]], list[Any]]
    write: Callable[[Session, Any, list[Any]], int]  # (session, actor or None in setup, rows)
    #: head-office master data (imported only on a head-office site or a standalone file)
    master: bool = False
    #: how many of the prepared rows replace a row already in the database (reported)
    replaced: Callable[[list[Any]], int] | None = None
    #: the organisation: imported without a user while the file has none (org.setup)
    setup: bool = False


class Loader(Protocol):
    def check(self, rows: list[Row], problems: list[Problem]) -> list[Any]: ...

    def write(self, rows: list[Any]) -> int: ...

    def bulk(self) -> AbstractContextManager[Any]:
        """The whole import's writes as one bulk load (``bulk.BulkInsert.load``)."""
        ...


@dataclass(frozen=True)
class StreamKind:
    """A kind too big to hold in memory: checked and written chunk by chunk (see the module doc)."""

    fields: list[Field]
    open: Callable[[Session, Actor | None], Loader]
    master: bool = False
    replaced: None = None
    setup: bool = False


#: rows a streaming kind checks and writes at a time
STREAM_CHUNK = 20_000


KINDS: dict[str, Kind | StreamKind] = {
    "items": Kind(master.ITEM_FIELDS, lambda v: (v["sku"],), lambda k: f"sku {k[0]}", master.prepare_items,
                  master.write_items, master=True),
    "suppliers": Kind(master.SUPPLIER_FIELDS, lambda v: (v["code"],), lambda k: f"supplier code {k[0]}",
                      master.prepare_suppliers, master.write_suppliers, master=True),
    "customers": Kind(master.CUSTOMER_FIELDS, lambda v: (v["code"],), lambda k: f"customer code {k[0]}",
                      master.prepare_customers, master.write_customers, master=True),
    "item-suppliers": Kind(master.LINK_FIELDS, lambda v: (v["sku"], v["supplier"]),
                           lambda k: f"item-supplier {k[0]} / {k[1]}", master.prepare_links, master.write_links, master=True),
    "stock": Kind(stock_orders.STOCK_FIELDS,
                  lambda v: (v["warehouse"], v["bin"], v["sku"], v.get("lot", "").upper(), v.get("serial", "")),
                  lambda k: f"stock {k[2]} in {k[0]}/{k[1]}" + (f" lot {k[3]}" if k[3] else "")
                  + (f" serial {k[4]}" if k[4] else ""),
                  stock_orders.prepare_stock, stock_orders.write_stock),
    "price-lists": Kind(sales_kinds.PRICE_FIELDS, lambda v: (v["price_list"], v["sku"], v.get("min_qty") or 1,
                                                               v.get("uom", "")),
                        lambda k: f"price list {k[0]} {k[1]} from {k[2]}", sales_kinds.prepare_price_lists,
                        sales_kinds.write_price_lists, master=True),
    "receivables": Kind(sales_kinds.RECEIVABLE_FIELDS, lambda v: (v["customer"], v["invoice_number"]),
                        lambda k: f"invoice {k[1]} of {k[0]}", sales_kinds.prepare_receivables,
                        sales_kinds.write_receivables),
    "orders": Kind(stock_orders.ORDER_FIELDS, lambda v: (v["order_number"], v.get("line_no") or v["sku"]),
                   lambda k: f"order {k[0]} line {k[1]}", stock_orders.prepare_orders, sales_kinds.write_orders),
    "branches": Kind(org_kinds.BRANCH_FIELDS, lambda v: (v["code"],), lambda k: f"branch code {k[0]}",
                     org_kinds.prepare_branches, org_kinds.write_branches, master=True, setup=True),
    "warehouses": Kind(org_kinds.WAREHOUSE_FIELDS, lambda v: (v["code"],), lambda k: f"warehouse code {k[0]}",
                       org_kinds.prepare_warehouses, org_kinds.write_warehouses, master=True, setup=True),
    "locations": Kind(org_kinds.LOCATION_FIELDS, lambda v: (v["warehouse"], v["code"]),
                      lambda k: f"bin {k[1]} in warehouse {k[0]}", org_kinds.prepare_locations,
                      org_kinds.write_locations, master=True, setup=True),
    "purchase-orders": Kind(open_items.PO_FIELDS, lambda v: (v["number"], v.get("line_no") or v["sku"]),
                            lambda k: f"PO {k[0]} line {k[1]}", open_items.prepare_pos, open_items.write_pos),
    "order-points": Kind(open_items.ORDER_POINT_FIELDS, lambda v: (v["warehouse"], v["sku"]),
                         lambda k: f"order point of {k[1]} at {k[0]}", open_items.prepare_order_points,
                         open_items.write_order_points, replaced=open_items.replaced_order_points),
    "sales-history": StreamKind(sales_history.SALES_FIELDS, sales_history.open_loader),
    "carriers": Kind(carriers.CARRIER_FIELDS, lambda v: (v["carrier"], v["service_code"]),
                     lambda k: f"service {k[1]} of carrier {k[0]}", carriers.prepare_carriers, carriers.write_carriers,
                     master=True),
}

#: the order a new company imports its files in (each needs the ones before it)
ADOPTION_ORDER = ("branches", "warehouses", "items", "locations", "suppliers", "item-suppliers", "customers",
                  "carriers", "stock", "order-points", "purchase-orders", "orders", "sales-history")


@dataclass
class ImportResult:
    kind: str
    source: str
    rows: int
    imported: int
    skipped: list[Problem] = field(default_factory=list)
    #: how the file was read ('utf-8', 'windows-1252' ...; ',' ';' tab) and what is worth saying about it
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)
    #: rows that replaced one already in the database (order points)
    replaced: int = 0
    #: nothing was written (a check: ``dry_run``)
    dry_run: bool = False
    #: the file's columns and its first good rows as read (the setup assistant's preview)
    columns: list[str] = field(default_factory=list)
    sample: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "rows": self.rows, "imported": self.imported,
                "replaced": self.replaced, "dry_run": self.dry_run, "encoding": self.encoding,
                "delimiter": self.delimiter, "notes": self.notes,
                "skipped": [{"line": p.line, "reason": p.reason} for p in self.skipped]}


#: good rows kept for the preview
SAMPLE_ROWS = 20


def _sampled(rows: Iterable[Row], sample: list[dict[str, str]]) -> Iterator[Row]:
    for row in rows:
        if len(sample) < SAMPLE_ROWS:
            sample.append({k: "" if v is None else str(v) for k, v in row.values.items()})
        yield row


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_csv(session: Session, actor: Actor | None, kind: str, source: Path | str | TextIO | bytes, *,
               skip_bad: bool = False, dry_run: bool = False, encoding: str | None = None,
               delimiter: str | None = None,
               progress: Callable[[int, int, str], None] | None = None) -> ImportResult:
    """Check every row of ``source`` and import them (all, or with ``skip_bad`` the good ones).

    The file's encoding and separator are detected unless named (``fields.read_csv``).
    ``dry_run`` checks and writes nothing (the result lists what would be skipped); ``progress``
    gets (rows read, 0, text) now and then for a progress bar."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValidationError("import kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if actor is None and not spec.setup:
        raise PermissionDenied(f"importing {kind} needs a signed-in user with the import right (an admin)")
    authorize(session, actor, "import.run")  # no user: only while the file is being set up
    if spec.master:
        require_head_office(session, kind.replace("-", " "),
                            "import them at a head-office workstation or into a standalone file")
    problems: list[Problem] = []
    sample: list[dict[str, str]] = []
    read: CsvRead | CsvStream
    if isinstance(spec, StreamKind):
        read = iter_csv(source, spec.fields, problems, encoding=encoding, delimiter=delimiter)
        name = read.name
        total, written, replaced = _stream(session, actor, spec, name, _sampled(read.stream, sample), problems,
                                           skip_bad, dry_run, progress, read.notes)
    else:
        read = read_csv(source, spec.fields, problems, encoding=encoding, delimiter=delimiter)
        name = read.name
        rows = list(_sampled(read.rows, sample))
        if progress is not None:
            progress(len(rows), 0, f"checking {len(rows):,} rows")
        total = len(rows) + len(problems)
        seen: dict[tuple[Any, ...], int] = {}
        unique: list[Row] = []
        for row in rows:
            k = spec.key(row.values)
            if k in seen:
                problems.append(Problem(row.line, f"duplicate {spec.describe_key(k)} (first on line {seen[k]})",
                                        row.values))
                continue
            seen[k] = row.line
            unique.append(row)
        prepared = spec.prepare(session, unique, problems)
        problems.sort(key=lambda p: p.line)
        if problems and not skip_bad and not dry_run:
            raise ImportRejected(name, problems, notes=read.notes)
        replaced = spec.replaced(prepared) if spec.replaced and prepared else 0
        if progress is not None and not dry_run:
            progress(len(rows), 0, f"writing {len(prepared):,} rows")
        written = len(prepared) if dry_run else (spec.write(session, actor, prepared) if prepared else 0)
    problems.sort(key=lambda p: p.line)
    columns = list(sample[0]) if sample else [f.name for f in spec.fields if f.required]
    result = ImportResult(kind, name, total, 0 if dry_run else written, problems, read.encoding, read.delimiter,
                          read.notes, replaced, dry_run, columns, sample)
    if dry_run:
        return result
    audit.record(session, actor, "import", kind, None, head_office_id(session), source=name, rows=total,
                 imported=written, skipped=len(problems), replaced=replaced)
    session.flush()
    return result


def _stream(session: Session, actor: Actor | None, spec: StreamKind, name: str, rows: Iterator[Row],
            problems: list[Problem], skip_bad: bool, dry_run: bool,
            progress: Callable[[int, int, str], None] | None, notes: list[str]) -> tuple[int, int, int]:
    """Check and write chunk by chunk in a savepoint, rolled back when any row is bad and
    ``skip_bad`` is off. Writing stops at the first bad row; checking goes on to list them all.
    Returns (rows in the file, rows written, rows replaced)."""
    loader = spec.open(session, actor)
    read = written = from_loader = 0
    savepoint = None if dry_run else session.begin_nested()
    try:
        with contextlib.nullcontext() if dry_run else loader.bulk():
            for chunk in _chunks(rows, STREAM_CHUNK):
                read += len(chunk)
                before = len(problems)
                good = loader.check(chunk, problems)
                from_loader += len(problems) - before
                if dry_run:
                    written += len(good)
                elif skip_bad or not problems:
                    written += loader.write(good)
                if progress is not None:
                    progress(read, 0, f"{read:,} rows read, {written:,} " + ("good" if dry_run else "written"))
            if problems and not skip_bad and not dry_run:
                problems.sort(key=lambda p: p.line)
                raise ImportRejected(name, problems, notes=notes)
    except BaseException:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise
    if savepoint is not None and savepoint.is_active:
        savepoint.commit()
    return read + len(problems) - from_loader, written, 0
