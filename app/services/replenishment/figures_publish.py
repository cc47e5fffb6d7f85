"""A branch publishes its own warehouses' figures for its sisters (``warehouse_figures``).

Every sister needs, for transfer-vs-buy, only what this branch's warehouses could spare per item:
on hand, allocated, outbound, the order-up-to level by the branch's own policy and demand, and the
weekly demand behind it. The warehouse's own branch holds its whole ledger, so it computes them with
the replenishment run's own arrays (``engine.all_arrays``) and writes the rows that changed; the
sync sends them to the server, and under selective replication every branch pulls them
(``sister_figures`` reads them in a run). The background job publishes every 10 minutes from the
branch's first workstation only (two workstations writing the same rows would make conflicts).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.models.demand import WarehouseFigures, figures_id_for
from app.services import jobs
from app.services.bulk import BulkInsert, Stamp
from app.services.db import session_scope
from app.services.ownership import ownership
from app.services.replenishment import figures as fg
from app.services.replenishment.engine import all_arrays

_VERSIONED = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site")
_FIELDS = ("on_hand", "allocated", "outbound", "order_up_to", "demand_weeks", "demand_sum", "demand_sq")


def publish(session: Session, branch_id: uuid.UUID | None, *, today: dt.date | None = None,
            history_weeks: int = fg.DEFAULT_HISTORY_WEEKS, arrays: Any = None) -> int:
    """Write the figures of ``branch_id``'s warehouses (every warehouse's, each owned by its branch,
    when None: a seeded head-office file that holds them all); only rows that changed. Returns how
    many rows were written. ``arrays``: what ``engine.all_arrays`` gave for the same ``today`` and
    ``history_weeks`` in an earlier (read) transaction, when nothing they read has changed since
    (the seed reads them without holding the write lock while its other steps write)."""
    today = today or dt.date.today()
    items, whs, a = arrays if arrays is not None else all_arrays(session, today, history_weeks)
    mine = [(v, uuid.UUID(h), uuid.UUID(b)) for v, (h, _c, b) in enumerate(whs)
            if branch_id is None or b == branch_id.hex]
    if not mine or not items:
        return 0
    old: dict[uuid.UUID, WarehouseFigures] = {f.id: f for f in session.scalars(select(WarehouseFigures).where(
        WarehouseFigures.warehouse_id.in_([w for _v, w, _b in mine])))}
    outbound = a.outbound + a.req_out
    oul = np.ceil(a.oul - 1e-9)
    item_ids = [uuid.UUID(it[0]) for it in items]
    new: list[tuple[Any, ...]] = []
    stamp = Stamp.take(session)
    as_of = today.isoformat()
    n = 0
    for v, wh, owner in mine:
        cols = (a.on_hand[:, v].tolist(), a.allocated[:, v].tolist(), outbound[:, v].tolist(), oul[:, v].tolist(),
                a.demand_sum[:, v].tolist(), a.demand_sq[:, v].tolist())
        for i, (on_hand, allocated, out, up_to, d_sum, d_sq) in enumerate(zip(*cols, strict=True)):
            vals = (int(on_hand), int(allocated), int(out), int(up_to), history_weeks, int(d_sum), int(d_sq))
            fid = figures_id_for(item_ids[i], wh, owner)
            row = old.get(fid)
            if row is None:
                if not any(vals[:4]) and not vals[5]:
                    continue  # nothing here, nothing needed: no row
                # a new row goes in with the others in one bulk insert (a first publish writes every pair)
                new.append((fid.hex, owner.hex, stamp.now, stamp.now, stamp.hlc, stamp.site, item_ids[i].hex, wh.hex,
                            *vals, as_of))
                n += 1
                continue
            if tuple(getattr(row, f) for f in _FIELDS) == vals and row.deleted_at is None:
                continue
            for f, x in zip(_FIELDS, vals, strict=True):
                setattr(row, f, x)
            row.as_of, row.deleted_at = today, None
            n += 1
    session.flush()
    BulkInsert(session, WarehouseFigures, (*_VERSIONED, "item_id", "warehouse_id", *_FIELDS, "as_of")).write(new)
    return n


def _due(session: Session) -> uuid.UUID | None:
    """This workstation's branch, when it is the one to publish (a replicating branch site, first
    workstation); else None."""
    own = ownership(session)
    if not own.enforced:
        return None
    ws = session.execute(text("SELECT value FROM sync_state WHERE key = 'workstation'")).scalar()
    return own.branch_id if str(ws or "") == "1" else None


def _job(engine: Engine, _settings: Any) -> int:
    with session_scope(engine) as s:
        branch = _due(s)
        return publish(s, branch) if branch is not None else 0


#: the background job: this branch's figures for its sisters, every 10 minutes (first workstation)
PUBLISH = jobs.register(jobs.Job("replenishment.sister_figures", _job, interval_s=600, first_s=60,
                                 label="warehouse figures for sister branches"))
