"""Folder processing: every file in an inbound folder is imported in its own transaction,
then moved to ``processed/`` or ``error/`` (with ``<file>.error.txt`` beside it saying why),
and every readable X12 interchange gets a 997 in the outbound folder.

The 997 acknowledges syntax (envelope and counts), as X12 intends: a file with an unknown
PO is accepted by the 997 but lands in ``error/`` with its reason and an exception for the
buyer. A file whose counts are wrong gets a rejecting 997.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from app.models.types import utcnow
from app.services import exception_inbox
from app.services.auth import Actor
from app.services.db import local_branch_id
from app.services.edi import x12
from app.services.edi.common import next_control, our_id
from app.services.edi.customer_orders import ORDER_TYPES, CustomerImport
from app.services.edi.inbound import ImportResult, detect_type, import_bytes
from app.services.edi.outbound import write_outbound
from app.services.edi.text import decode
from app.services.errors import DomainError
from app.services.ownership import acting_branch

SKIP_SUFFIXES = (".error.txt", ".part", ".tmp")


@dataclass
class FileOutcome:
    file_name: str
    ok: bool
    moved_to: str
    message: str
    ack_file: str = ""
    result: ImportResult | CustomerImport | None = None


@dataclass
class PollReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)


def _move(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / src.name
    if target.exists():  # never overwrite an earlier file of the same name
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{src.stem}.{stamp}{src.suffix}"
    os.replace(src, target)
    return target


def _branch_for_ack(session: Session, actor: Actor | None) -> uuid.UUID | None:
    """Whose 997 counter and refused-file exception: this workstation's branch when the ownership
    rule applies (an HQ user polling at a DAL workstation acts for DAL), else the actor's."""
    default = (actor.branch_id if actor else None) or local_branch_id(session)
    return acting_branch(session, default) if default is not None else None


def write_997(session: Session, actor: Actor | None, data: bytes, outbound_dir: Path) -> str:
    """A 997 for each interchange of an X12 file whose envelope can be read (a file may hold
    several); none for an interchange that only acknowledges (997, TA1). Returns the file names
    written, comma-separated, or ''."""
    try:
        interchanges = x12.parse_all(data)
    except DomainError:
        return ""
    branch = _branch_for_ack(session, actor)
    if branch is None:
        return ""
    names = []
    for ic in interchanges:
        if x12.is_acknowledgement(ic) or not ic.groups:
            continue
        control = next_control(session, branch, "x12", ic.sender_id)
        text = x12.build_997(ic, our_id=our_id(session, branch), control=control, when=utcnow())
        name = f"997-{ic.sender_id}-{ic.control}-{control:09d}.x12"
        write_outbound(outbound_dir, name, text.encode())
        names.append(name)
    return ", ".join(names)


def process_inbound(
    session_factory: Callable[[], Session], inbound_dir: str | Path, *, actor: Actor | None = None,
    outbound_dir: str | Path | None = None,
) -> PollReport:
    """Import every file waiting in ``inbound_dir`` (oldest first); one transaction per file."""
    inbound = Path(inbound_dir)
    if not inbound.is_dir():
        raise DomainError(f"inbound folder {inbound} does not exist")
    outbound = Path(outbound_dir) if outbound_dir else inbound.parent / "outbound"
    report = PollReport()
    files = sorted((p for p in inbound.iterdir() if p.is_file() and not p.name.startswith(".")
                    and not p.name.endswith(SKIP_SUFFIXES)), key=lambda p: (p.stat().st_mtime, p.name))
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as e:  # taken away, or not readable by us: the next poll tries again
            report.outcomes.append(FileOutcome(path.name, False, str(path), f"{path.name}: cannot read it ({e.strerror})"))
            continue
        outcome = FileOutcome(path.name, False, "", "")
        session = session_factory()
        try:
            result = import_bytes(session, actor, data, path.name, outbound)
            session.commit()  # a refused customer file too: its rejecting 997 went out and keeps its number
            refused = isinstance(result, CustomerImport) and bool(result.refused)
            outcome.ok, outcome.result, outcome.message = not refused, result, result.summary()
        except DomainError as e:
            session.rollback()
            outcome.message = f"{path.name}: {e}"
        except Exception as e:  # a bug must not leave the file looping in the inbound folder
            session.rollback()
            outcome.message = f"{path.name}: internal error {type(e).__name__}: {e}"
        finally:
            session.close()
        if outcome.ok:
            outcome.moved_to = str(_move(path, inbound / "processed"))
        else:
            moved = _move(path, inbound / "error")
            outcome.moved_to = str(moved)
            moved.with_name(moved.name + ".error.txt").write_text(outcome.message + "\n", encoding="utf-8")
        _after(session_factory, actor, data, outbound, outcome)
        report.outcomes.append(outcome)
    return report


def _is_x12(data: bytes) -> bool:
    try:
        return decode(data).lstrip("\r\n\t ").startswith("ISA")
    except DomainError:
        return False


def _customer_order(data: bytes) -> bool:
    try:
        return detect_type(data) in ORDER_TYPES
    except DomainError:
        return False


def _after(factory: Callable[[], Session], actor: Actor | None, data: bytes, outbound: Path, outcome: FileOutcome) -> None:
    """997 back to the sender, and an exception for a refused file (own transaction: the import's rolled back)."""
    session = factory()
    try:
        if _is_x12(data) and not _customer_order(data):  # a customer's 850 was answered by its import
            outcome.ack_file = write_997(session, actor, data, outbound)
        if not outcome.ok:
            branch = _branch_for_ack(session, actor)
            if branch is not None:
                exception_inbox.raise_exception(
                    session, actor, kind="edi.file_rejected", title=f"EDI file {outcome.file_name} refused",
                    detail=outcome.message, severity="error", role="buyer", entity="edi_file",
                    entity_ref=outcome.moved_to, owner_branch_id=branch, key=f"edi-file:{outcome.moved_to}",
                )
        session.commit()
    except (DomainError, OSError) as e:  # the import's outcome stands; say what did not follow it
        session.rollback()
        outcome.ack_file = ""
        outcome.message += f" (no 997 or exception written: {e})"
    finally:
        session.close()
