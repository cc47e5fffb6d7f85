"""Fixtures for replication tests: a private PostgreSQL database per test, branch sites.

Every test gets its own database ``depot_t_<random>`` and role prefix ``dt_<random>_`` on the
shared server at 127.0.0.1:5432 (other people use it at the same time), dropped at the end.
Sites are real SQLite files copied from one migrated template.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.services import schema
from app.services.db import make_engine, open_database, session_scope
from app.services.id_storage import stored_params
from app.services.replication.engine import SyncResult, sync_once
from app.services.replication.server import add_branch, drop_roles, init_server
from app.services.replication.tables import sync_tables
from tests.factories import World, build_world
from tests.sync.tls_cluster import tls_cluster  # noqa: F401  (fixture: a private TLS + password cluster)

PG_HOST = os.environ.get("DEPOT_TEST_PGHOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DEPOT_TEST_PGPORT", "5432"))
ADMIN_DSN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"


def _pg_available() -> bool:
    try:
        psycopg.connect(ADMIN_DSN, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


@dataclass
class Server:
    dsn: str  # owner (superuser) DSN of this test's database
    dbname: str
    prefix: str
    roles: dict[str, str] = field(default_factory=dict)  # branch code -> role

    def role_dsn(self, code: str) -> str:
        return f"host={PG_HOST} port={PG_PORT} user={self.roles[code]} password=x dbname={self.dbname}"

    def add(self, code: str) -> str:
        login = add_branch(self.dsn, code, password="x")
        self.roles[code] = login.role
        return self.role_dsn(code)

    def query(self, q: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as c:
            return [tuple(r) for r in c.execute(q, args).fetchall()]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    eng = make_engine(path)
    schema.upgrade(eng)
    eng.dispose()
    return path


@pytest.fixture
def server() -> Iterator[Server]:
    if not _pg_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running (.ci/run starts it)")
    tag = secrets.token_hex(4)
    dbname = f"depot_t_{tag}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    dsn = f"host={PG_HOST} port={PG_PORT} user=postgres dbname={dbname}"
    init_server(dsn, role_prefix=f"dt_{tag}_")
    srv = Server(dsn, dbname, f"dt_{tag}_")
    try:
        yield srv
    finally:
        try:
            drop_roles(dsn)
        finally:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


class Site:
    """One workstation database (a real SQLite file) and its server login."""

    def __init__(self, path: Path, dsn: str) -> None:
        self.path = path
        self.dsn = dsn
        self.engine: Engine = open_database(path)

    def sync(self, **kw: Any) -> SyncResult:
        res = sync_once(self.engine, self.dsn, **kw)
        assert res.ok, res.error
        return res

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def scalar(self, q: str, **params: Any) -> Any:
        """One value of raw SQL; ids given as 32-hex text (as the tests hold them) are compared as the
        16 bytes the file stores; a stored id comes back as hex."""
        with self.engine.connect() as c:
            v = c.execute(text(q), stored_params(params)).scalar()
        return v.hex() if isinstance(v, bytes) and len(v) == 16 else v

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def make_site(tmp_path: Path, template_db: Path) -> Iterator[Any]:
    sites: list[Site] = []

    def make(name: str, dsn: str) -> Site:
        path = tmp_path / f"{name}.db"
        shutil.copy(template_db, path)
        s = Site(path, dsn)
        sites.append(s)
        return s

    yield make
    for s in sites:
        s.close()


@dataclass
class Net:
    server: Server
    hq: Site
    dal: Site
    hou: Site
    world: World


@dataclass
class NetTemplate:
    dbname: str
    prefix: str
    roles: dict[str, str]
    files: dict[str, Path]
    world: World


@pytest.fixture(scope="session")
def net_template(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[NetTemplate]:
    """Built once: head office seeds master data and publishes it; two branches first-sync it.

    Each test gets a copy (CREATE DATABASE ... TEMPLATE, and copies of the SQLite files),
    so tests stay independent without paying for the set-up every time.
    """
    if not _pg_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running (.ci/run starts it)")
    tag = secrets.token_hex(4)
    dbname = f"depot_t_{tag}_tpl"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    dsn = f"host={PG_HOST} port={PG_PORT} user=postgres dbname={dbname}"
    srv = Server(dsn, dbname, f"dt_{tag}_")
    try:
        init_server(dsn, role_prefix=srv.prefix)
        root = tmp_path_factory.mktemp("net")
        files = {n: root / f"{n}.db" for n in ("hq", "dal", "hou")}
        for f in files.values():
            shutil.copy(template_db, f)
        hq = Site(files["hq"], dsn)
        with session_scope(hq.engine) as s:
            world = build_world(s)
        hq.sync()  # as the owner: the first publish of head office's master data
        for code in ("HQ", "DAL", "HOU"):
            srv.add(code)
        hq.close()
        for code in ("DAL", "HOU"):
            site = Site(files[code.lower()], srv.role_dsn(code))
            site.sync()
            site.close()
        for f in files.values():  # clones must not remember the template's address
            eng = open_database(f)
            with eng.begin() as c:
                c.execute(text("DELETE FROM sync_state WHERE key = 'dsn'"))
            eng.dispose()
        yield NetTemplate(dbname, srv.prefix, dict(srv.roles), files, world)
    finally:
        try:
            drop_roles(dsn)
        finally:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@contextmanager
def cloned_net(tpl: NetTemplate, directory: Path) -> Iterator[Net]:
    """A private copy of the template network: its own server database and site files."""
    dbname = tpl.dbname.removesuffix("_tpl") + "_" + secrets.token_hex(3)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{tpl.dbname}"')
    srv = Server(f"host={PG_HOST} port={PG_PORT} user=postgres dbname={dbname}", dbname, tpl.prefix, dict(tpl.roles))
    sites = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, f in tpl.files.items():
        shutil.copy(f, directory / f.name)
        sites[name] = Site(directory / f.name, srv.role_dsn(name.upper()))
    try:
        yield Net(srv, sites["hq"], sites["dal"], sites["hou"], tpl.world)
    finally:
        for site in sites.values():
            site.close()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def net(net_template: NetTemplate, tmp_path: Path) -> Iterator[Net]:
    with cloned_net(net_template, tmp_path) as n:
        yield n


def site_hashes(site: Site) -> dict[str, tuple[int, str]]:
    import hashlib

    out = {}
    with site.engine.connect() as c:
        for t in sync_tables().values():
            cols = ", ".join(col.sqlite_expr for col in t.columns)  # ids as the hex the server's rows show
            rows = sorted(tuple("" if v is None else v.hex() if isinstance(v, bytes) else str(v) for v in r)
                          for r in c.exec_driver_sql(f'SELECT {cols} FROM "{t.name}"'))
            out[t.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return out


def server_hashes(server: Server) -> dict[str, tuple[int, str]]:
    import hashlib

    out = {}
    with psycopg.connect(server.dsn) as c:
        for t in sync_tables().values():
            exprs = ", ".join(col.select_expr for col in t.columns)
            rows = sorted(tuple("" if v is None else str(v) for v in r) for r in c.execute(f'SELECT {exprs} FROM "{t.name}"'))
            out[t.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return out


def quiesce(*sites: Site) -> None:
    """Push everything everywhere, then pull everywhere (twice: lost pushes restore server rows)."""
    for _ in range(2):
        for s in sites:
            s.sync()
