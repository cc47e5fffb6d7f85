"""The KPI PO lines of a first sync, computed by the server.

When a workstation's first sync loads a file that holds none of their inputs, ``kpi_po_line`` is
a function of rows the server is sending anyway (all of them, or a branch's scope of them). Grouping the PO receipts and putaways in SQLite
after the load cost the large set's first sync ~4 s of the writer's CPU (the writer is the critical
path); the server computes it on the pull's second connection (``replication.ahead``: the same
snapshot, the same row security) while SQLite writes the ledger, and the writer only inserts the
result (``Applier.given_digests``, ~1.3 s), after checking that it loaded exactly the rows the
server read (the balances prove the moves; ``COUNTS`` the receipt lines).

A selective branch's first sync (issue 20) takes them too: the server reads the moves and receipt
lines of the branch's scope (the conditions of their own queries) and joins every PO line it has;
the file may lack a PO line a move names (``stock_move.doc_line_id`` is no foreign key), which the
local rebuild's inner join drops, so the writer drops those rows too (``Applier.given_digests``,
``held_only``). Large set, Dallas: 118,024 rows for ~1.5 s of server CPU, against ~1.2 s of the
writer's grouping.

The statement mirrors the SQLite one (``kpi.kpi_po_line_rebuild_sql``) in storage form: uuids as
hex, dates as days since 1970-01-01 and times as microseconds (``stamps``, 0026_kpi_times: computed
from the server's text by the server, not the writer), text compared byte-wise (``COLLATE "C"``, as
SQLite's BINARY: the ISO times sort as the numbers do).
"""

from __future__ import annotations

from psycopg import sql

#: the digests a first sync takes from the server, in the order they are read (and applied)
NAMES = ("kpi_po_line",)
#: the job that counts the digests' inputs in the snapshot (compared with the rows loaded)
COUNTS = "digest inputs (counted by the server)"
#: the tables counted, in COUNTS' column order (the moves are proven by the balances)
COUNTED = ("receipt_line",)


def _hex(expr: str) -> str:
    return f"encode(uuid_send({expr}), 'hex')"


def _days(expr: str) -> str:
    return f"({expr} - date '1970-01-01')"


def _micros(expr: str) -> str:
    """The server's ISO text time as SQLite stores it (``stamps.micros``; extract is exact numeric)."""
    return f"(extract(epoch from ({expr})::timestamptz) * 1000000)::bigint"


KPI_PO_LINE = f"""
SELECT {_hex('pl.id')}, {_hex('pl.po_id')}, {_hex('pl.ship_to_warehouse_id')}, {_hex('w.branch_id')},
       {_hex('p.supplier_id')}, {_days('p.order_date')},
       {_days('COALESCE(pl.expected_date, p.expected_date)')}, pl.qty_ordered,
       {_micros('m.first_at')}, {_micros('m.last_at')}, m.qty, {_micros('m.put_at')}
FROM (SELECT doc_line_id, min(first_at COLLATE "C") AS first_at, max(last_at COLLATE "C") AS last_at,
             sum(qty)::bigint AS qty, max(put_at COLLATE "C") AS put_at
      FROM (SELECT doc_line_id, CASE WHEN reason = 'receipt' THEN moved_at END AS first_at,
                   CASE WHEN reason = 'receipt' THEN moved_at END AS last_at,
                   CASE WHEN reason = 'receipt' THEN qty ELSE 0 END AS qty,
                   CASE WHEN reason = 'putaway' THEN moved_at END AS put_at
            FROM stock_move WHERE doc_type = 'PO' AND reason IN ('receipt', 'putaway') AND {{moves}}
            UNION ALL
            SELECT receipt_line.po_line_id, r.posted_at, r.posted_at, receipt_line.qty, NULL
            FROM receipt_line JOIN receipt r ON r.id = receipt_line.receipt_id
            WHERE receipt_line.po_line_id IS NOT NULL AND {{receipts}}) u
      GROUP BY doc_line_id) m
JOIN purchase_order_line pl ON pl.id = m.doc_line_id
JOIN purchase_order p ON p.id = pl.po_id
JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
ORDER BY pl.id"""

QUERIES = {"kpi_po_line": KPI_PO_LINE}

#: the local statements that take the server's rows
INSERTS = {
    "kpi_po_line": "INSERT INTO kpi_po_line (po_line_id, po_id, warehouse_id, branch_id, supplier_id, order_date, "
                   "expected_date, qty_ordered, first_at, last_at, qty, put_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}

#: what a selective file keeps of the server's rows: those whose parents it holds (the local
#: rebuild's inner join; ``Applier.given_digests(held_only=True)``)
HELD = {"kpi_po_line": "DELETE FROM kpi_po_line WHERE po_line_id NOT IN (SELECT id FROM purchase_order_line)"}

#: the positions of the ids in each digest's rows (hex on the wire, 16 bytes in SQLite)
ID_POSITIONS = {"kpi_po_line": (0, 1, 2, 3, 4)}


def jobs(where: dict[str, sql.Composable | None] | None = None) -> list[tuple[str, sql.Composed]]:
    """The second connection's statements, in the order the writer takes them: the counts first.

    ``where``: table -> the condition of its rows in this pull (a branch's scope; none: every row),
    for ``stock_move`` and the ``COUNTED`` tables; the tables are not aliased in the statements."""
    given = where or {}
    cond = {t: c if (c := given.get(t)) is not None else sql.SQL("true") for t in ("stock_move", *COUNTED)}
    counts = sql.SQL("SELECT ") + sql.SQL(", ").join(
        sql.SQL("(SELECT count(*) FROM {} WHERE {})").format(sql.Identifier(t), cond[t]) for t in COUNTED)
    query = sql.SQL(QUERIES["kpi_po_line"]).format(moves=cond["stock_move"], receipts=cond["receipt_line"])
    return [(COUNTS, sql.Composed([counts])), ("kpi_po_line", sql.Composed([query]))]
