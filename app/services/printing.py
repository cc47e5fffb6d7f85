"""Every printable document in one registry, and the record of what left Depot, when, by whom.

Each area registers its documents where they are defined (``register(Printable(...))``: POs by
Buying, invoices, credit notes and statements by Billing, pick lists, packing slips, labels and
manifests by Dispatch), so the print centre, ``depot print`` and the bulk printer know every
kind without importing the areas. A ``Printable`` renders a document to PDF bytes (told whether
it is a reprint, so it can say COPY) and lists its documents for the queue.

``produce`` is the one way a document leaves: rendered, then recorded (``PrintRecord``: channel,
target, copies, pages, whether it was a copy, who) in the caller's transaction, so a record
exists exactly when the output was made. A reprint is any output after the first printer or PDF
output of that document (e-mail does not count). Preferences (printer, tray, copies per
document type) are this workstation's, local rows.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.printing import CHANNELS, PrintPreference, PrintRecord
from app.services.auth import Actor
from app.services.db import local_branch_id
from app.services.errors import ValidationError
from app.services.masterdata import head_office_id
from app.services.ownership import acting_branch


@dataclass(frozen=True)
class QueueRow:
    """One document in the print queue."""

    doc_type: str
    ref: str
    date: dt.date
    party: str
    status: str
    amount: str = ""
    #: the address the document is e-mailed to ('' = none known)
    email: str = ""


@dataclass(frozen=True)
class Printable:
    doc_type: str
    label: str
    #: (session, reference, reprint) -> (file name, PDF bytes)
    render: Callable[[Session, str, bool], tuple[str, bytes]]
    #: (session, since, until, status or None, limit) -> the documents of that period, newest first
    queue: Callable[[Session, dt.date, dt.date, str | None, int], list[QueueRow]] | None = None
    #: (session, reference) -> (to, subject, body) for "e-mail"; None: this kind is not mailed
    mail: Callable[[Session, str], tuple[str, str, str]] | None = None
    #: owning branch of a reference (the record's branch)
    branch_of: Callable[[Session, str], uuid.UUID] | None = None
    #: the action that may print it
    action: str = "print.documents"


_REGISTRY: dict[str, Printable] = {}


def register(p: Printable) -> Printable:
    _REGISTRY[p.doc_type] = p
    return p


def kinds() -> list[Printable]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def kind(doc_type: str) -> Printable:
    p = _REGISTRY.get(doc_type)
    if p is None:
        raise ValidationError("document type", f"{doc_type!r} is not printable (known: {', '.join(sorted(_REGISTRY))})")
    return p


def printed_before(session: Session, doc_type: str, ref: str) -> bool:
    return bool(session.scalar(select(func.count()).select_from(PrintRecord).where(
        PrintRecord.doc_type == doc_type, PrintRecord.doc_ref == ref, PrintRecord.channel != "email")))


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@dataclass(frozen=True)
class Output:
    name: str
    pdf: bytes
    reprint: bool
    record: PrintRecord | None


def render(session: Session, doc_type: str, ref: str, *, reprint: bool | None = None) -> Output:
    """Render without recording (a preview): COPY when it has been printed before."""
    p = kind(doc_type)
    again = printed_before(session, doc_type, ref) if reprint is None else reprint
    name, pdf = p.render(session, ref, again)
    return Output(name, pdf, again, None)


def record(session: Session, actor: Actor | None, doc_type: str, ref: str, *, channel: str, target: str,
           copies: int = 1, pages: int = 0, reprint: bool = False, batch_id: uuid.UUID | None = None,
           branch_id: uuid.UUID | None = None) -> PrintRecord:
    if channel not in CHANNELS:
        raise ValidationError("channel", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    p = kind(doc_type)
    # the document's branch; a kind that cannot say (registered from the command line) is this
    # workstation's, else the user's, else head office's
    owner = (branch_id or (p.branch_of(session, ref) if p.branch_of else None) or local_branch_id(session)
             or (actor.branch_id if actor else None) or head_office_id(session))
    rec = PrintRecord(doc_type=doc_type, doc_ref=ref, channel=channel, target=target[:300], copies=copies,
                      pages=pages, reprint=reprint, username=actor.username if actor else "", batch_id=batch_id,
                      owner_branch_id=acting_branch(session, owner))
    session.add(rec)
    session.flush()
    return rec


def produce(session: Session, actor: Actor | None, doc_type: str, ref: str, *, channel: str, target: str,
            copies: int = 1, batch_id: uuid.UUID | None = None) -> Output:
    """Render a document for output and record it (the caller writes the bytes, then commits)."""
    if actor is not None:
        actor.require(kind(doc_type).action)
    if copies < 1 or copies > 99:
        raise ValidationError("copies", "must be between 1 and 99")
    out = render(session, doc_type, ref)
    rec = record(session, actor, doc_type, ref, channel=channel, target=target, copies=copies,
                 pages=page_count(out.pdf), reprint=out.reprint, batch_id=batch_id)
    return Output(out.name, out.pdf, out.reprint, rec)


def history(session: Session, *, doc_type: str | None = None, ref: str | None = None,
            limit: int = 200) -> Sequence[PrintRecord]:
    """What was printed, newest first."""
    q = select(PrintRecord)
    if doc_type:
        q = q.where(PrintRecord.doc_type == doc_type)
    if ref:
        q = q.where(PrintRecord.doc_ref == ref)
    return list(session.scalars(q.order_by(PrintRecord.created_at.desc()).limit(limit)))


def last_output(session: Session, doc_type: str, refs: Sequence[str]) -> dict[str, PrintRecord]:
    """The newest record of each of these documents (the queue's 'printed' column)."""
    out: dict[str, PrintRecord] = {}
    for i in range(0, len(refs), 500):
        for rec in session.scalars(select(PrintRecord).where(PrintRecord.doc_type == doc_type,
                                                              PrintRecord.doc_ref.in_(refs[i:i + 500]))
                                   .order_by(PrintRecord.created_at)):
            out[rec.doc_ref] = rec
    return out


@dataclass(frozen=True)
class Preference:
    printer: str = ""
    tray: str = ""
    copies: int = 1


def preference(session: Session, doc_type: str) -> Preference:
    row = session.get(PrintPreference, doc_type)
    return Preference(row.printer, row.tray, row.copies) if row else Preference()


def remember(session: Session, doc_type: str, pref: Preference) -> None:
    """This workstation prints ``doc_type`` like this next time."""
    if pref.copies < 1 or pref.copies > 99:
        raise ValidationError("copies", "must be between 1 and 99")
    row = session.get(PrintPreference, doc_type)
    if row is None:
        row = PrintPreference(doc_type=doc_type)
        session.add(row)
    row.printer, row.tray, row.copies = pref.printer[:200], pref.tray[:60], pref.copies
    session.flush()


@dataclass(frozen=True)
class QueueEntry:
    row: QueueRow
    label: str
    #: the newest output of it ('' = never printed), e.g. "printed by clerk 2026-12-05 14:03 (COPY)"
    last: str


def queue(session: Session, *, doc_types: Sequence[str] | None = None, since: dt.date, until: dt.date,
          status: str | None = None, limit: int = 500) -> list[QueueEntry]:
    """Every printable document of the period (all kinds, or ``doc_types``), newest first, with
    when it last left Depot."""
    out: list[QueueEntry] = []
    for p in kinds():
        if p.queue is None or (doc_types and p.doc_type not in doc_types):
            continue
        rows = p.queue(session, since, until, status or None, limit)
        last = last_output(session, p.doc_type, [r.ref for r in rows])
        for r in rows:
            rec = last.get(r.ref)
            seen = "" if rec is None else (f"{'e-mailed' if rec.channel == 'email' else 'printed'} by "
                                           f"{rec.username or '?'} {rec.created_at:%Y-%m-%d %H:%M}"
                                           + (" (COPY)" if rec.reprint else ""))
            out.append(QueueEntry(r, p.label, seen))
    out.sort(key=lambda e: (e.row.date, e.row.ref), reverse=True)
    return out[:limit]
