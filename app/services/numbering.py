"""Human document numbers: branch prefix + per-branch counter, e.g. DAL-PO-000123.

Unique across branches without asking the server because the prefix is the branch code.
The counter row is a branch document, so it replicates to the branch's other workstations.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.docs_common import NumberSeries
from app.models.hlc import clock
from app.models.org import Branch
from app.services.db import site_id
from app.services.errors import NotFound


def next_number(session: Session, branch_id: uuid.UUID, doc_type: str) -> str:
    """Take the next number of ``doc_type`` for the branch (inside the caller's transaction)."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.branch_id == branch_id, NumberSeries.doc_type == doc_type)
    ).one_or_none()
    if series is None:
        series = NumberSeries(branch_id=branch_id, doc_type=doc_type, next_value=1, owner_branch_id=branch_id)
        session.add(series)
        session.flush([series])
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
