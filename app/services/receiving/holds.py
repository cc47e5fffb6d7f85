"""Quality holds: goods received into QA wait for a decision.

``release_holds``: inspection passed, QA -> DOCK and a putaway task per hold. ``reject_holds``:
inspection failed, QA -> supplier with reason 'rtv' (return to vendor). The serial registry
follows the units (its owner's site updates another branch's row).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.receiving import QualityHold, SerialNumber
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.ownership import owns
from app.services.receiving.putaway import TaskRequest, create_tasks
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.workflow import transition


def _open_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID]) -> list[QualityHold]:
    actor.require("receipt.post")
    if not hold_ids:
        raise ValidationError("holds", "choose at least one held line")
    holds = {h.id: h for h in session.scalars(select(QualityHold).where(QualityHold.id.in_(hold_ids)))}
    out = []
    for hid in hold_ids:
        h = holds.get(hid)
        if h is None:
            raise NotFound("quality hold", hid)
        if h.status != "held":
            raise Conflict(f"quality hold of {h.qty} unit(s) is already {h.status}")
        out.append(h)
    return out


def _hold_moves(holds: Sequence[QualityHold], qa_of: dict[uuid.UUID, uuid.UUID], to_of: dict[uuid.UUID, uuid.UUID],
                reason: str) -> list[MoveSpec]:
    moves = []
    for h in holds:
        units: list[str | None] = [s for s in h.serials.split("\n") if s] or [None]
        for unit in units:
            moves.append(MoveSpec(item_id=h.item_id, qty=1 if unit else h.qty, from_location_id=qa_of[h.warehouse_id],
                                  to_location_id=to_of[h.warehouse_id], reason=reason, lot_id=h.lot_id, serial_no=unit,
                                  doc_type="quality_hold", doc_id=h.id, doc_line_id=h.receipt_line_id))
    return moves


def _set_serials(session: Session, holds: Sequence[QualityHold], status: str, loc: dict[uuid.UUID, uuid.UUID]) -> None:
    for h in holds:
        serials = [s for s in h.serials.split("\n") if s]
        if serials:
            for sn in session.scalars(select(SerialNumber).where(SerialNumber.item_id == h.item_id,
                                                                 SerialNumber.serial.in_(serials))):
                if owns(session, sn.owner_branch_id):  # another branch's registry row is its own to update
                    sn.location_id = loc[h.warehouse_id]
                    if sn.status != status:
                        transition(sn, status, None)


def release_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID], *, note: str = "",
                  at: dt.datetime | None = None) -> list[uuid.UUID]:
    """Inspection passed: QA -> DOCK and a putaway task per hold. Returns the task ids."""
    at = at or utcnow()
    holds = _open_holds(session, actor, hold_ids)
    whs = {h.warehouse_id for h in holds}
    qa = {w: virtual_location(session, w, "qa").id for w in whs}
    dock = {w: virtual_location(session, w, "dock").id for w in whs}
    post_moves(session, actor, _hold_moves(holds, qa, dock, "hold"), owner_branch_id=holds[0].owner_branch_id, at=at)
    _set_serials(session, holds, "in_stock", dock)
    task_ids: list[uuid.UUID] = []
    for w in whs:
        mine = [h for h in holds if h.warehouse_id == w]
        tasks = create_tasks(session, w, mine[0].owner_branch_id, [
            TaskRequest(item_id=h.item_id, qty=h.qty, from_location_id=dock[w], lot_id=h.lot_id,
                        serials=tuple(s for s in h.serials.split("\n") if s), receipt_id=h.receipt_id,
                        receipt_line_id=h.receipt_line_id) for h in mine])
        task_ids += [t.id for t in tasks]
    for h in holds:
        h.decision_note = note[:200]
        transition(h, "released", actor, at=at, note=note)
    session.flush()
    return task_ids


def reject_holds(session: Session, actor: Actor, hold_ids: Sequence[uuid.UUID], *, note: str,
                 at: dt.datetime | None = None) -> int:
    """Inspection failed: QA -> supplier with reason 'rtv' (return to vendor). Returns units returned."""
    if not note.strip():
        raise ValidationError("reject reason", "say why the goods are rejected")
    at = at or utcnow()
    holds = _open_holds(session, actor, hold_ids)
    whs = {h.warehouse_id for h in holds}
    qa = {w: virtual_location(session, w, "qa").id for w in whs}
    sup = {w: virtual_location(session, w, "supplier").id for w in whs}
    post_moves(session, actor, _hold_moves(holds, qa, sup, "rtv"), owner_branch_id=holds[0].owner_branch_id, at=at)
    _set_serials(session, holds, "rtv", sup)
    for h in holds:
        h.decision_note = note.strip()[:200]
        transition(h, "rejected", actor, at=at, note=note)
    session.flush()
    return sum(h.qty for h in holds)
