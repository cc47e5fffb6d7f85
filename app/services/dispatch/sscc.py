"""SSCC (GS1 Serial Shipping Container Code) for every carton: 18 digits = extension digit +
GS1 company prefix + serial reference + check digit (GS1 General Specifications 7.9.1, mod-10).

The serial reference must never repeat across branches and workstations without asking anyone:
its first two digits are the branch's slot (its rank among branches by id; UUIDv7 ids sort by
creation, so a new branch never shifts the old ones), the next digit the workstation, the rest a
per-branch-and-workstation counter (``numbering``). The company prefix is the branch's setting
(``Branch.gs1_prefix``: Settings > Branches, ``depot branch set CODE --gs1-prefix``); a branch
without one uses GS1's example prefix, which keeps the demo working and is shown as a note
wherever the prefix is (docs/dispatch.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.services.errors import Conflict, ValidationError
from app.services.numbering import next_number
from app.services.org.sites import GS1_EXAMPLE_PREFIX

#: GS1's own example company prefix: the SSCCs of a branch that has not set its own
GS1_PREFIX = GS1_EXAMPLE_PREFIX
EXTENSION = "0"


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of ``digits`` (weights 3, 1, 3, ... from the right)."""
    if not digits.isdigit():
        raise ValidationError("SSCC", f"{digits!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def is_valid(sscc: str) -> bool:
    s = sscc.strip()
    if s.startswith("(00)"):
        s = s[4:]
    elif len(s) == 20 and s.startswith("00"):
        s = s[2:]
    return len(s) == 18 and s.isdigit() and check_digit(s[:17]) == s[17]


def normalise(scan: str) -> str:
    """An SSCC as scanned ('(00)0...', '000...' with its AI, or the bare 18 digits) -> 18 digits."""
    s = scan.strip().replace("\xf1", "")
    if s.startswith("(00)"):
        s = s[4:]
    elif len(s) == 20 and s.startswith("00"):
        s = s[2:]
    return s


def branch_slot(session: Session, branch_id: uuid.UUID) -> int:
    ids = list(session.scalars(select(Branch.id).order_by(Branch.id)))
    try:
        return ids.index(branch_id) + 1
    except ValueError:
        raise Conflict("the shipment's branch is not in this file") from None


def prefix_of(session: Session, branch_id: uuid.UUID) -> tuple[str, bool]:
    """(the GS1 company prefix of ``branch_id``'s SSCCs, whether it is GS1's example prefix)."""
    own = (session.scalar(select(Branch.gs1_prefix).where(Branch.id == branch_id)) or "").strip()
    return (own, False) if own else (GS1_PREFIX, True)


def next_sscc(session: Session, branch_id: uuid.UUID, prefix: str | None = None) -> str:
    """A new SSCC for a carton of ``branch_id`` (takes a number from the branch's series) with the
    branch's company prefix (``prefix_of``) unless ``prefix`` is given."""
    prefix = prefix or prefix_of(session, branch_id)[0]
    number = next_number(session, branch_id, "SSCC")  # DAL-SSCC-000001 or DAL-SSCC-2-000001
    parts = number.split("-")
    counter = int(parts[-1])
    ws = int(parts[-2]) if len(parts) >= 4 and parts[-2].isdigit() else 1
    width = 16 - len(prefix) - 3  # serial reference = slot(2) + workstation(1) + counter
    if counter >= 10 ** width:
        raise Conflict(f"the SSCC serial numbers of this branch and workstation are used up ({10 ** width - 1} with a "
                       f"{len(prefix)}-digit GS1 company prefix)")
    body = f"{EXTENSION}{prefix}{branch_slot(session, branch_id) % 100:02d}{ws % 10}{counter:0{width}d}"
    return body + check_digit(body)
