"""Human document numbers: branch prefix + counter, e.g. DAL-PO-000123 (or DAL-PO-2-000017).

Unique across branches without asking the server because the prefix is the branch code. Within
a branch, every workstation (a site with its own SQLite file) works offline, so two of them must
never count on the same series: each has its own, keyed by its workstation number, which the
server hands out once at the site's first sync as a branch (``sync_state.workstation``). The
branch's first workstation (and a standalone file) keeps the short form ``DAL-PO-000123``; the
second numbers ``DAL-PO-2-000001`` and so on. A series row has a deterministic id (branch, key),
so even two sites that did create the same series converge on one row instead of clashing on
the (branch, doc_type) unique key.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models.docs_common import NumberSeries
from app.models.hlc import clock
from app.models.org import Branch
from app.models.types import utcnow
from app.services.db import site_id
from app.services.errors import Conflict, NotFound
from app.services.ownership import ForeignWrite, owns

#: namespace of the deterministic series ids
_SERIES_NS = uuid.UUID("6f1b8c1e-5d0a-4b8e-9a51-2f7c0e3d9a10")


def workstation(session: Session) -> int:
    """This site's workstation number within its branch (1 until the server gives another)."""
    v = session.execute(text("SELECT value FROM sync_state WHERE key = 'workstation'")).scalar_one_or_none()
    return int(v) if v else 1


def series_id(branch_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(_SERIES_NS, f"{branch_id.hex}:{key}")


#: sync_state key a restore of a replicating file sets (app/services/restore.py): the last
#: sync_history seq the backup had. Until a sync after it succeeds, no number is handed out.
RESTORED_KEY = "numbering.restored_at_sync"


def _check_synced_since_restore(session: Session) -> None:
    """A file restored from a backup has the series as they were on the backup's day; numbers taken
    since (and sent to the server) would be handed out again. The first sync after the restore
    pulls the server's series (newer by HLC); until one succeeds, numbering waits for it."""
    held = session.execute(text("SELECT value FROM sync_state WHERE key = :k"), {"k": RESTORED_KEY}).scalar()
    if held is None:
        return
    synced = session.execute(text("SELECT 1 FROM sync_history WHERE seq > :s AND ok = 1 LIMIT 1"),
                             {"s": int(held)}).first()
    if synced is None:
        raise Conflict("this workstation was restored from a backup and has not synced since: the server may "
                       "already hold document numbers taken after the backup; sync first (Sync now, "
                       "Ctrl+Shift+Y, or 'depot sync --once'), then number the document")
    session.execute(text("DELETE FROM sync_state WHERE key = :k"), {"k": RESTORED_KEY})


def next_number(session: Session, branch_id: uuid.UUID, doc_type: str) -> str:
    """Take the next number of ``doc_type`` for the branch (inside the caller's transaction)."""
    return next_numbers(session, branch_id, doc_type, 1)[0]


def next_numbers(session: Session, branch_id: uuid.UUID, doc_type: str, count: int) -> list[str]:
    """Take the next ``count`` numbers of ``doc_type`` for the branch in one step (a batch of
    documents written in the caller's transaction): consecutive, so a batch that commits leaves no
    gap and one that rolls back gives them all back."""
    if count < 1:
        return []
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    if not owns(session, branch_id):  # raw statements below: the flush guard would not see them
        raise ForeignWrite(f"{branch.code}'s document numbers are taken only at a {branch.code} workstation")
    _check_synced_since_restore(session)
    ws = workstation(session)
    key = doc_type if ws == 1 else f"{doc_type}.{ws}"
    # Create the series row if missing without racing another writer (INSERT OR IGNORE).
    session.execute(
        sqlite_insert(NumberSeries)
        .values(id=series_id(branch_id, key), branch_id=branch_id, doc_type=key, next_value=1, width=6,
                owner_branch_id=branch_id, created_at=utcnow(), updated_at=utcnow(),
                hlc=clock.now(), hlc_site=site_id(session))
        .on_conflict_do_nothing()
    )
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.branch_id == branch_id, NumberSeries.doc_type == key)
    ).one()
    # One atomic UPDATE ... RETURNING: two sessions can never take the same value.
    taken = session.execute(
        update(NumberSeries)
        .where(NumberSeries.id == series.id)
        .values(next_value=NumberSeries.next_value + count, hlc=clock.now(), hlc_site=site_id(session))
        .returning(NumberSeries.next_value, NumberSeries.width)
    ).one()
    first, width = taken[0] - count, taken[1]
    session.expire(series)
    tag = "" if ws == 1 else f"{ws}-"
    return [f"{branch.code}-{doc_type}-{tag}{value:0{width}d}" for value in range(first, first + count)]
