"""Shared fixtures: a real SQLite file per test, a small world of master data, actors.

QT_QPA_PLATFORM is set before any Qt import; pytest-qt owns the one QApplication.
Long stress and fault runs are marked ``slow`` and run only with DEPOT_SLOW=1.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DEPOT_KEYRING", "memory")  # never touch the developer's real keyring

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.services import schema  # noqa: E402
from app.services.db import make_engine, open_database  # noqa: E402
from tests.factories import World, build_world  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DEPOT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long run: set DEPOT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A new, empty, fully migrated branch database file."""
    path = tmp_path / "branch.db"
    engine = make_engine(path)
    schema.upgrade(engine)
    engine.dispose()
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
    """Head office + two branches, a warehouse each with bins, items, a supplier, a customer, users."""
    w = build_world(session)
    session.commit()
    return w
