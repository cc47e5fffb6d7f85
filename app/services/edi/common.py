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


def next_control(session: Session, owner_branch_id: uuid.UUID, partner_key: str) -> int:
    """Take the next control number for one partner and standard.

    Every workstation of a branch works offline, so each counts in its own block: workstation n
    takes (n-1) * 10,000,000 + 1 .. + 9,999,999, then starts its block again; no two workstations
    ever send a partner the same number. One atomic UPDATE ... RETURNING, like document numbers,
    so two sessions never take the same value. The UPDATE is raw SQL the ownership guard does not
    see, so a branch workstation is refused another branch's counter here (the server would
    refuse the push).
    """
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
                         partner_key=key, next_value=1)
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
