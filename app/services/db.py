"""Opening a branch database safely, and the one way to get a Session.

A missing, locked, corrupt or newer-schema file gives a ``DatabaseProblem`` with a clear
message before anything is written. Every Session stamps HLC and site on the versioned
rows it flushes, so conflict resolution has a clock on every write.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from app.models.base import _Versioned
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.sync import LocalSite
from app.models.types import utcnow
from app.services import changes as _changes  # noqa: F401  (every Session records the tables it wrote)
from app.services import ownership as _ownership  # noqa: F401  (its before_flush guard holds every Session)
from app.services import schema
from app.services.errors import DatabaseProblem, NotFound
from app.services.id_storage import hex_row, stored_params

T = TypeVar("T")

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
#: page size of a new database file (bytes)
PAGE_SIZE = 8192


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin: see _on_begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # a new file's pages are 8 KiB (SQLite's default 4): less of each page is left over by rows that
    # do not fit (a fresh large seed 9 MB smaller, docs/data.md 'Structure'); it takes only before the
    # first table is written: an existing file keeps its page size (WAL, set next, fixes it)
    cur.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _on_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE for write sessions: a writer takes the lock before it reads, so two
    writers queue on busy_timeout instead of failing with a stale WAL snapshot; readers use
    a plain deferred BEGIN and never block."""
    mode = "IMMEDIATE" if conn.get_execution_options().get("depot_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(path: str | Path) -> Engine:
    """An engine for ``path`` with Depot's pragmas; does not check the file (see open_database)."""
    engine = create_engine(f"sqlite:///{Path(path)}", future=True)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions start with BEGIN IMMEDIATE (see _on_begin)."""
    return engine.execution_options(depot_write=True)


def check_file(path: str | Path, *, must_exist: bool = True) -> Path:
    """Refuse a missing file, a directory, or a file that is not SQLite."""
    p = Path(path)
    if not p.exists():
        if must_exist:
            raise DatabaseProblem(
                f"database file {p} does not exist (create it with 'depot seed --db {p}' "
                f"or 'depot db upgrade --db {p}')"
            )
        return p
    if p.is_dir():
        raise DatabaseProblem(f"database path {p} is a directory, not a file")
    if p.stat().st_size > 0:
        with p.open("rb") as f:
            if f.read(16) != SQLITE_MAGIC:
                raise DatabaseProblem(f"{p} is not a Depot database (not an SQLite file, or corrupt)")
    return p


def open_database(path: str | Path, *, check_schema: bool = True) -> Engine:
    """Open an existing branch database, refusing one that is corrupt, locked or of another schema."""
    p = check_file(path)
    engine = make_engine(p)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
    except exc.DatabaseError as e:
        engine.dispose()
        raise translate(e, p) from None
    if check_schema:
        try:
            schema.check_current(engine)
        except DatabaseProblem:
            engine.dispose()
            raise
    return engine


def translate(e: BaseException, path: object = "database") -> DatabaseProblem:
    """Turn an sqlite3/SQLAlchemy error into a message a user can act on."""
    msg = str(getattr(e, "orig", e)).lower()
    if "locked" in msg or "busy" in msg:
        return DatabaseProblem(f"{path} is locked by another program; try again when it is finished")
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return DatabaseProblem(f"{path} is corrupt or not a Depot database ({msg})")
    if "readonly" in msg or "read-only" in msg:
        return DatabaseProblem(f"{path} is read-only")
    if "disk" in msg and "full" in msg:
        return DatabaseProblem(f"the disk holding {path} is full")
    return DatabaseProblem(f"{path}: {msg}")


def site_id(session: Session) -> str:
    """This database's site id (created on first use); the HLC tie-break."""
    cached = session.info.get("site_id")
    if cached:
        return str(cached)
    # Core statements only: this runs inside before_flush, where the ORM may not flush.
    conn = session.connection()
    found = conn.execute(select(LocalSite.site_id).where(LocalSite.id == 1)).scalar_one_or_none()
    if found is None:
        found = uuid7()
        conn.execute(insert(LocalSite).values(id=1, site_id=found, created_at=utcnow()))
    session.info["site_id"] = str(found)
    return str(found)


def local_branch_id(session: Session) -> uuid.UUID | None:
    row = session.get(LocalSite, 1)
    return row.branch_id if row else None


@event.listens_for(Session, "before_flush")
def _stamp_hlc(session: Session, _ctx: Any, _instances: Any) -> None:
    """Every new or changed versioned row gets a fresh HLC and this site's id."""
    targets = [o for o in list(session.new) + list(session.dirty) if isinstance(o, _Versioned)]
    if not targets:
        return
    if session.info.get("apply_remote"):
        return  # replication apply keeps the remote clock
    site = site_id(session)
    new = set(map(id, session.new))  # once: session.new/.dirty are rebuilt on every access (O(n^2) on big flushes)
    for obj in targets:
        if id(obj) not in new and not session.is_modified(obj, include_collections=False):
            continue
        if id(obj) not in new and _only_local(obj):
            continue
        obj.hlc = clock.now()
        obj.hlc_site = site


def _only_local(obj: Any) -> bool:
    """A change of only the row's ``__local_columns__`` (this site's bookkeeping): no new version, so
    the capture trigger, which compares the other columns, records nothing. ``updated_at`` is written
    as it was (else its onupdate would make a new version)."""
    local: frozenset[str] = getattr(type(obj), "__local_columns__", frozenset())
    if not local:  # every flush of a versioned row passes here: most tables have none
        return False
    state = inspect(obj)
    if not state.committed_state or not local.issuperset(state.committed_state):
        return False
    if "updated_at" not in state.dict:
        return False  # not loaded: a new version is the safe side (sent once too often)
    flag_modified(obj, "updated_at")
    return True


def get_live(session: Session, model: type[T], row_id: object, what: str) -> T:
    """The row with this id, unless it does not exist or is a tombstone (NotFound names ``what``)."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise NotFound(what, row_id)
    return row


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error; SQLite errors become messages.

    ``write=True`` (the default) starts with BEGIN IMMEDIATE so concurrent writers queue.
    """
    session = Session(writer(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except exc.OperationalError as e:
        session.rollback()
        raise translate(e, engine.url.database) from e
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def raw_rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows as plain tuples from the DB-API cursor of the session's own connection (same
    transaction): a bulk read of 10^5 rows without building 10^5 SQLAlchemy Row objects."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        cur.execute(sql, params or {})
        return list(cur.fetchall())
    finally:
        cur.close()


def local_scope(session: Session) -> set[str] | None:
    """The warehouses (hex ids) whose rows this file holds in full, or None for every warehouse
    (head office, a standalone file, a branch of a server without selective replication)."""
    raw = session.execute(text("SELECT value FROM sync_state WHERE key = 'scope'")).scalar()
    return {x for x in str(raw).split(",") if x} or None if raw else None


def hex_raw_rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """``raw_rows`` for modules that keep ids as 32-hex text in Python: hex parameters go in as the
    16 bytes the columns hold, 16-byte values come out as hex (``id_storage``)."""
    return [hex_row(r) for r in raw_rows(session, sql, stored_params(params or {}))]


def has_table(session: Session, name: str) -> bool:
    """Whether the file has this table yet (a run on a file from before a migration reads around it)."""
    return bool(inspect(session.connection()).has_table(name))
