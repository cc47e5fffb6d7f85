"""The stock ledger and its derived balance.

Nothing updates an on-hand figure. Every change of stock is a ``StockMove`` from one
location to another; ``StockBalance`` is kept in step by an SQLite trigger on
``stock_move`` inserts (so pulled moves from other branches count too) and can be
rebuilt from the ledger at any time (``services.stock.rebuild_balances``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LedgerRow, LocalOnly, without_owner_index
from app.models.stamps import UTCMicros
from app.models.types import LotKey

#: why stock moved; reversing moves keep the reason and point at what they reverse
MOVE_REASONS = (
    "receipt",      # supplier -> dock
    "putaway",      # dock/qa -> bin
    "pick",         # bin -> staging / customer
    "sale",         # shipped to customer
    "transfer_out", # bin -> transit
    "transfer_in",  # transit -> bin
    "adjust",       # count or correction
    "replenish",    # reserve -> pick face
    "return",       # customer -> qa
    "rtv",          # back to the vendor
    "scrap",
    "hold",         # into / out of quality hold
    "reversal",
    "opening",      # opening balance at adoption
)


@without_owner_index
class StockMove(LedgerRow, Base):
    __tablename__ = "stock_move"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="moves_somewhere"),
        # times are numbers (``stamps``): ISO text written around the type is refused, not kept
        CheckConstraint("typeof(moved_at) = 'integer'", name="moved_at_number"),
        CheckConstraint("typeof(created_at) = 'integer'", name="created_at_number"),
        Index("ix_stock_move_item_moved", "item_id", "moved_at"),
        # moves without a document (history, adoption) are not in it: every look-up names a doc_id
        Index("ix_stock_move_doc", "doc_type", "doc_id", sqlite_where=text("doc_id IS NOT NULL")),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serial_no: Mapped[str | None] = mapped_column(String(60), default=None)
    from_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    qty: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))
    doc_type: Mapped[str] = mapped_column(String(16), default="")
    doc_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    doc_line_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    reverses_move_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_move.id"), default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: microseconds since the epoch in SQLite, like ``created_at`` (``stamps``; 0023_numeric_times)
    moved_at: Mapped[dt.datetime] = mapped_column(UTCMicros())


class StockBalance(LocalOnly, Base):
    """On hand per location, item and lot. Derived; rebuildable; never replicated."""

    __tablename__ = "stock_balance"
    #: clustered by its key (WITHOUT ROWID, migration 0020_storage): no second copy of every row
    #: in a primary-key index
    __table_args__ = (Index("ix_stock_balance_item", "item_id", "location_id"), {"sqlite_with_rowid": False})

    location_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: the lot id ('' when the stock carries no lot: a key cannot be NULL); hex text in Python
    lot_key: Mapped[str] = mapped_column(LotKey(), primary_key=True, default="")
    qty: Mapped[int] = mapped_column(BigInteger, default=0)


#: The trigger that keeps stock_balance in step with every stock_move insert, whatever
#: wrote it (ORM, bulk insert, replication apply). Installed by the first migration.
BALANCE_TRIGGER_SQL = """
CREATE TRIGGER IF NOT EXISTS trg_stock_move_balance AFTER INSERT ON stock_move
BEGIN
  INSERT INTO stock_balance (location_id, item_id, lot_key, qty)
  VALUES (NEW.to_location_id, NEW.item_id, COALESCE(NEW.lot_id, ''), NEW.qty)
  ON CONFLICT (location_id, item_id, lot_key) DO UPDATE SET qty = qty + excluded.qty;
  INSERT INTO stock_balance (location_id, item_id, lot_key, qty)
  VALUES (NEW.from_location_id, NEW.item_id, COALESCE(NEW.lot_id, ''), -NEW.qty)
  ON CONFLICT (location_id, item_id, lot_key) DO UPDATE SET qty = qty + excluded.qty;
END
"""

def ledger_guard_sql(table: str) -> list[str]:
    """Triggers that make ``table`` insert-only at the database, not only in code."""
    msg = f"{table} is an insert-only ledger: post a reversing row instead"
    return [
        f"CREATE TRIGGER IF NOT EXISTS trg_{table}_no_{ev.lower()} BEFORE {ev} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END"
        for ev in ("UPDATE", "DELETE")
    ]
