"""What outbound and inbound EDI share: our own interchange id and the control counters."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.edi import EdiCounter
from app.models.hlc import clock
from app.models.org import Branch
from app.services.db import site_id
from app.services.errors import DomainError, NotFound
from app.services.numbering import workstation
from app.services.ownership import ForeignWrite, owns

#: X12 qualifier 'ZZ' (mutually defined); EDIFACT partner id qualifier likewise
OUR_QUALIFIER = "ZZ"
MAX_CONTROL = 999_999_999
#: control numbers per workstation of a branch (see ``next_control``)
WS_BLOCK = 10_000_000
_COUNTER_NS = uuid.UUID("0b6f3f0e-6c1d-4d55-8d1e-3f1f6d2a7c41")


def our_id(session: Session, branch_id: uuid.UUID) -> tuple[str, str]:
    """Depot's interchange id for a branch: 'DEPOT' + branch code (e.g. DEPOTDAL), qualifier ZZ."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    return OUR_QUALIFIER, f"DEPOT{branch.code}"


def interchange_key(standard: str, partner_id: str) -> str:
    """The counter of every interchange Depot sends one partner in one standard (``x12`` ISA13,
    ``edifact`` UNB 0020): 850s, 855s, 810s, 997s and CONTRLs alike. The partner is its interchange
    id without the qualifier, so a 997 addressed with the qualifier the partner's file carried and
    an 850 addressed with the one in master data still count on one counter."""
    if standard not in ("x12", "edifact"):
        raise ValueError(f"EDI standard {standard!r}")
    return f"ic:{standard}:{partner_id.strip()}"


#: counters kept per message type before one counter per partner and standard (``_legacy_top``)
_LEGACY = {"x12": "x12", "997": "x12", "855": "x12", "810": "x12",
           "edifact": "edifact", "CONTRL": "edifact", "ORDRSP": "edifact", "INVOIC": "edifact"}
_LEGACY_QUALIFIED = ("x12", "edifact", "997")  # 'type:qualifier:id'; the others are 'type:id'


def _legacy_top(session: Session, owner_branch_id: uuid.UUID, key: str) -> int:
    """Where a new per-partner counter starts: past every number the old per-type counters of that
    partner, standard and workstation gave out (they counted 850s, 997s, 855s ... separately), so
    nothing sent before the change is ever numbered again."""
    _ic, standard, partner_ws = key.split(":", 2)
    partner, _sep, ws = partner_ws.partition("#")
    top = 1
    for old_key, value in session.execute(select(EdiCounter.partner_key, EdiCounter.next_value)
                                          .where(EdiCounter.owner_branch_id == owner_branch_id)):
        base, _s, old_ws = old_key.partition("#")
        kind = base.split(":", 1)[0]
        if old_ws != ws or _LEGACY.get(kind) != standard:
            continue
        parts = base.split(":", 2 if kind in _LEGACY_QUALIFIED else 1)
        if len(parts) == (3 if kind in _LEGACY_QUALIFIED else 2) and parts[-1] == partner:
            top = max(top, int(value))
    return top


def next_control(session: Session, owner_branch_id: uuid.UUID, standard: str, partner_id: str) -> int:
    """Take the next interchange control number for one partner and standard (``interchange_key``).

    One counter for every message type: a 997 and an 855 to one partner never share an ISA13.
    Every workstation of a branch works offline, so each counts in its own block: workstation n
    takes (n-1) * 10,000,000 + 1 .. + 9,999,999, then starts its block again; no two workstations
    ever send a partner the same number. One atomic UPDATE ... RETURNING, like document numbers,
    so two sessions never take the same value. The UPDATE is raw SQL the ownership guard does not
    see, so a branch workstation is refused another branch's counter here (the server would
    refuse the push).
    """
    partner_key = interchange_key(standard, partner_id)
    if not owns(session, owner_branch_id):
        code = session.scalar(select(Branch.code).where(Branch.id == owner_branch_id)) or "another branch"
        raise ForeignWrite(f"{code}'s EDI control numbers are taken only at a {code} workstation")
    ws = workstation(session)
    if ws * WS_BLOCK > MAX_CONTROL + 1:
        raise DomainError(f"workstation {ws} has no block of EDI control numbers (at most "
                          f"{(MAX_CONTROL + 1) // WS_BLOCK} workstations of a branch exchange EDI)")
    key = partner_key if ws == 1 else f"{partner_key}#{ws}"
    row = session.scalars(
        select(EdiCounter).where(EdiCounter.owner_branch_id == owner_branch_id, EdiCounter.partner_key == key)
    ).one_or_none()
    if row is None:  # a deterministic id: a re-made counter converges on the same row
        row = EdiCounter(id=uuid.uuid5(_COUNTER_NS, f"{owner_branch_id.hex}:{key}"), owner_branch_id=owner_branch_id,
                         partner_key=key, next_value=_legacy_top(session, owner_branch_id, key))
        session.add(row)
        session.flush()
    top = WS_BLOCK - 1
    taken = session.execute(
        update(EdiCounter).where(EdiCounter.id == row.id)
        .values(next_value=EdiCounter.next_value % top + 1, hlc=clock.now(), hlc_site=site_id(session))
        .returning(EdiCounter.next_value)
    ).scalar_one()
    session.expire(row)
    value = int(taken) - 1
    return (ws - 1) * WS_BLOCK + (value if value > 0 else top)
