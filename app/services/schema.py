"""Schema upgrades of the branch database with Alembic, and the version gate.

``upgrade`` brings a file to the newest schema this build knows (creating it if new);
``check_current`` refuses a file from a newer Depot (unknown revision) or one that needs
an upgrade, before any screen or command touches it.

The gate runs on every start, so its common case (the file is current) reads the
migration heads from the version scripts as text and never imports Alembic (~150 ms of a
1 s cold-start budget); only a mismatch loads Alembic to give the precise message.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, exc, text

from app.services.errors import DatabaseProblem

if TYPE_CHECKING:
    from alembic.config import Config

class SchemaOutdated(DatabaseProblem):
    """The file is from an older Depot and needs ``upgrade`` (the window offers it, after a backup)."""


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@functools.cache
def _script_heads_from_text() -> frozenset[str] | None:
    """The heads, from `revision = ...` / `down_revision = ...` lines; None if a script is unusual."""
    revs: set[str] = set()
    downs: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        src = f.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*(.+)$", src, re.M)
        if rev is None:
            continue
        down = re.search(r"^down_revision\s*=\s*(.+)$", src, re.M)
        try:
            revs.add(str(ast.literal_eval(rev.group(1).split("#")[0].strip())))
            d = ast.literal_eval(down.group(1).split("#")[0].strip()) if down else None
        except (ValueError, SyntaxError):
            return None
        downs.update([d] if isinstance(d, str) else list(d or ()))
    return frozenset(revs - downs)


def script_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_config()).get_heads())


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()}


def db_heads(engine: Engine) -> set[str]:
    """The revisions stamped in the file (empty when it has no Depot schema)."""
    try:
        with engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except exc.OperationalError as e:
        if "no such table" in str(e):
            return set()
        raise


#: ``sync_state`` key written in the migrations' transaction and removed after the VACUUM that
#: follows: an upgrade killed (or out of disk) while compacting left a file at the new schema that
#: was never compacted, and nothing tried again (the large file stayed 1,525 MB instead of 1,343)
COMPACT_PENDING = "schema.compact_pending"

#: what an upgrade says as it goes: (step, steps, line); the window's progress dialog, the CLI's stderr
Progress = Callable[[int, int, str], None]


def compaction_pending(engine: Engine) -> bool:
    """Did an upgrade of this file stop before it was compacted?"""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM sync_state WHERE key = :k"),
                                {"k": COMPACT_PENDING}).first() is not None
    except exc.OperationalError as e:
        if "no such table" in str(e):
            return False
        raise


def check_current(engine: Engine) -> None:
    heads = db_heads(engine)
    path = engine.url.database
    if heads and frozenset(heads) == _script_heads_from_text():
        if compaction_pending(engine):
            raise SchemaOutdated(f"{path} did not finish its upgrade (it was not compacted yet): "
                                 f"run 'depot db upgrade --db {path}'")
        return  # the common case, without importing Alembic
    if not heads:
        raise DatabaseProblem(f"{path} has no Depot schema (run 'depot db upgrade --db {path}')")
    unknown = heads - known_revisions()
    if unknown:
        raise DatabaseProblem(
            f"{path} was written by a newer Depot (schema {', '.join(sorted(unknown))}); "
            "install the newer version to open it"
        )
    if heads != script_heads():
        raise SchemaOutdated(f"{path} needs a schema upgrade: run 'depot db upgrade --db {path}'")


def _steps(heads: set[str], target: str) -> list[tuple[str, str]]:
    """The migrations an upgrade from ``heads`` to ``target`` applies, oldest first: (revision, what it does)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    by_id = {r.revision: r for r in script.walk_revisions()}

    def with_ancestors(start: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(start)
        while todo:
            rev = todo.pop()
            if rev in seen or rev not in by_id:
                continue
            seen.add(rev)
            down = by_id[rev].down_revision
            todo.extend([down] if isinstance(down, str) else list(down or ()))
        return seen

    wanted = with_ancestors(set(script.get_heads()) if target == "heads" else {target}) - with_ancestors(heads)
    order = [r for r in reversed(list(script.walk_revisions())) if r.revision in wanted]  # oldest first
    return [(r.revision, (r.doc or "").strip().splitlines()[0].rstrip(".") if r.doc else r.revision) for r in order]


def upgrade(engine: Engine, target: str = "heads", progress: Progress | None = None) -> set[str]:
    """Upgrade to ``target`` in one transaction; returns the new heads. An existing file is then
    compacted when the migrations freed pages (``COMPACT_PENDING`` says so until it is done).
    ``progress(step, steps, line)`` is told each migration before it runs, and the compaction."""
    from alembic import command

    heads = db_heads(engine)
    unknown = heads - known_revisions()
    if unknown:
        raise DatabaseProblem(
            f"{engine.url.database} was written by a newer Depot (schema {', '.join(sorted(unknown))})"
        )
    report = progress or (lambda _step, _steps, _line: None)
    steps = _steps(heads, target) if heads else []
    total = len(steps) + 1  # and the compaction
    cfg = _config()
    if steps:
        report(0, total, f"step 1 of {total}: {steps[0][0]}: {steps[0][1]}")

        applied_ids: list[str] = []

        def applied(*, step: Any, **_kw: Any) -> None:  # the next step: the oldest not applied yet
            applied_ids.append(str(step.up_revision_id))
            left = [(r, doc) for r, doc in steps if r not in applied_ids]
            if left:
                k = len(steps) - len(left)
                report(k, total, f"step {k + 1} of {total}: {left[0][0]}: {left[0][1]}")

        cfg.attributes["on_version_apply"] = applied
    with engine.connect() as conn:
        # Foreign keys off for the migrations (SQLite's own advice for schema changes; a no-op
        # inside a transaction, hence the raw connection before BEGIN): with them on, rewriting a
        # parent key (0022_binary_ids) made SQLite look for its children, a scan per row where the
        # child column has no index. Migrations keep keys consistent themselves (tests check).
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, target)
                if heads and db_heads_of(conn) != heads and _has_sync_state(conn):  # committed with them, or not at all
                    conn.execute(text("INSERT OR REPLACE INTO sync_state (key, value) VALUES (:k, '1')"),
                                 {"k": COMPACT_PENDING})
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
    # local indexes that are not migrations (kept by triggers, never replicated)
    from app.services.search_index import ensure_for_engine

    ensure_for_engine(engine)
    if compaction_pending(engine):  # an existing file was upgraded (now or by a run that stopped)
        if os.environ.get("DEPOT_SYNC_FAULT") == "upgrade-before-compact":  # the crash test (as backup.fault)
            os.kill(os.getpid(), signal.SIGKILL)
        report(total - 1, total, f"step {total} of {total}: compacting the file (gives back the pages "
                                 "the conversion freed; needs free disk about its size)")
        compact_if_freed(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sync_state WHERE key = :k"), {"k": COMPACT_PENDING})
    report(total, total, "done")
    return db_heads(engine)


def _has_sync_state(conn: Any) -> bool:
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sync_state'")).first() is not None


def db_heads_of(conn: Any) -> set[str]:
    return {str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))}


#: an upgrade that left more than this share of the file free (and at least COMPACT_MIN_BYTES) is
#: followed by a VACUUM: SQLite keeps freed pages inside the file, so a file converted in place
#: (0020_storage frees 200 MB of the large data set) would otherwise not get smaller on disk
COMPACT_SHARE = 0.02
COMPACT_MIN_BYTES = 1024 * 1024


def compact_if_freed(engine: Engine) -> bool:
    """VACUUM the file when many of its pages are free (after an upgrade); True when it did."""
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        assert con is not None
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        if free * page_size < COMPACT_MIN_BYTES or free < pages * COMPACT_SHARE:
            return False
        con.execute("VACUUM")
        return True
    finally:
        raw.close()
