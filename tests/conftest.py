"""Shared fixtures: a real SQLite file per test, a small world of master data, actors.

QT_QPA_PLATFORM is set before any Qt import; pytest-qt owns the one QApplication.
Long stress and fault runs are marked ``slow`` and run only with DEPOT_SLOW=1.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DEPOT_KEYRING", "memory")  # never touch the developer's real keyring
# the data folder (backups, logs, internal-error reports) and the settings of a test run are its own,
# whatever the shell says: a developer's DEPOT_DATA_DIR with backups in it made the scheduled-backup
# test see "a recent backup exists", and tests must never write into a user's folders
os.environ["DEPOT_DATA_DIR"] = __import__("tempfile").mkdtemp(prefix="depot-test-data-")
os.environ["DEPOT_CONFIG_DIR"] = __import__("tempfile").mkdtemp(prefix="depot-test-config-")

import shutil  # noqa: E402
import sqlite3  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.services import schema, wiring  # noqa: E402
from app.services.db import make_engine, open_database  # noqa: E402
from app.views import collector  # noqa: E402
from tests.factories import World, build_world, load_world  # noqa: E402
from tests.smtp_server import smtp  # noqa: E402, F401  (fixture: a real SMTP server on loopback)

#: the tracking world (carriers, accounts on a carrier sandbox, orders, shipments): services, views, CLI
pytest_plugins = ["tests.tracking_world"]

wiring.load()  # every package's follow-up handlers and settlers, as the entry points load them


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DEPOT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long run: set DEPOT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _freeze(path: Path) -> None:
    """Fold the WAL into the main file so a plain file copy is a complete database."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """From the first Qt test on, cyclic garbage is collected on the GUI (main) thread only, as in
    the window (``app.views.collector``): otherwise a worker that happens to allocate frees what
    earlier tests left (screens, runners, their signals) off their thread. The timer collects
    while a test waits on Qt; each test's end collects what is due (a full collection after every
    Qt test, the stopgap this replaces, cost about 3 min of CPU over the suite)."""
    if {"qtbot", "qapp"} & set(request.fixturenames):
        collector.install(request.getfixturevalue("qapp"))
    yield
    gui = collector.installed()
    if gui is not None:
        gui.collect_due()


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per run; every test gets a copy (migrating per test cost ~1 s each)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = make_engine(path)
    schema.upgrade(engine)
    engine.dispose()
    _freeze(path)
    return path


@pytest.fixture(scope="session")
def _template_world_db(_template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "world.db"
    shutil.copyfile(_template_db, path)
    engine = make_engine(path)
    with Session(engine) as s:
        build_world(s)
        s.commit()
    engine.dispose()
    _freeze(path)
    return path


@pytest.fixture
def db_path(tmp_path: Path, request: pytest.FixtureRequest, _template_db: Path) -> Path:
    """A new, fully migrated branch database file (holding the small world when the test asks for it).

    Each copy forgets the template's site id, so every test database is a site of its own.
    """
    path = tmp_path / "branch.db"
    source = request.getfixturevalue("_template_world_db") if "world" in request.fixturenames else _template_db
    shutil.copyfile(source, path)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM local_site")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    eng = open_database(db_path)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    s = Session(engine, expire_on_commit=False)
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def world(session: Session) -> World:
    """Head office + two branches, a warehouse each with bins, items, a supplier, a customer, users
    (copied from a template built once by ``build_world``)."""
    w = load_world(session)
    session.commit()
    return w


@pytest.fixture
def bw(session: Session, world: World) -> World:
    """The buying world: ``world`` with a supplier contract on every item and the default approval
    rules (a small PO is approved on submit; bigger ones need one or two levels). A test module
    that needs more overrides it as ``def bw(bw: World) -> World`` and adds its part."""
    from sqlalchemy import select

    from app.models.parties import ItemSupplier
    from app.services.buying.approval_rules import ensure_default_rules

    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    ensure_default_rules(session, world.ho.id)
    session.commit()
    return world

