"""Selective replication: which server rows a branch workstation pulls.

Head office (and an owner login) pulls everything. On a server where selective replication is
on (``depot_meta.selective``), a branch login pulls:

* every master-data row (items, parties, warehouses, locations...), but of a sister warehouse's
  storage bins only those its rows name (``PARTIAL_MASTER``: a first sync leaves the rest);
* its own branch's rows (its other workstations' work);
* the rows of tables every branch needs whole (``EVERYWHERE``: customer balances, which credit
  checks sum over the company, and the per-warehouse figures sisters publish for transfer-vs-buy, its
  own warehouses' only on the workstation that publishes them, ``PUBLISHED_FIGURES``);
* the other branches' rows that reference its **warehouses** (a warehouse column in the set, a
  location of one of them), its **branch** (a branch column), or a document it pulls (one level:
  the lines of a sister's transfer to it, a decision on its PO, a release of its order);
* the parents those rows reference (a sister's lot on a transfer line, the header of a PO line
  shipping to it): ``missing_parents`` finds them among the applied rows and the pull fetches
  them by id, until none is missing.

Its warehouses are the warehouses of the branch plus those its own backordered sales orders are
served from (their receipts release those orders here), and the set only grows: a pull stores it
with the cursor, and a warehouse that joins it (a sister's warehouse given to this branch) is
read whole at once, its rows from before the cursor included (``scope_sql(..., own=False)``).

The rules are derived from the model's foreign keys, so a new table follows them untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql

from app.models.base import DOCUMENT, MASTER, Base
from app.services.replication.apply import Applier, Row
from app.services.replication.push import fetch_server_rows
from app.services.replication.tables import SyncTable, sync_tables

#: tables every branch pulls whole: company-wide customer balances (credit checks sum them over
#: every branch) and the sister-warehouse figures for transfer-vs-buy
EVERYWHERE = frozenset({"receivable_entry", "payment", "warehouse_figures"})
#: the figures a branch publishes of its own warehouses are for its sisters: a file reads its own
#: warehouses' figures from its own ledger (``sister_figures``, ``inventory.queries``), so only the
#: workstation that publishes them (``figures_publish``: the branch's first) pulls its own, to write
#: only what changed; the others leave them (50,000 rows of the large set's first sync)
PUBLISHED_FIGURES = "warehouse_figures"
#: warehouse references that are not declared foreign keys
EXTRA_WAREHOUSE_COLUMNS = {"allocation": ("warehouse_id",)}
#: document references that are not declared foreign keys: the receiving branch's expected receipt
#: of a transfer names the transfer (its sender links it, and plans with it), and the sender's moves
#: of a transfer name it (the receiver expects what left, the sender settles what arrived)
EXTRA_DOCUMENT_COLUMNS = {"expected_receipt": (("source_doc_id", "transfer_order"),),
                          "stock_move": (("doc_id", "transfer_order"),)}

#: master tables a first sync takes in part: a sister warehouse's storage bins (51,000 per warehouse
#: in the large set, 5 % of a branch's first sync) concern a branch only where a row it pulls names
#: one (a sister's transfer line or move out of its bin), and those are fetched by id as parents
#: (``Refs.parents``). Virtual locations (dock, transit, adjust...: a few per warehouse) come whole:
#: receiving a sister's transfer moves stock out of the sister's transit. A routine pull reads every
#: changed row of these tables (few), so a bin held here never goes stale and a new one is there
#: before a sister's row names it. Table -> (its warehouse column, the condition that keeps the rest).
PARTIAL_MASTER = {"location": ("warehouse_id", "kind <> 'storage'")}

_HEX = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Refs:
    """How one table's rows point at warehouses, locations, branches and other non-master rows."""

    warehouse: tuple[str, ...]
    location: tuple[str, ...]
    branch: tuple[str, ...]
    #: (column, parent table) for document parents: a row referencing a pulled document is pulled
    documents: tuple[tuple[str, str], ...]
    #: (column index, parent table) for every non-master parent and every location (a sister's bin,
    #: ``PARTIAL_MASTER``): filled in after the pull
    parents: tuple[tuple[int, str], ...]


@cache
def refs(name: str) -> Refs:
    t = sync_tables()[name]
    table = Base.metadata.tables[name]
    tables = sync_tables()
    wh, loc, br, docs, parents = [], [], [], [], []
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        col, parent = fk.parent.name, fk.column.table.name
        if parent == "warehouse":
            wh.append(col)
        elif parent == "location":
            loc.append(col)
        elif parent == "branch":
            br.append(col)
        elif parent in tables and tables[parent].sync != MASTER and parent != name:
            parents.append((t.names.index(col), parent))
            if tables[parent].sync == DOCUMENT:
                docs.append((col, parent))
    # a sister's bin is held only when something here names it (PARTIAL_MASTER): fetched as a parent
    parents += [(t.names.index(c), "location") for c in loc if "location" in PARTIAL_MASTER]
    wh.extend(c for c in EXTRA_WAREHOUSE_COLUMNS.get(name, ()) if c in t.names)
    docs.extend((c, p) for c, p in EXTRA_DOCUMENT_COLUMNS.get(name, ()) if c in t.names and p in tables)
    return Refs(tuple(wh), tuple(loc), tuple(br), tuple(docs), tuple(parents))


def _check(values: Iterable[str]) -> list[str]:
    out = sorted(set(values))
    for v in out:
        if not _HEX.fullmatch(v):
            raise ValueError(f"not an id: {v!r}")
    return out


def _direct(name: str, alias: str, branch: str, whs: list[str], *, own: bool, probe: bool) -> list[sql.Composable]:
    """Conditions on the columns of ``alias`` (a row of ``name``): owned by the branch, or pointing at
    its warehouses, their locations or the branch itself. ``probe``: a location is looked up by its
    key per row (a routine pull's few rows); else the warehouses' locations are read once into a hash
    (a first sync's whole tables)."""
    r = refs(name)
    b = sql.Literal(branch)
    w = sql.Literal("{" + ",".join(whs) + "}")
    a = sql.Identifier(alias)
    out: list[sql.Composable] = []
    if own:
        out.append(sql.SQL("{}.owner_branch_id = {}::uuid").format(a, b))
    if whs:
        out += [sql.SQL("{}.{} = ANY({}::uuid[])").format(a, sql.Identifier(c), w) for c in r.warehouse]
        loc = ("EXISTS (SELECT 1 FROM location l WHERE l.id = {}.{} AND l.warehouse_id = ANY({}::uuid[]))" if probe
               else "{}.{} IN (SELECT id FROM location WHERE warehouse_id = ANY({}::uuid[]))")
        out += [sql.SQL(loc).format(a, sql.Identifier(c), w) for c in r.location]
    if own:
        out += [sql.SQL("{}.{} = {}::uuid").format(a, sql.Identifier(c), b) for c in r.branch]
    return out


def scope_sql(t: SyncTable, branch: str, whs: Iterable[str], *, own: bool = True,
              probe: bool = False, publisher: bool = True) -> sql.Composable | None:
    """The WHERE condition that selects rows of ``t`` (unaliased in the query) for ``branch`` with
    warehouses ``whs``; None for a table pulled whole. ``own=False`` leaves out what a branch already
    holds (its own rows and the rows of its own documents): the extra rows of warehouses that joined
    its set. ``probe``: parents and locations are looked up by key per row, for a routine pull's thin
    window (a sub-select read whole into a hash per pull cost ~350 ms of server CPU per pull in
    ``bench sync_scale``); else they are hashed once, for a first sync's whole tables. A routine pull
    reads ``PARTIAL_MASTER`` tables whole (their changed rows); a first sync only in part.
    ``publisher``: this workstation publishes its branch's warehouse figures (else it pulls only the
    sisters' figures, ``PUBLISHED_FIGURES``)."""
    wl = _check(whs)
    if t.name in PARTIAL_MASTER and not probe:  # a first sync, or warehouses that joined the set
        col, rest = PARTIAL_MASTER[t.name]
        mine = sql.SQL("{} = ANY({}::uuid[])").format(sql.Identifier(col), sql.Literal("{" + ",".join(wl) + "}"))
        return mine if not own else sql.SQL("({} OR {})").format(mine, sql.SQL(rest))
    if t.name == PUBLISHED_FIGURES and not publisher:
        # its own warehouses' rows are not read here (a warehouse that joins the set brings none)
        return sql.SQL("warehouse_id <> ALL({}::uuid[])").format(sql.Literal("{" + ",".join(wl) + "}")) if own else None
    if t.sync == MASTER or t.name in EVERYWHERE:
        return None
    (branch,) = _check([branch])
    conds = _direct(t.name, t.name, branch, wl, own=own, probe=probe)
    for col, parent in refs(t.name).documents:
        inner = _direct(parent, "p", branch, wl, own=own, probe=probe)
        if not inner:
            continue
        q = ("EXISTS (SELECT 1 FROM {} p WHERE p.id = {}.{} AND ({}))" if probe
             else "{1}.{2} IN (SELECT p.id FROM {0} p WHERE {3})")
        conds.append(sql.SQL(q).format(sql.Identifier(parent), sql.Identifier(t.name), sql.Identifier(col),
                                       sql.SQL(" OR ").join(inner)))
    if not conds:
        return sql.SQL("false")
    return sql.SQL("(") + sql.SQL(" OR ").join(conds) + sql.SQL(")")


def is_publisher(workstation: str | None) -> bool:
    """Whether the workstation numbered so publishes its branch's warehouse figures: the first does
    (``figures_publish``); a file with no number yet (a server without numbering) is taken to, so it
    never lacks rows it may need."""
    return (workstation or "1") == "1"


#: the branch's warehouses: its own, and those its backordered orders are served from
WAREHOUSES_SQL = ("SELECT replace(id::text, '-', '') FROM warehouse WHERE branch_id = %(b)s::uuid "
                  "UNION SELECT replace(warehouse_id::text, '-', '') FROM sales_order "
                  "WHERE owner_branch_id = %(b)s::uuid AND status = 'backordered' AND deleted_at IS NULL")


#: ids per SQLite IN (...) probe and per server fetch of missing parents
_IDS_PER_QUERY = 900


class BranchScope:
    """One pull's selection for a branch: the WHERE of each table, the warehouses that joined the
    set (read whole), and the parents of the applied rows still missing here (fetched by id)."""

    def __init__(self, branch: str, warehouses: list[str], added: list[str], *, publisher: bool = True) -> None:
        self.branch = branch
        self.warehouses = warehouses
        self.added = added
        self.publisher = publisher
        #: parent table -> ids referenced by applied rows
        self._wanted: dict[str, set[str]] = {}

    @classmethod
    def read(cls, cur: psycopg.Cursor[Any], local: dict[str, str], branch: str, cursor: int,
             changed: set[str]) -> BranchScope:
        """The branch's warehouses now (asked only when warehouses or orders changed), grown from
        the set stored with the cursor."""
        stored = [x for x in (local.get("scope") or "").split(",") if x]
        now: set[str] = set()
        if not cursor or not stored or changed & {"warehouse", "sales_order"}:
            cur.execute(WAREHOUSES_SQL, {"b": branch})
            now = {str(r[0]) for r in cur.fetchall() if r[0]}
        # a file that pulled everything before selective replication was on has every row already
        added = sorted(now - set(stored)) if cursor and stored else []
        return cls(branch.replace("-", ""), sorted(set(stored) | now), added,
                   publisher=is_publisher(local.get("workstation")))

    def where(self, t: SyncTable, *, probe: bool) -> sql.Composable | None:
        return scope_sql(t, self.branch, self.warehouses, probe=probe, publisher=self.publisher)

    def tap(self, name: str, rows: Iterable[Row]) -> Iterator[Row]:
        """Pass rows through, noting the parents they reference (non-master rows, locations).

        A column at a time over the chunk (``map`` in C): a first sync taps 765,586 moves for their
        lot and two locations, 0.58 s of the writer's CPU row by row, ~0.1 s so."""
        parents = refs(name).parents
        if not parents:
            yield from rows
            return
        chunk = rows if isinstance(rows, list) else list(rows)
        for i, p in parents:
            bag = self._wanted.setdefault(p, set())
            bag.update(map(itemgetter(i), chunk))  # ids arrive as text (storage form) or None
            bag.discard(None)
            bag.discard("")
        yield from chunk

    def complete(self, cur: psycopg.Cursor[Any], ap: Applier) -> None:
        """After the window: read the warehouses that joined the set whole, then fetch the parents
        the applied rows reference and this file lacks, until none is missing (foreign keys are
        checked at commit)."""
        tables = sync_tables()
        if self.added:
            for t in tables.values():
                cond = scope_sql(t, self.branch, self.added, own=False, publisher=self.publisher)
                if cond is None:
                    continue
                exprs = sql.SQL(", ").join(sql.SQL(c.select_expr) for c in t.columns)
                q = sql.SQL("COPY (SELECT {} FROM {} WHERE {} ORDER BY id) TO STDOUT").format(
                    exprs, sql.Identifier(t.name), cond)
                with cur.copy(q) as cp:
                    ap.table(t.name, _chunks(self.tap(t.name, cp.rows())))
        while True:
            fetched = 0
            for name in tables:  # parents first
                ids = self._wanted.pop(name, set())
                missing = sorted(ids - _present(ap, name, ids))
                for k in range(0, len(missing), _IDS_PER_QUERY):
                    rows = fetch_server_rows(cur, tables[name], missing[k:k + _IDS_PER_QUERY])
                    if rows:
                        ap.table(name, [list(self.tap(name, rows))])
                        fetched += len(rows)
            if not fetched:
                return


def _present(ap: Applier, name: str, ids: set[str]) -> set[str]:
    out: set[str] = set()
    idl = sorted(ids)
    for k in range(0, len(idl), _IDS_PER_QUERY):
        part = idl[k:k + _IDS_PER_QUERY]
        out.update(str(r[0]) for r in ap.conn.exec_driver_sql(
            f'SELECT lower(hex(id)) FROM "{name}" WHERE id IN ({", ".join("?" * len(part))})',
            tuple(bytes.fromhex(x) for x in part)))
    return out


def _chunks(rows: Iterator[Row], size: int = 50_000) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk
