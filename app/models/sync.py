"""Local-only tables of change capture: the outbox, the capture switch, this site's identity.

The replication issue adds cursors, receipts and the conflict log beside these.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LocalOnly
from app.models.types import UTCDateTime, utcnow


class SyncOutbox(LocalOnly, Base):
    """One row per captured change; written only by triggers, removed after the server commits."""

    __tablename__ = "sync_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tbl: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(1))  # I, U, D
    changed_at: Mapped[str] = mapped_column(String(32))


class SyncCapture(LocalOnly, Base):
    """One-row switch: capture off while pulled rows are applied (they are not local changes)."""

    __tablename__ = "sync_capture"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[int] = mapped_column(Integer, default=1)


class LocalSite(LocalOnly, Base):
    """Who this database is: its site id (HLC tie-break) and the branch it works for."""

    __tablename__ = "local_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column()
    branch_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _hex_id(col: str) -> str:
    """The outbox keeps ids as 32-hex text (replication's wire form); the tables store 16 bytes
    (a file not yet converted by migration 0022_binary_ids stores the text itself)."""
    return f"CASE WHEN typeof({col}) = 'blob' THEN lower(hex({col})) ELSE {col} END"


def capture_trigger_sql(table: str, compared: Sequence[str] = ()) -> list[str]:
    """Triggers that record every insert, update and delete of ``table`` in the outbox.

    They live in the database, so no write path (ORM, bulk update, raw SQL, a migration)
    can miss them. ``compared``: the columns an update must change to be recorded (every column
    but the table's ``__local_columns__``: a write of only this site's bookkeeping is not a
    change to send); empty = every update is.
    """
    when = "WHEN (SELECT enabled FROM sync_capture WHERE id = 1) = 1"
    now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    out = []
    for op, event, ref in (("I", "INSERT", "NEW"), ("U", "UPDATE", "NEW"), ("D", "DELETE", "OLD")):
        cond = when
        if op == "U" and compared:
            cond += " AND (" + " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in compared) + ")"
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS trg_{table}_cap_{op.lower()} AFTER {event} ON {table} {cond} "
            f"BEGIN INSERT INTO sync_outbox (tbl, row_id, op, changed_at) "
            f"VALUES ('{table}', {_hex_id(ref + '.id')}, '{op}', {now}); END"
        )
    return out


def drop_capture_trigger_sql(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS trg_{table}_cap_{op}" for op in ("i", "u", "d")]


# --- replication bookkeeping (issue 3): all local-only -------------------------------------------


class SyncState(LocalOnly, Base):
    """Small key/value facts of this site's replication: pull cursor, server, last error.

    Kept in SQLite so the cursor is saved in the same transaction as the rows it covers.
    """

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000), default="")


class SyncConflict(LocalOnly, Base):
    """A version that lost (LWW on the server) or that the server refused, kept in full."""

    __tablename__ = "sync_conflict"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    tbl: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(36))
    #: lost (newer version elsewhere won), rejected (server refused the change), skew
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    #: JSON of the local row as it was pushed (nothing is lost)
    local_row: Mapped[str] = mapped_column(Text, default="{}")


class SyncHistory(LocalOnly, Base):
    """One row per sync run: what moved, how long it took, and the error if any."""

    __tablename__ = "sync_history"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(String(1000), default="")
