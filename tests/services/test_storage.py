"""Migration 0020_storage converts an existing file in place: every row equal, the schema of a new file.

The file under test is a seed made by the schema before the migration (the seed's own upgrade is
stopped before 0020), so it is the realistic file a branch has on disk today. The large data set
runs with DEPOT_SLOW=1 (a few minutes: the seed alone).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.models.stamps import EpochDays, UTCMicros, days_iso, micros_iso
from app.services import schema
from app.services.db import make_engine, open_database, session_scope
from app.services.seed import seed_database
from app.services.stock import balance_mismatches

REVISION = "0020_storage"
TODAY = dt.date(2026, 11, 26)
DROPPED = ("ix_stock_move_owner_branch_id", "ix_sales_history_owner_branch_id")


@contextmanager
def previous_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Inside, ``schema.upgrade`` (the seed's, a new file's) runs the migrations as they were
    before ``REVISION``: a copy of the folder without it."""
    old = tmp_path / "migrations-before"
    if not old.exists():
        shutil.copytree(schema.MIGRATIONS, old, ignore=shutil.ignore_patterns("__pycache__"))
        (old / "versions" / f"{REVISION}.py").unlink()
        for later in (old / "versions").glob("*.py"):  # a merge point after it (0022_binary_ids) and all that follows
            if later.name >= "0022":
                later.unlink()
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", old)
        schema._script_heads_from_text.cache_clear()
        try:
            yield
        finally:
            schema._script_heads_from_text.cache_clear()


def seed_previous(path: Path, size: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with previous_schema(monkeypatch, tmp_path):
        seed_database(path, size, seed=5, today=TODAY)
    eng = make_engine(path)
    try:
        assert REVISION not in schema.db_heads(eng), "the file is from before the migration"
    finally:
        eng.dispose()


def _numeric(kind: type) -> set[tuple[str, str]]:
    import app.models  # noqa: F401  (every table)
    from app.models.base import Base

    return {(t.name, c.name) for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, kind)}


#: (table, column) of the times stored as numbers (0023_numeric_times and after), the dates as day numbers
NUMERIC_TIMES = _numeric(UTCMicros)
NUMERIC_DAYS = _numeric(EpochDays)


def _iso_of(v: Any) -> Any:
    if isinstance(v, str) and v.lstrip("-").isdigit():
        v = int(v)
    return micros_iso(v) if isinstance(v, int) else v


def _day_of(v: Any) -> Any:
    if isinstance(v, str) and v.lstrip("-").isdigit():
        v = int(v)
    return days_iso(v) if isinstance(v, int) else v


def table_digests(path: Path) -> dict[str, tuple[int, str]]:
    """Every table's rows (sorted by every column, so storage order does not count) as a digest."""
    conn = sqlite3.connect(path)
    out = {}
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                                            "LIKE 'sqlite_%' AND name NOT LIKE 'item_fts%' AND name <> 'alembic_version'")]
        # times and dates the same whether stored as ISO text or as a number (0023_numeric_times and after;
        # a seed of today written into an older schema leaves the number's digits as text)
        conn.create_function("iso_of", 1, _iso_of)
        conn.create_function("day_of", 1, _day_of)
        for t in names:
            cols = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{t}")')]
            picks = ", ".join(f'iso_of("{c}")' if (t, c) in NUMERIC_TIMES else f'day_of("{c}")' if (t, c) in NUMERIC_DAYS
                              else f'"{c}"' for c in cols)
            h = hashlib.sha256()
            n = 0
            order = ", ".join(str(i) for i in range(1, len(cols) + 1))
            for row in conn.execute(f'SELECT {picks} FROM "{t}" ORDER BY {order}'):
                # an id the same whether stored as 32-hex text or as its 16 bytes (0022_binary_ids)
                h.update(repr(tuple(v.hex() if isinstance(v, bytes) and len(v) == 16 else v for v in row)).encode())
                n += 1
            out[t] = (n, h.hexdigest()[:16])
    finally:
        conn.close()
    return out


def schema_of(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return {(t, n, " ".join(str(s).split())) for t, n, s in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "AND type IN ('table', 'index', 'trigger')")}
    finally:
        conn.close()


def assert_schema_of_a_new_file(path: Path, tmp_path: Path) -> None:
    """A converted file has exactly the tables, indexes and triggers a new file gets."""
    fresh = tmp_path / "fresh.db"
    eng = make_engine(fresh)
    schema.upgrade(eng)
    eng.dispose()
    assert schema_of(path) == schema_of(fresh), "the converted file has the schema of a new file"


def assert_upgraded_in_place(path: Path, tmp_path: Path, kinds: Callable[[Path], set[str]], derived: object,
                             what: str) -> None:
    """A file of an older schema upgraded to the current one: the columns ``kinds`` reads now hold only
    numbers (``what`` says which), every row is kept (``derived``: its ``table_digests``), the schema is
    a new file's and the file is sound."""
    engine = make_engine(path)
    assert schema.upgrade(engine) == schema.script_heads()
    engine.dispose()
    assert kinds(path) == {"integer"}, what
    assert table_digests(path) == derived, "every row of every table is kept"
    assert_schema_of_a_new_file(path, tmp_path)
    assert_sound(path)


def down_to(path: Path, revision: str) -> None:
    """Take a file at head down to ``revision`` through the later migrations' own downgrades."""
    from alembic import command

    engine = make_engine(path)
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # as schema.upgrade does
            with conn.begin():
                cfg = schema._config()
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def assert_sound(path: Path) -> None:
    """SQLite's own checks of a converted file: its b-trees and its foreign keys."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _convert_and_check(path: Path, tmp_path: Path) -> None:
    before = table_digests(path)
    size_before = path.stat().st_size
    eng = make_engine(path)
    try:
        assert schema.upgrade(eng) == schema.script_heads()
    finally:
        eng.dispose()

    after = table_digests(path)
    assert after == before, "every row of every table is kept"
    assert path.stat().st_size < size_before, "the freed pages are given back (VACUUM)"

    assert_schema_of_a_new_file(path, tmp_path)
    names = {n for _t, n, _s in schema_of(path)}
    assert not names & set(DROPPED)
    assert {"trg_stock_move_balance", "ix_stock_balance_item"} <= names

    assert_sound(path)

    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            assert balance_mismatches(s) == []
        _post_a_move_and_see_the_balance(engine)
    finally:
        engine.dispose()


def _post_a_move_and_see_the_balance(engine: Engine) -> None:
    """The balance trigger, set aside and put back by the migration, still keeps stock in step."""
    from sqlalchemy import text

    with engine.begin() as c:
        loc, item = c.execute(text(
            "SELECT b.location_id, b.item_id FROM stock_balance b JOIN location l ON l.id = b.location_id "
            "JOIN item i ON i.id = b.item_id WHERE l.kind = 'storage' AND b.lot_key = '' AND b.qty > 0 "
            "AND i.track_lot = 0 AND i.track_serial = 0 LIMIT 1")).one()
        adjust = c.execute(text("SELECT a.id FROM location a JOIN location l ON l.warehouse_id = a.warehouse_id "
                                "WHERE l.id = :l AND a.kind = 'adjust'"), {"l": loc}).scalar_one()
        owner = c.execute(text("SELECT owner_branch_id FROM location WHERE id = :l"), {"l": loc}).scalar_one()
        qty = c.execute(text("SELECT qty FROM stock_balance WHERE location_id = :l AND item_id = :i AND lot_key = ''"),
                        {"l": loc, "i": item}).scalar_one()
    from app.models.ids import uuid7
    from app.models.stock import StockMove
    from app.models.types import utcnow

    with session_scope(engine) as s:
        s.add(StockMove(id=uuid7(), owner_branch_id=_uuid(owner), item_id=_uuid(item), from_location_id=_uuid(adjust),
                        to_location_id=_uuid(loc), qty=3, reason="adjust", moved_at=utcnow()))
    with engine.connect() as c:
        now = c.execute(text("SELECT qty FROM stock_balance WHERE location_id = :l AND item_id = :i AND lot_key = ''"),
                        {"l": loc, "i": item}).scalar_one()
    assert now == qty + 3


def _uuid(v: object) -> object:
    import uuid

    if isinstance(v, bytes):
        return uuid.UUID(bytes=v)
    return v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))


def test_a_demo_file_from_the_previous_schema_is_converted_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo.db"
    seed_previous(path, "demo", monkeypatch, tmp_path)
    _convert_and_check(path, tmp_path)


@pytest.mark.skipif(os.environ.get("DEPOT_SLOW") != "1", reason="the large seed takes minutes (DEPOT_SLOW=1)")
@pytest.mark.timeout(3600)  # the seed alone is 2 to 6 minutes on 2 shared cores
def test_a_large_file_from_the_previous_schema_is_converted_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "large.db"
    seed_previous(path, "large", monkeypatch, tmp_path)
    copy = tmp_path / "large-copy.db"
    shutil.copy(path, copy)
    path.unlink()
    _convert_and_check(copy, tmp_path)
