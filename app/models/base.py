"""Declarative base and the four table classes that replication reads.

Every model picks exactly one mixin:

* ``LedgerRow``      insert-only (stock moves, audit, tracking events); corrections are new rows.
* ``BranchDocument`` owned by one branch (POs, receipts, orders); HLC-resolved between its workstations.
* ``MasterData``     owned by head office (items, parties, sites); branches edit only
                     ``__branch_editable__`` fields, HLC last-writer-wins.
* ``LocalOnly``      never replicated (balances, caches, cursors, UI state).

``app.models.registry`` turns these into the one table registry that outbox triggers,
push, pull and the server's policies all read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, TypeVar

from sqlalchemy import BigInteger, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.models.ids import uuid7
from app.models.stamps import UTCMicros
from app.models.types import Id, Money, UTCDateTime, utcnow

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LEDGER = "ledger"
DOCUMENT = "document"
MASTER = "master"
LOCAL = "local"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        uuid.UUID: Id(),
        dt.datetime: UTCDateTime(),
    }
    #: table class for replication; set by the mixins below
    __sync__: ClassVar[str] = LOCAL
    #: master data: fields a branch may change (everything else is head office's)
    __branch_editable__: ClassVar[frozenset[str]] = frozenset()
    #: ids derived from a natural key (two sites can create the "same" row): replication makes
    #: every site keep the server's copy of such a ledger row
    __derived_ids__: ClassVar[bool] = False
    #: columns of a versioned row that are this site's own bookkeeping (a shipment's poll schedule):
    #: a write that changes only these is no new version (no HLC) and no outbox row (the capture
    #: trigger compares the other columns); they travel with the row's next real change
    __local_columns__: ClassVar[frozenset[str]] = frozenset()


#: the times every replicated row carries: microseconds in SQLite (``stamps.UTCMicros``, ISO text
#: on the server and the wire). Migration 0027_replicated_times gives each a CHECK that refuses text
#: (SQLite's tables come from the migrations, new files too: a CHECK declared here would only cost
#: every start ~20-60 ms of constraint objects)
REPLICATED_TIMES = ("created_at", "updated_at", "deleted_at")


class _Replicated:
    """Columns every replicated row carries."""

    id: Mapped[uuid.UUID] = mapped_column(Id(), primary_key=True, default=uuid7)
    #: branch that owns (and alone may write) this row; head office for master data
    owner_branch_id: Mapped[uuid.UUID] = mapped_column(Id(), index=True)
    #: microseconds in SQLite (``stamps.UTCMicros``), ISO text on the server and the wire
    created_at: Mapped[dt.datetime] = mapped_column(UTCMicros(), default=utcnow)


def without_owner_index(cls: type[T]) -> type[T]:
    """Class decorator: the table keeps no index on ``owner_branch_id``.

    For big ledgers no workstation query filters by owner; the index cost every insert and,
    on the large data set, 135 MB (migration 0020_storage). Nor for master data (one owner: head
    office), document lines (read through their document), figures and ledgers read by item or
    warehouse: 28 MB more (0024_structure). Documents listed per branch keep theirs. The server
    has its own owner index on every table.
    """
    table = cls.__table__  # type: ignore[attr-defined]
    for ix in list(table.indexes):
        if [c.name for c in ix.columns] == ["owner_branch_id"]:
            table.indexes.discard(ix)
    table.c.owner_branch_id.index = None
    return cls


class LedgerRow(_Replicated):
    """Insert-only row: never updated, never deleted; a correction is a reversing row."""

    __sync__: ClassVar[str] = LEDGER


class _Versioned(_Replicated):
    updated_at: Mapped[dt.datetime] = mapped_column(UTCMicros(), default=utcnow, onupdate=utcnow)
    #: hybrid logical clock of the last write: 48-bit ms << 16 | counter
    hlc: Mapped[int] = mapped_column(BigInteger, default=0)
    #: site (workstation database) that made the last write; HLC tie-break
    hlc_site: Mapped[str] = mapped_column(String(36), default="")
    #: soft delete: a tombstone replicates like any other change
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCMicros(), default=None)


class BranchDocument(_Versioned):
    __sync__: ClassVar[str] = DOCUMENT


class MasterData(_Versioned):
    __sync__: ClassVar[str] = MASTER


class LocalOnly:
    __sync__: ClassVar[str] = LOCAL


__all__ = [
    "Base",
    "BranchDocument",
    "LedgerRow",
    "LocalOnly",
    "MasterData",
    "Money",
    "LEDGER",
    "DOCUMENT",
    "MASTER",
    "LOCAL",
]
