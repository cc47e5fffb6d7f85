"""A first sync's digests as the server summed them, taken by the ``Applier`` when they provably cover
exactly the rows it loaded (else drained or left unread, and ``Applier.finish`` recomputes them).

The server sums the moves (and legacy sales history) it sends in the pull's snapshot
(``pull.balances_query``, ``stock_days_query``, ``sales_weeks_query``, ``replication.digests``) on
another core while SQLite writes; the writer only inserts the result. Each step checks its proof
(the balances' count of move sides against the moves here, the server's counts of the inputs
against the rows here, every digest still set aside and empty) before it takes anything: a wrong
digest is never kept, a refused one costs only the local rebuild it would have saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from app.services.replication.digests import COUNTED
from app.services.replication.digests import HELD as DIGEST_HELD
from app.services.replication.digests import ID_POSITIONS as DIGEST_IDS
from app.services.replication.digests import INSERTS as DIGEST_INSERTS
from app.services.replication.tables import Row, with_stored_ids

#: the trigger that keeps ``stock_balance`` in step with the ledger (set aside by a big batch of moves)
BALANCE_TRIGGER = "trg_stock_move_balance"


class ServerSums:
    """The ``given_*`` steps of ``apply.Applier`` (a mixin: the state below is the Applier's)."""

    conn: Connection
    #: server rows kept out (a local unique key clash)
    unapplied: int
    #: dropped triggers (name -> CREATE sql), digest tables to rebuild, statements to add rows
    _triggers: dict[str, str]
    _rebuild: dict[str, str]
    _add: list[str]
    #: the ledger / the legacy history were empty when their digests were set aside
    _ledger_empty: bool
    _history_empty: bool
    #: the balances were taken: the server summed exactly the moves loaded here
    _balances_given: bool
    #: the statement that adds the loaded moves to the KPI stock days
    _stock_days: str

    def _drop_indexes(self, table: str) -> list[str]:
        raise NotImplementedError

    def _empty(self, table: str) -> bool:
        raise NotImplementedError

    def given_balances(self, chunks: Iterable[Sequence[Row]]) -> bool:
        """Take ``stock_balance`` as the server summed it over the moves of this pull (rows of
        location, item, lot key, qty and the number of move sides summed), instead of the GROUP BY
        of finish(): a 4M-row sort on three text keys, ~10 s of the large set's first sync, where
        the server's hash aggregate runs on the other core while SQLite writes.

        Only when every move here came from this pull (the ledger was empty when its digests were
        set aside) and the sides summed are exactly twice the moves loaded; otherwise the rows are
        thrown away and finish() recomputes the balances as before. Returns whether they were taken.
        """
        conn, unhex = self.conn, bytearray.fromhex  # bound directly (a bytes value: through sqlite3's adapters)
        usable = BALANCE_TRIGGER in self._triggers and "stock_balance" in self._rebuild and self._ledger_empty
        if not usable:
            for _ in chunks:  # the reader delivers them anyway: drain
                pass
            return False
        conn.exec_driver_sql("DELETE FROM stock_balance")
        indexes = self._drop_indexes("stock_balance")
        sides = 0
        for chunk in chunks:
            # location, item and lot key arrive as hex (the wire form); SQLite stores their 16 bytes ('' = no lot)
            conn.exec_driver_sql("INSERT INTO stock_balance (location_id, item_id, lot_key, qty) VALUES (?, ?, ?, ?)",
                                 [(unhex(r[0]), unhex(r[1]), unhex(r[2]) if r[2] else "", r[3]) for r in chunk])
            sides += sum(int(r[4]) for r in chunk)
        moves = int(conn.exec_driver_sql("SELECT count(*) FROM stock_move").scalar() or 0)
        taken = sides == 2 * moves
        if taken:
            del self._rebuild["stock_balance"]
            self._balances_given = True
        else:
            conn.exec_driver_sql("DELETE FROM stock_balance")
        for sql in indexes:
            conn.exec_driver_sql(sql)
        return taken

    def given_stock_days(self, chunks: Iterable[Sequence[Row]]) -> bool:
        """Take ``kpi_stock_day`` as the server summed it over the moves of this pull (warehouse, day,
        inflow, cogs: a few hundred rows) instead of adding the loaded moves in finish() (three look-ups
        per move: ~2.9 s of CPU for a branch's 765,586 moves). Only when the balances were taken (which
        proves the server summed exactly the moves loaded here: same snapshot, same condition) and the
        digest was empty with the ledger when its trigger was set aside; otherwise drained and left to
        finish(). Returns whether they were taken."""
        usable = (self._balances_given and bool(self._stock_days) and self._stock_days in self._add
                  and self._empty("kpi_stock_day"))
        if not usable:
            for _ in chunks:
                pass
            return False
        for chunk in chunks:  # the warehouse arrives as hex (the wire form); SQLite stores its 16 bytes
            self.conn.exec_driver_sql("INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs) VALUES (?, ?, ?, ?)",
                                      [(bytes.fromhex(r[0]), *r[1:]) for r in chunk])
        self._add.remove(self._stock_days)
        return True

    def given_sales_weeks(self, chunks: Iterable[Sequence[Row]], history: int) -> bool:
        """Take ``sales_week`` as the server summed it over the moves and the ``history`` legacy rows
        of this pull (item, warehouse, week, qty, in key order) instead of its rebuild in finish() (a
        GROUP BY of a branch's 436k sales and 359k legacy days: ~2.8 s against ~0.9 s to insert its
        542k rows). Only when the balances proved the moves, the history here is exactly the rows the
        server counted, and both were empty when the digest was set aside; otherwise drained and left
        to finish(). Returns whether they were taken."""
        conn = self.conn
        usable = (self._balances_given and self._history_empty and "sales_week" in self._rebuild
                  and int(conn.exec_driver_sql("SELECT count(*) FROM sales_history").scalar() or 0) == history)
        if not usable:
            for _ in chunks:
                pass
            return False
        conn.exec_driver_sql("DELETE FROM sales_week")
        unhex = bytearray.fromhex  # item and warehouse arrive as hex (the wire form); SQLite stores their 16 bytes
        for chunk in chunks:
            conn.exec_driver_sql("INSERT INTO sales_week (item_id, warehouse_id, week, qty) VALUES (?, ?, ?, ?)",
                                 [(unhex(r[0]), unhex(r[1]), r[2], r[3]) for r in chunk])
        del self._rebuild["sales_week"]
        return True

    def given_digests(self, counts: Sequence[Row], digests: Iterable[tuple[str, Iterable[Sequence[Row]]]], *,
                      held_only: bool = False) -> bool:
        """Take ``kpi_po_line`` as the server computed it from the rows of this pull
        (``replication.digests``) instead of grouping the loaded ledger in finish() (large set: ~4 s
        of CPU, against ~1.3 s to insert the result). Only when the balances were taken (the server
        summed exactly the moves loaded here), the digest is to be rebuilt whole, no row was kept
        out, and the rows the server counted in its snapshot (``counts``: one row,
        ``digests.COUNTED``) are the rows here; otherwise they are not read and finish() groups as
        before. ``digests`` are (name, chunks) in the server's order; returns whether taken.
        ``held_only`` (a selective branch, after its parents were fetched): rows of a PO line this
        file lacks are dropped, as the local rebuild's join drops them (``digests.HELD``)."""
        conn = self.conn
        usable = self._balances_given and self.unapplied == 0 and {"kpi_po_line"} <= set(self._rebuild)
        if usable:
            here = tuple(int(conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar() or 0) for t in COUNTED)
            usable = [tuple(int(x) for x in r) for r in counts] == [here]
        if not usable:
            return False  # not read: the second connection is closed with them
        for name, chunks in digests:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')  # rebuilt whole, as finish() would
            indexes = self._drop_indexes(name)  # written in one pass, indexed once after
            ids = DIGEST_IDS[name]
            for chunk in chunks:  # ids as the 16 bytes SQLite stores (bytearray: bound directly)
                conn.exec_driver_sql(DIGEST_INSERTS[name], with_stored_ids(chunk, ids))
            if held_only:
                conn.exec_driver_sql(DIGEST_HELD[name])
            for sql in indexes:
                conn.exec_driver_sql(sql)
            del self._rebuild[name]
        return True
