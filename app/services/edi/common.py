"""What outbound and inbound EDI share: our own interchange id and the control counters."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.edi import EdiCounter
from app.models.hlc import clock
from app.models.org import Branch
from app.services.db import site_id
from app.services.errors import NotFound
from app.services.ownership import ForeignWrite, owns

#: X12 qualifier 'ZZ' (mutually defined); EDIFACT partner id qualifier likewise
OUR_QUALIFIER = "ZZ"
MAX_CONTROL = 999_999_999


def our_id(session: Session, branch_id: uuid.UUID) -> tuple[str, str]:
    """Depot's interchange id for a branch: 'DEPOT' + branch code (e.g. DEPOTDAL), qualifier ZZ."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    return OUR_QUALIFIER, f"DEPOT{branch.code}"


def next_control(session: Session, owner_branch_id: uuid.UUID, partner_key: str) -> int:
    """Take the next control number for one partner and standard (1 .. 999,999,999, then 1 again).

    One atomic UPDATE ... RETURNING, like document numbers, so two sessions never take the same value.
    The UPDATE is raw SQL the ownership guard does not see, so a branch workstation is refused
    another branch's counter here (the server would refuse the push).
    """
    if not owns(session, owner_branch_id):
        code = session.scalar(select(Branch.code).where(Branch.id == owner_branch_id)) or "another branch"
        raise ForeignWrite(f"{code}'s EDI control numbers are taken only at a {code} workstation")
    row = session.scalars(
        select(EdiCounter).where(EdiCounter.owner_branch_id == owner_branch_id, EdiCounter.partner_key == partner_key)
    ).one_or_none()
    if row is None:
        row = EdiCounter(owner_branch_id=owner_branch_id, partner_key=partner_key, next_value=1)
        session.add(row)
        session.flush()
    taken = session.execute(
        update(EdiCounter).where(EdiCounter.id == row.id)
        .values(next_value=EdiCounter.next_value % MAX_CONTROL + 1, hlc=clock.now(), hlc_site=site_id(session))
        .returning(EdiCounter.next_value)
    ).scalar_one()
    session.expire(row)
    value = int(taken) - 1
    return value if value > 0 else MAX_CONTROL
