"""The generic exception inbox: anything a person must look at (EDI differences, rejected
files, late carriers ...). Any area raises one through ``app.services.exception_inbox``.

``role`` says who handles it (buyer, receiver, manager); ``key`` lets a raiser avoid
duplicates (one open exception per key).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import UTCDateTime

SEVERITIES = ("info", "warning", "error")
EXCEPTION_STATUSES = ("open", "acknowledged", "resolved")


class ExceptionItem(BranchDocument, Base):
    __tablename__ = "exception_item"

    kind: Mapped[str] = mapped_column(String(40), index=True)  # 'edi.qty_changed', 'edi.file_rejected', ...
    severity: Mapped[str] = mapped_column(String(8), default="warning")
    #: the thing it is about: table name and row id (e.g. 'purchase_order', po.id)
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    #: human reference of the entity (PO number, file name)
    entity_ref: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    role: Mapped[str] = mapped_column(String(16), default="manager", index=True)
    #: de-duplication key: at most one open (not resolved) exception per key
    key: Mapped[str] = mapped_column(String(160), default="", index=True)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
