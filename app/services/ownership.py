"""Who may write which row on this site, and how an owner settles what others did to its documents.

Why this exists: the server's row-level security lets a branch write only the documents it owns
(DESIGN.md, "an action on another branch's document is a new row owned by the actor"). A service
that simply updated another branch's purchase order would work on the workstation and then be
refused at the next push, landing in the conflict log far from the user who did it. So:

* ``ForeignWriteGuard`` (a ``before_flush`` hook) refuses, at the moment of the write, any row the
  server would refuse: a document or ledger row owned by another branch, master data inserted by a
  branch, or a branch edit of a master field that is not branch-editable. Services therefore find
  out in tests, not in the field.
* A service acting on another branch's document writes a row of its own (an approval decision,
  a transfer receipt, a ship-to branch's expected receipt) and, when this site owns the document,
  settles it at once. The owner's site settles the rest after every pull: ``settle_all`` runs the
  registered settlers, each idempotent ("bring my documents in line with what others recorded").

A site that has never replicated (no server configured, no cursor: a standalone install or the demo
file holding every branch) owns everything; the guard is off and settlement is immediate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from app.models.base import DOCUMENT, LEDGER, MASTER
from app.models.org import Branch
from app.models.sync import LocalSite
from app.services.errors import PermissionDenied
from app.services.events import require_loaded

#: bookkeeping columns a branch may change on master data besides its branch-editable fields
_MASTER_BOOKKEEPING = frozenset({"hlc", "hlc_site", "updated_at"})


class ForeignWrite(PermissionDenied):
    """A write the server would refuse because this site's branch does not own the row."""


class Ownership:
    """This site's branch and whether the ownership rule applies (read once per Session)."""

    __slots__ = ("branch_id", "head_office", "replicating")

    def __init__(self, branch_id: uuid.UUID | None, head_office: bool, replicating: bool) -> None:
        self.branch_id = branch_id
        self.head_office = head_office
        self.replicating = replicating

    @property
    def enforced(self) -> bool:
        return self.replicating and self.branch_id is not None

    def owns(self, owner_branch_id: uuid.UUID | None) -> bool:
        """May this site write a document owned by ``owner_branch_id``?"""
        return not self.enforced or owner_branch_id == self.branch_id


def ownership(session: Session) -> Ownership:
    cached = session.info.get("ownership")
    if isinstance(cached, Ownership):
        return cached
    conn = session.connection()
    branch_id = conn.execute(select(LocalSite.branch_id).where(LocalSite.id == 1)).scalar_one_or_none()
    replicating = conn.execute(text("SELECT 1 FROM sync_state WHERE key IN ('dsn', 'cursor') LIMIT 1")).first() is not None
    head_office = bool(branch_id and conn.execute(select(Branch.is_head_office).where(Branch.id == branch_id)).scalar())
    own = Ownership(branch_id, head_office, replicating)
    session.info["ownership"] = own
    return own


def owns(session: Session, owner_branch_id: uuid.UUID | None) -> bool:
    return ownership(session).owns(owner_branch_id)


def acting_branch(session: Session, default: uuid.UUID) -> uuid.UUID:
    """The branch a new row of the actor's belongs to: this site's branch when the ownership rule
    applies, else ``default`` (usually the document's branch, as a standalone site owns all)."""
    own = ownership(session)
    return own.branch_id if own.enforced and own.branch_id is not None else default


def working_branch(session: Session, home_branch_id: uuid.UUID | None) -> uuid.UUID | None:
    """The branch whose data a signed-in user's screens and defaults show on this site.

    At a branch workstation that replicates, the workstation's branch: the file holds that branch's
    documents and the server takes only its rows, so a Dallas dispatcher covering at Houston builds
    Houston's manifest, and a Dallas manager there sees Houston's KPIs and recommendations (before,
    the defaults named Dallas, whose documents the file does not hold: "no confirmed shipments from
    DAL1", an empty manifest list). At head office and on a standalone file, which hold every
    branch, the user's home branch. Authority is not this: a buyer still buys only for their own
    branch's warehouses (``requisitions._owner``), wherever they sit."""
    own = ownership(session)
    if own.enforced and not own.head_office:
        return own.branch_id
    return home_branch_id


# --------------------------------------------------------------------------- the guard


def _refusal(own: Ownership, obj: Any, is_new: bool) -> str | None:
    sync = getattr(type(obj), "__sync__", None)
    what = f"{type(obj).__tablename__} {getattr(obj, 'id', '')}"
    state = inspect(obj)
    if sync in (LEDGER, DOCUMENT):
        owner = obj.owner_branch_id
        if not is_new:
            hist = state.attrs.owner_branch_id.history
            if hist.deleted and hist.deleted[0] != own.branch_id:
                return f"{what} belongs to another branch"
        if owner != own.branch_id:
            return f"{what} belongs to another branch; this workstation writes only its own branch's documents"
        return None
    if sync == MASTER and not own.head_office:
        if is_new:
            return f"{what} is master data: only head office adds it"
        editable = type(obj).__branch_editable__ | _MASTER_BOOKKEEPING
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        bad = sorted(changed - editable)
        if bad:
            return f"{what}: only head office changes {', '.join(bad)}"
    return None


@event.listens_for(Session, "before_flush")
def _guard(session: Session, _ctx: Any, _instances: Any) -> None:
    if session.info.get("apply_remote") or session.info.get("ownership_off"):
        return
    if not session.new and not session.dirty:
        return
    own = ownership(session)
    if not own.enforced:
        return
    new = set(map(id, session.new))
    for obj in list(session.new) + list(session.dirty):
        if getattr(type(obj), "__sync__", None) not in (LEDGER, DOCUMENT, MASTER):
            continue
        is_new = id(obj) in new
        if not is_new and not session.is_modified(obj, include_collections=False):
            continue
        why = _refusal(own, obj, is_new)
        if why:
            raise ForeignWrite(why)


def _raw_owners(state: ORMExecuteState) -> set[Any]:
    """owner_branch_id values an INSERT statement carries (``values(...)`` or executemany rows)."""
    found: set[Any] = set()
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if isinstance(params, dict) else []
    for row in rows:
        if isinstance(row, dict) and "owner_branch_id" in row:
            found.add(row["owner_branch_id"])
    values = getattr(state.statement, "_values", None) or {}
    for col, bind in values.items():
        if getattr(col, "key", col) == "owner_branch_id":
            found.add(getattr(bind, "value", bind))
    multi = getattr(state.statement, "_multi_values", None) or ()
    for group in multi:
        for row in group:
            for col, val in (row.items() if isinstance(row, dict) else ()):
                if getattr(col, "key", col) == "owner_branch_id":
                    found.add(getattr(val, "value", val))
    return found


def check_insert(session: Session, model: Any, owners: set[Any]) -> None:
    """Raise ``ForeignWrite`` when this site may not insert rows of ``model`` owned by ``owners``
    (the rule of the flush guard, for statements that bypass the ORM: bulk imports)."""
    sync = getattr(model, "__sync__", None)
    if sync not in (LEDGER, DOCUMENT, MASTER) or session.info.get("apply_remote") \
            or session.info.get("ownership_off"):
        return
    own = ownership(session)
    if not own.enforced:
        return
    name = model.__table__.name
    if sync == MASTER and not own.head_office:
        raise ForeignWrite(f"{name} is master data: only head office adds it")
    foreign = {o for o in owners if o is not None and o != own.branch_id and o != getattr(own.branch_id, "hex", "")
               and o != getattr(own.branch_id, "bytes", b"")}
    if sync != MASTER and foreign:
        raise ForeignWrite(f"{name}: rows of another branch; this workstation writes only its own branch's")


@event.listens_for(Session, "do_orm_execute")
def _guard_raw(state: ORMExecuteState) -> None:
    """The same rule for INSERT/UPDATE statements run through ``session.execute`` (bulk imports,
    counters), which never pass through a flush."""
    if not (state.is_insert or state.is_update):
        return
    session = state.session
    if session.info.get("apply_remote") or session.info.get("ownership_off"):
        return
    mapper = state.bind_mapper
    cls = getattr(mapper, "class_", None)
    sync = getattr(cls, "__sync__", None)
    if cls is None or sync not in (LEDGER, DOCUMENT, MASTER):
        return
    own = ownership(session)
    if not own.enforced:
        return
    table = cls.__table__
    name = table.name
    if state.is_insert:
        check_insert(session, cls, _raw_owners(state))
        return
    stmt = state.statement
    if sync == MASTER:
        if own.head_office:
            return
        keys = {getattr(c, "key", c) for c in (getattr(stmt, "_values", None) or {})}
        if isinstance(state.parameters, dict):
            keys |= set(state.parameters)
        bad = sorted(str(k) for k in keys - (cls.__branch_editable__ | _MASTER_BOOKKEEPING))
        if bad:
            raise ForeignWrite(f"{name}: only head office changes {', '.join(bad)}")
        return
    where = list(getattr(stmt, "_where_criteria", ()) or ())
    probe = select(func.count()).select_from(table).where(*where, table.c.owner_branch_id != own.branch_id)
    if session.connection().execute(probe).scalar():
        raise ForeignWrite(f"{name}: that update reaches another branch's rows; this workstation writes only its own")


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: Any) -> None:
    """Read again next transaction: a site may have been connected to a server meanwhile."""
    session.info.pop("ownership", None)


# --------------------------------------------------------------------------- settlement


Settler = Callable[[Session], int]
_SETTLERS: dict[str, Settler] = {}


def settler(name: str) -> Callable[[Settler], Settler]:
    """Register ``fn(session) -> rows settled``: run on the owner's site after every pull."""
    def register(fn: Settler) -> Settler:
        _SETTLERS[name] = fn
        return fn
    return register


def registered_settlers() -> list[str]:
    return sorted(_SETTLERS)


def settle_all(session: Session) -> tuple[dict[str, int], list[str]]:
    """Run every settler, each in its own savepoint; returns what each changed and the errors of
    those that failed (rolled back alone, retried after the next pull). Idempotent. The settlers
    are registered with ``@settler`` where they are defined; ``app.services.wiring.load`` loads them."""
    require_loaded("settling")
    done: dict[str, int] = {}
    errors: list[str] = []
    for name, fn in sorted(_SETTLERS.items()):
        try:
            with session.begin_nested():
                n = fn(session)
        except Exception as e:  # noqa: BLE001 - one broken settler must not stop the others or the sync
            errors.append(f"settling {name}: {e}")
            continue
        if n:
            done[name] = n
    return done, errors
