"""Human document numbers: branch prefix + per-branch counter, e.g. DAL-PO-000123.

Unique across branches without asking the server because the prefix is the branch code.
The counter row is a branch document, so it replicates to the branch's other workstations.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models.docs_common import NumberSeries
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.org import Branch
from app.models.types import utcnow
from app.services.db import site_id
from app.services.errors import NotFound


def next_number(session: Session, branch_id: uuid.UUID, doc_type: str) -> str:
    """Take the next number of ``doc_type`` for the branch (inside the caller's transaction)."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    # Create the series row if missing without racing another writer (INSERT OR IGNORE).
    session.execute(
        sqlite_insert(NumberSeries)
        .values(id=uuid7(), branch_id=branch_id, doc_type=doc_type, next_value=1, width=6,
                owner_branch_id=branch_id, created_at=utcnow(), updated_at=utcnow(),
                hlc=clock.now(), hlc_site=site_id(session))
        .on_conflict_do_nothing(index_elements=["branch_id", "doc_type"])
    )
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.branch_id == branch_id, NumberSeries.doc_type == doc_type)
    ).one()
    # One atomic UPDATE ... RETURNING: two sessions can never take the same value.
    taken = session.execute(
        update(NumberSeries)
        .where(NumberSeries.id == series.id)
        .values(next_value=NumberSeries.next_value + 1, hlc=clock.now(), hlc_site=site_id(session))
        .returning(NumberSeries.next_value, NumberSeries.width)
    ).one()
    value, width = taken[0] - 1, taken[1]
    session.expire(series)
    return f"{branch.code}-{doc_type}-{value:0{width}d}"
