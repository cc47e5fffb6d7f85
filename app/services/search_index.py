"""The item search index: SQLite FTS5 over item code, GTIN and description, set up by sqlite-utils.

sqlite-utils creates the external-content index over ``item`` and the three triggers that keep it
current on every insert, update and delete, whoever writes the item (a form, an import, a pulled
row). The index is **local-only**: a virtual table outside the model registry, so it has no capture
trigger and never replicates; every site builds its own from its items (``ensure_item_search``
after each schema upgrade; ``rebuild`` after a bulk load that set its triggers aside). The lookup
itself is ``app.services.sales.search``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

FTS_TABLE = "item_fts"
FTS_COLUMNS = ("sku", "gtin", "description")
#: the triggers sqlite-utils creates on ``item`` (a bulk loader may set them aside, then rebuild)
FTS_TRIGGERS = ("item_ai", "item_ad", "item_au")


def ensure_item_search(dbapi_conn: sqlite3.Connection) -> bool:
    """Create the FTS5 index over items and its triggers if missing (idempotent). Returns whether
    it was created. Runs on a raw connection outside any transaction: sqlite-utils uses
    ``executescript``, which commits."""
    import sqlite_utils

    db = sqlite_utils.Database(dbapi_conn)
    table = db.table("item")
    if not table.exists():
        return False
    existed = db.table(FTS_TABLE).exists()
    table.enable_fts(list(FTS_COLUMNS), create_triggers=True, tokenize="unicode61", replace=True)
    return not existed


def ensure_for_engine(engine: Engine) -> bool:
    with engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        return ensure_item_search(raw)


def rebuild(session_or_conn: Any) -> None:
    """Re-read every item into the index (after a bulk load with the triggers set aside)."""
    sql = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES('rebuild')"
    if isinstance(session_or_conn, Session):
        session_or_conn.execute(text(sql))
    else:
        session_or_conn.execute(sql)
