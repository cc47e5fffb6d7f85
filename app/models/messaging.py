"""The e-mail outbox: a message is queued in the same transaction as the business change,
then a sender delivers it with retries and back-off, so a down SMTP server never loses mail
and never blocks the user.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import UTCDateTime

OUTBOX_STATUSES = ("queued", "sent", "failed")


class EmailOutbox(BranchDocument, Base):
    __tablename__ = "email_outbox"

    to_addr: Mapped[str] = mapped_column(String(400))
    cc_addr: Mapped[str] = mapped_column(String(400), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    attachment_name: Mapped[str] = mapped_column(String(120), default="")
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: what the message is about (e.g. 'purchase_order'), for screens and the audit
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_ref: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
