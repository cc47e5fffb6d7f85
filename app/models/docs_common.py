"""Numbering series and the audit log: shared by every document."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LedgerRow


class NumberSeries(BranchDocument, Base):
    """Per-branch counter for human document numbers, e.g. DAL-PO-000123.

    The branch prefix makes numbers unique across branches without asking the server.
    Gapless series (invoices) take blocks of numbers per branch in a later issue.
    """

    __tablename__ = "number_series"
    __table_args__ = (UniqueConstraint("branch_id", "doc_type"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    doc_type: Mapped[str] = mapped_column(String(8))
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
    width: Mapped[int] = mapped_column(BigInteger, default=6)


class AuditEntry(LedgerRow, Base):
    """Append-only: who did what to which record, and the figures that mattered."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: JSON text with the details (old/new values, reasons)
    detail: Mapped[str] = mapped_column(Text, default="{}")
