"""Ids are stored as 16 bytes (migration 0022_binary_ids), and a file with text ids converts in place.

The file with text ids is made the way a branch's file looks before the migration: written at the
current schema, then taken down through the migration's own downgrade (every id back to the 32-hex
text the previous Depot wrote, capture triggers as they were). Then ``schema.upgrade`` converts it:
every row the same, every id 16 bytes, the schema of a new file, and the triggers (capture, balance,
ledger guards) still doing their work.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from app.models.catalog import Lot, lot_id_for
from app.models.stock import StockBalance, StockMove
from app.services import schema
from app.services.db import make_engine, open_database, session_scope
from app.services.id_storage import id_columns
from app.services.stock import MoveSpec, balance_mismatches, post_moves, virtual_location
from tests.factories import build_world
from tests.services.test_storage import assert_schema_of_a_new_file, assert_sound, table_digests

REVISION = "0022_binary_ids"


def id_kinds(path: Path) -> dict[str, int]:
    """How many non-empty id values of the file are stored as each SQLite type."""
    conn = sqlite3.connect(path)
    out: dict[str, int] = {}
    try:
        for table, cols in id_columns(conn).items():
            for c in cols:
                for kind, n in conn.execute(f'SELECT typeof("{c}"), count(*) FROM "{table}" '
                                            f"WHERE \"{c}\" IS NOT NULL AND \"{c}\" <> '' GROUP BY 1"):
                    out[str(kind)] = out.get(str(kind), 0) + int(n)
    finally:
        conn.close()
    return out


def outbox(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(str(t), r) for t, r in conn.execute("SELECT tbl, row_id FROM sync_outbox ORDER BY seq")]
    finally:
        conn.close()


def text_id_file(path: Path) -> None:
    """A file at today's schema with stock (a lot too), taken down to text ids by 0022's downgrade."""
    engine = make_engine(path)
    schema.upgrade(engine)
    with session_scope(engine) as s:
        w = build_world(s)
        milk = w.items["MILK"]
        lot = lot_id_for(milk.id, "L-42")
        s.add(Lot(id=lot, item_id=milk.id, lot_code="L-42", owner_branch_id=w.dal.id))
        s.flush()
        sup = virtual_location(s, w.wh_dal.id, "supplier")
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 40, sup.id, w.bins["DAL1-A-01"].id, "receipt"),
                             MoveSpec(milk.id, 6, sup.id, w.bins["DAL1-C-01"].id, "receipt", lot_id=lot)],
                   owner_branch_id=w.dal.id)
    engine.dispose()
    to_text_ids(path)


def to_text_ids(path: Path) -> None:
    """Take a file at head down through 0022's own downgrade: ids as the previous Depot wrote them
    (the migrations after it first: 0023_numeric_times)."""
    from tests.services.test_numeric_times import to_text_times

    to_text_times(path)
    engine = make_engine(path)
    spec = importlib.util.spec_from_file_location(REVISION, schema.MIGRATIONS / "versions" / f"{REVISION}.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            migration.downgrade()
        conn.exec_driver_sql("DELETE FROM alembic_version WHERE version_num = ?", (REVISION,))
        for parent in migration.down_revision:
            conn.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES (?)", (parent,))
    engine.dispose()


def test_a_file_with_text_ids_is_converted_to_binary_ids_in_place(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    text_id_file(path)
    kinds = id_kinds(path)
    assert set(kinds) == {"text"} and kinds["text"] > 100, "the previous Depot's file: every id is 32-hex text"
    before = table_digests(path)
    queued = outbox(path)
    assert queued and all(len(r) == 32 for _t, r in queued)

    engine = make_engine(path)
    assert schema.upgrade(engine) == schema.script_heads()
    engine.dispose()

    assert set(id_kinds(path)) == {"blob"}, "every id is now 16 bytes"
    assert table_digests(path) == before, "every row of every table is kept, ids the same"
    assert outbox(path) == queued, "the outbox keeps its 32-hex row ids (replication's form)"
    assert_schema_of_a_new_file(path, tmp_path)
    assert_sound(path)

    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            assert balance_mismatches(s) == []
            move = s.scalars(select(StockMove).where(StockMove.qty == 40)).one()
            bal = s.scalars(select(StockBalance).where(StockBalance.location_id == move.to_location_id)).one()
            assert (bal.item_id, bal.qty) == (move.item_id, 40)
            post_moves(s, None, [MoveSpec(move.item_id, 2, move.from_location_id, move.to_location_id, "receipt")],
                       owner_branch_id=move.owner_branch_id)
        with session_scope(engine) as s:
            assert s.get(StockBalance, (move.to_location_id, move.item_id, "")).qty == 42  # type: ignore[union-attr]
            assert balance_mismatches(s) == []
            newest = s.scalars(select(StockMove).where(StockMove.qty == 2)).one()
    finally:
        engine.dispose()
    assert outbox(path)[-1] == ("stock_move", newest.id.hex), "capture still queues new rows, as hex"
