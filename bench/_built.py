"""Files a bench builds once and reuses (``/tmp/depot_bench_*.db``): rebuilt when this code cannot use them.

A file built by an earlier Depot may have the schema of today (a migration added nothing to it) and
still hold rows in a stored form of before (ids as 32-hex text before 0022_binary_ids, times as ISO
text before 0023_numeric_times): every query of the bench then finds nothing or fails. Reading one
row of each table the bench relies on through its model finds that out, whatever the next storage
change is: the model's types refuse a stored form they do not know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def stale(path: Path, *models: Any) -> bool:
    """True when ``path`` is missing, needs a schema upgrade, lacks rows of one of ``models``, or holds
    rows the models cannot read."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.services import schema
    from app.services.db import make_engine
    from app.services.errors import DatabaseProblem

    if not path.exists():
        return True
    engine = make_engine(path)
    try:
        schema.check_current(engine)
        with Session(engine) as s:
            return any(s.scalars(select(m).limit(1)).first() is None for m in models)
    except (DatabaseProblem, ValueError):  # a schema of another version; a stored form of before
        return True
    finally:
        engine.dispose()
