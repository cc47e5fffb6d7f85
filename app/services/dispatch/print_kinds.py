"""Pick lists in the print registry, so the print centre, ``depot print picklist`` and the bulk
printer know them (and record who printed which wave) without importing Dispatch."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.dispatch import Wave
from app.models.org import Warehouse
from app.services import printing
from app.services.dispatch.picklist import picklist_pdf
from app.services.dispatch.waves import find_wave
from app.services.printing import Printable, QueueRow


def _queue(session: Session, since: dt.date, until: dt.date, status: str | None, limit: int) -> list[QueueRow]:
    lo = dt.datetime.combine(since, dt.time(0), dt.UTC)
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), dt.UTC)
    q = (select(Wave, Warehouse.code).join(Warehouse, Warehouse.id == Wave.warehouse_id)
         .where(Wave.created_at >= lo, Wave.created_at < hi, Wave.deleted_at.is_(None), Wave.status != "cancelled"))
    if status:
        q = q.where(Wave.status == status)
    rows = session.execute(q.order_by(Wave.created_at.desc()).limit(limit)).all()
    return [QueueRow("picklist", w.number, w.created_at.date(), wh, w.status, f"{w.lines} line{'' if w.lines == 1 else 's'}") for w, wh in rows]


def _branch(session: Session, ref: str) -> uuid.UUID:
    return find_wave(session, ref).owner_branch_id


printing.register(Printable("picklist", "Pick lists", lambda s, ref, _again: picklist_pdf(s, ref), _queue, None,
                            _branch, action="print.documents"))
