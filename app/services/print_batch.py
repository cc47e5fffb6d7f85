"""Bulk printing: hundreds of documents to a printer or a folder, in the background, cancellable and
resumable, each one recorded as it leaves.

A ``PrintBatch`` (local) lists the documents in order. ``run`` takes them one by one, each in its
own short write transaction: render, record (``printing.produce``), hand the PDF to the sink (a
folder, a printer), commit. A sink that fails (printer gone, disk full) raises before the commit,
so the document that failed is not recorded and the batch stops there, marked failed with the
reason; the ones before it are done and recorded. Running the batch again (resume) takes the
documents that have no record of this batch yet, so nothing is printed twice. Cancel is asked
between documents. No Qt here: the window's runner and ``depot print`` share this.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.printing import PrintBatch, PrintRecord
from app.services import printing
from app.services.auth import Actor
from app.services.db import session_scope
from app.services.errors import DomainError, NotFound, ValidationError

#: (file name, PDF bytes, copies) -> None; raises DomainError (or OSError) when the output fails
Sink = Callable[[str, bytes, int], None]


def folder_sink(folder: str | Path) -> Sink:
    """Write each PDF into ``folder`` (atomically: a half-written file is never left under its name)."""
    d = Path(folder)
    if not d.is_dir():
        raise ValidationError("--out", f"{d} is not a folder: create it first (nothing was printed)")

    def write(name: str, pdf: bytes, _copies: int) -> None:
        tmp = d / f".{name}.part"
        try:
            tmp.write_bytes(pdf)
            os.replace(tmp, d / name)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise DomainError(f"cannot write {d / name}: {e.strerror or e}") from None
    return write


def start(session: Session, actor: Actor, doc_type: str, refs: Sequence[str], *, channel: str, target: str,
          copies: int = 1) -> PrintBatch:
    """A new batch of ``refs`` (in print order)."""
    p = printing.kind(doc_type)
    actor.require(p.action)
    if not refs:
        raise ValidationError("documents", "nothing to print: no document matches")
    if channel not in ("printer", "pdf"):
        raise ValidationError("channel", "a batch goes to a printer or to PDF files")
    b = PrintBatch(doc_type=doc_type, refs="\n".join(refs), channel=channel, target=target[:300], total=len(refs),
                   state="running", username=actor.username, copies=copies)
    session.add(b)
    session.flush()
    return b


def get(session: Session, batch_id: uuid.UUID | str) -> PrintBatch:
    try:
        key = batch_id if isinstance(batch_id, uuid.UUID) else uuid.UUID(str(batch_id))
    except ValueError:
        raise NotFound("print batch", batch_id) from None
    b = session.get(PrintBatch, key)
    if b is None:
        raise NotFound("print batch", batch_id)
    return b


def remaining(session: Session, b: PrintBatch) -> list[str]:
    done = set(session.scalars(select(PrintRecord.doc_ref).where(PrintRecord.batch_id == b.id)))
    return [r for r in b.refs.split("\n") if r and r not in done]


def batches(session: Session, limit: int = 20) -> list[PrintBatch]:
    return list(session.scalars(select(PrintBatch).order_by(PrintBatch.created_at.desc()).limit(limit)))


@dataclass
class BatchReport:
    batch_id: uuid.UUID
    total: int
    done: int
    state: str
    message: str = ""


def run(engine: Engine, actor: Actor, batch_id: uuid.UUID, sink: Sink, *,
        progress: Callable[[int, int, str], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False) -> BatchReport:
    """Print what is left of a batch (owns its transactions: one per document)."""
    with session_scope(engine) as s:
        b = get(s, batch_id)
        todo = remaining(s, b)
        total, doc_type, channel, target, copies = b.total, b.doc_type, b.channel, b.target, b.copies
        b.state, b.message = "running", ""
    done = total - len(todo)
    state, message = "done", ""
    for ref in todo:
        if cancelled():
            state, message = "cancelled", f"cancelled after {done} of {total}"
            break
        if progress:
            progress(done, total, ref)
        try:
            with session_scope(engine) as s:
                out = printing.produce(s, actor, doc_type, ref, channel=channel, target=target, copies=copies,
                                       batch_id=batch_id)
                sink(out.name, out.pdf, copies)
        except (DomainError, OSError) as e:
            state, message = "failed", f"{ref}: {e}"[:300]
            break
        done += 1
    with session_scope(engine) as s:
        b = get(s, batch_id)
        b.state, b.message = state, message
    if progress:
        progress(done, total, "")
    return BatchReport(batch_id, total, done, state, message)


@dataclass(frozen=True)
class Unfinished:
    batch_id: uuid.UUID
    doc_type: str
    target: str
    total: int
    left: int
    state: str
    message: str


def unfinished(session: Session) -> Unfinished | None:
    """The newest batch with documents left (cancelled, failed, or cut short by the window closing:
    a 'running' batch nobody runs), so a restarted window offers to resume it."""
    for b in batches(session, limit=10):
        if b.state == "done":
            continue
        left = len(remaining(session, b))
        if left:
            return Unfinished(b.id, b.doc_type, b.target, b.total, left, b.state, b.message)
    return None
