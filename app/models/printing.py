"""What was printed, by whom and when (replicated, insert-only), and this workstation's print
settings and bulk-print batches (local).

``PrintRecord`` is the record a clerk or an auditor asks for ("who printed invoice 123 twice?")
and what makes a reprint say COPY. A ``PrintBatch`` lists the documents of one bulk run; its
records (``batch_id``) say which are done, so a cancelled or interrupted batch resumes where it
stopped and never prints one twice.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LedgerRow, LocalOnly
from app.models.ids import uuid7
from app.models.types import UTCDateTime, utcnow

#: how a document left Depot
CHANNELS = ("printer", "pdf", "email")


class PrintRecord(LedgerRow, Base):
    __tablename__ = "print_record"
    __table_args__ = (Index("ix_print_record_doc", "doc_type", "doc_ref"),)

    doc_type: Mapped[str] = mapped_column(String(20))
    doc_ref: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    #: the printer, the file written or the e-mail address
    target: Mapped[str] = mapped_column(String(300), default="")
    copies: Mapped[int] = mapped_column(Integer, default=1)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    #: this output carried "COPY" (the document had left Depot before)
    reprint: Mapped[bool] = mapped_column(default=False)
    username: Mapped[str] = mapped_column(String(40), default="")
    batch_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)


class PrintBatch(LocalOnly, Base):
    __tablename__ = "print_batch"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    doc_type: Mapped[str] = mapped_column(String(20))
    #: the documents, one reference a line, in print order
    refs: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(300), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)
    copies: Mapped[int] = mapped_column(Integer, default=1)
    #: running, cancelled, failed, done
    state: Mapped[str] = mapped_column(String(10), default="running")
    message: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PrintPreference(LocalOnly, Base):
    """The printer, tray and copies this workstation last used for a document type."""

    __tablename__ = "print_preference"

    doc_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    printer: Mapped[str] = mapped_column(String(200), default="")
    tray: Mapped[str] = mapped_column(String(60), default="")
    copies: Mapped[int] = mapped_column(Integer, default=1)
