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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from app.services import audit
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.importer import master, stock_orders
from app.services.importer.fields import Field, ImportRejected, Problem, Row, read_csv
from app.services.masterdata import head_office_id
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
    write: Callable[[Session, Actor, list[Any]], int]
    #: head-office master data (imported only on a head-office site or a standalone file)
    master: bool = False


KINDS: dict[str, Kind] = {
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
    "orders": Kind(stock_orders.ORDER_FIELDS, lambda v: (v["order_number"], v.get("line_no") or v["sku"]),
                   lambda k: f"order {k[0]} line {k[1]}", stock_orders.prepare_orders, stock_orders.write_orders),
}


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

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "rows": self.rows, "imported": self.imported,
                "encoding": self.encoding, "delimiter": self.delimiter, "notes": self.notes,
                "skipped": [{"line": p.line, "reason": p.reason} for p in self.skipped]}


def import_csv(session: Session, actor: Actor, kind: str, source: Path | str | TextIO | bytes, *,
               skip_bad: bool = False, encoding: str | None = None, delimiter: str | None = None) -> ImportResult:
    """Check every row of ``source`` and import them (all, or with ``skip_bad`` the good ones).

    The file's encoding and separator are detected unless named (``fields.read_csv``)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValidationError("import kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    actor.require("import.run")
    if spec.master:
        require_head_office(session, kind.replace("-", " "),
                            "import them at a head-office workstation or into a standalone file")
    problems: list[Problem] = []
    read = read_csv(source, spec.fields, problems, encoding=encoding, delimiter=delimiter)
    name, rows = read.name, read.rows
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
    if problems and not skip_bad:
        raise ImportRejected(name, problems, notes=read.notes)
    written = spec.write(session, actor, prepared) if prepared else 0
    audit.record(session, actor, "import", kind, None, head_office_id(session), source=name, rows=total,
                 imported=written, skipped=len(problems))
    session.flush()
    return ImportResult(kind, name, total, written, problems, read.encoding, read.delimiter, read.notes)
