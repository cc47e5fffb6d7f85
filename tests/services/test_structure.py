"""Migrations 0024_structure and 0024b_history_index drop indexes no workstation query needs, in place.

The file before the migration is made at today's schema and taken down through the migration's
own downgrade (the indexes back). ``schema.upgrade`` converts it: every row the same, the schema of
a new file, SQLite's checks. The reads the dropped indexes served still search an index (the
UNIQUE constraint whose prefix they were), not a scan.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from typing import Any

from app.services import schema
from app.services.buying import purchasing
from app.services.buying.purchasing import LineInput
from app.services.db import make_engine, open_database, session_scope
from tests.factories import build_world
from tests.services.test_storage import assert_schema_of_a_new_file, assert_sound, down_to, table_digests

REVISION = "0024_structure"


def _migration() -> Any:
    spec = importlib.util.spec_from_file_location(REVISION, schema.MIGRATIONS / "versions" / f"{REVISION}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {str(n) for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def _plan(path: Path, sql: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return " | ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", (b"\0" * 16,)))
    finally:
        conn.close()


def _branch_file(path: Path) -> None:
    """A file at today's schema with master data, a PO with lines and its owner's rows."""
    engine = make_engine(path)
    schema.upgrade(engine)
    engine.dispose()
    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            w = build_world(s)
            purchasing.create_po(s, w.actors["alice"], "ACME", "DAL1",
                                 [LineInput(sku="BOLT", qty=5), LineInput(sku="WIDGET", qty=24)])
    finally:
        engine.dispose()


def test_a_file_with_the_indexes_is_converted_in_place(tmp_path: Path) -> None:
    dropped = set(_migration()._all()) | {"ix_sales_history_pair_day"}
    assert len(dropped) == 19
    path = tmp_path / "branch.db"
    _branch_file(path)
    at_head = table_digests(path)
    assert not dropped & _indexes(path), "a new file has none of them"

    down_to(path, "0023_numeric_times")
    assert dropped <= _indexes(path), "the previous Depot's file has them all"
    assert table_digests(path) == at_head

    engine = make_engine(path)
    try:
        assert schema.upgrade(engine) == schema.script_heads()
    finally:
        engine.dispose()
    assert not dropped & _indexes(path)
    assert table_digests(path) == at_head, "every row of every table is kept"
    assert_schema_of_a_new_file(path, tmp_path)
    assert_sound(path)


def test_the_reads_of_the_dropped_indexes_still_search_an_index(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = make_engine(path)
    schema.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        uniques = {(str(t), str(n)): [str(r[2]) for r in conn.execute(f"PRAGMA index_info('{n}')")]
                   for t, n in conn.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()
    for index, (table, cols) in _migration().PREFIX_INDEXES.items():
        plan = _plan(path, f'SELECT * FROM "{table}" WHERE {cols[0]} = ?')
        used = plan.split("USING INDEX ")[1].split(" ")[0] if "USING INDEX " in plan else ""
        assert uniques.get((table, used), [])[:1] == cols, f"{index}'s reads search {used or plan}"


def test_a_new_file_has_8_kib_pages_and_an_existing_file_keeps_its_own(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    engine = make_engine(new)
    schema.upgrade(engine)
    engine.dispose()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE t (x)")  # a file written by an older Depot: 4 KiB pages
    conn.close()
    engine = make_engine(old)
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO t VALUES (1)")
        c.commit()
    engine.dispose()
    sizes = {}
    for path in (new, old):
        conn = sqlite3.connect(path)
        sizes[path.name] = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
    assert sizes == {"new.db": 8192, "old.db": 4096}
