"""SSCC (GS1 Serial Shipping Container Code) for every carton: 18 digits = extension digit +
GS1 company prefix + serial reference + check digit (GS1 General Specifications 7.9.1, mod-10).

The serial reference must never repeat across branches and workstations without asking anyone:
its first two digits are the branch's slot (its rank among branches by id; UUIDv7 ids sort by
creation, so a new branch never shifts the old ones), the next digit the workstation, the rest a
per-branch-and-workstation counter (``numbering``). The company prefix is the demo's GS1 example
prefix until the company sets its own (``GS1_PREFIX``; docs/dispatch.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.services.errors import Conflict, ValidationError
from app.services.numbering import next_number

#: GS1's own example company prefix (GS1 General Specifications); a licensee puts theirs here
GS1_PREFIX = "0614141"
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


def next_sscc(session: Session, branch_id: uuid.UUID, prefix: str = GS1_PREFIX) -> str:
    """A new SSCC for a carton of ``branch_id`` (takes a number from the branch's series)."""
    number = next_number(session, branch_id, "SSCC")  # DAL-SSCC-000001 or DAL-SSCC-2-000001
    parts = number.split("-")
    counter = int(parts[-1])
    ws = int(parts[-2]) if len(parts) >= 4 and parts[-2].isdigit() else 1
    width = 16 - len(prefix) - 3  # serial reference = slot(2) + workstation(1) + counter
    if counter >= 10 ** width:
        raise Conflict(f"the SSCC counter of this branch is used up ({counter}): set a longer company prefix range")
    body = f"{EXTENSION}{prefix}{branch_slot(session, branch_id) % 100:02d}{ws % 10}{counter:0{width}d}"
    return body + check_digit(body)
