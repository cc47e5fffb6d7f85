"""Schema upgrades of the branch database with Alembic, and the version gate.

``upgrade`` brings a file to the newest schema this build knows (creating it if new);
``check_current`` refuses a file from a newer Depot (unknown revision) or one that needs
an upgrade, before any screen or command touches it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.services.errors import DatabaseProblem

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(_config()).get_heads())


def known_revisions() -> set[str]:
    return {r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()}


def db_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def check_current(engine: Engine) -> None:
    heads = db_heads(engine)
    path = engine.url.database
    if not heads:
        raise DatabaseProblem(f"{path} has no Depot schema (run 'depot db upgrade --db {path}')")
    unknown = heads - known_revisions()
    if unknown:
        raise DatabaseProblem(
            f"{path} was written by a newer Depot (schema {', '.join(sorted(unknown))}); "
            "install the newer version to open it"
        )
    if heads != script_heads():
        raise DatabaseProblem(f"{path} needs a schema upgrade: run 'depot db upgrade --db {path}'")


def upgrade(engine: Engine, target: str = "heads") -> set[str]:
    """Upgrade to ``target`` in one transaction per migration; returns the new heads."""
    heads = db_heads(engine)
    unknown = heads - known_revisions()
    if unknown:
        raise DatabaseProblem(
            f"{engine.url.database} was written by a newer Depot (schema {', '.join(sorted(unknown))})"
        )
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    return db_heads(engine)
