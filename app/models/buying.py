"""Replenishment settings, the buyer's decisions on recommendations, and requisitions.

Recommendations themselves are not stored: they are recomputed from the ledger and the
open documents every run, so they can never go stale. What is stored is what a person
decided (snooze, reject) and what they accepted (a requisition). The engine counts open
requisitions in the stock position, which is why accepting twice is impossible.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LocalOnly, MasterData
from app.models.stamps import sql_day_week, sql_week
from app.models.types import Fixed4, Money

REQUISITION_KINDS = ("purchase", "transfer")
REQUISITION_STATES = ("open", "converted", "cancelled")
DECISION_KINDS = ("snooze", "reject")


class ReplenishmentClass(MasterData, Base):
    """Service-level target and review period for one velocity class (A, B, C).

    Missing rows fall back to the defaults in ``app.services.replenishment.figures``.
    """

    __tablename__ = "replenishment_class"
    __table_args__ = (
        UniqueConstraint("velocity_class"),
        CheckConstraint("service_level_pct > 0 AND service_level_pct < 1000000", name="service_level_range"),
    )
    __branch_editable__ = frozenset()

    velocity_class: Mapped[str] = mapped_column(String(1))
    #: target probability of not stocking out during a replenishment cycle, in percent
    service_level_pct: Mapped[Decimal] = mapped_column(Fixed4())
    #: days between two reviews of the item (the order-up-to level covers them)
    review_days: Mapped[int] = mapped_column(Integer, default=7)


class TransferLane(MasterData, Base):
    """What moving stock from one warehouse to another costs and how long it takes.

    Missing lanes use the defaults in ``app.services.replenishment.figures``.
    """

    __tablename__ = "transfer_lane"
    __table_args__ = (UniqueConstraint("from_warehouse_id", "to_warehouse_id"),)

    from_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    to_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    transit_days: Mapped[int] = mapped_column(Integer, default=2)
    cost_per_unit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.05"))
    cost_per_shipment: Mapped[Decimal] = mapped_column(Money(), default=Decimal("25"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")


class RecommendationDecision(BranchDocument, Base):
    """A snooze, rejection or lift of the recommendation for one item x warehouse.

    Owned by the branch that decided (head office may decide for a branch's warehouse), so no
    branch edits another's row: the newest decision of a pair (by HLC) counts, and a lift is a
    decision of its own (kind ``lift``).
    """

    __tablename__ = "recommendation_decision"
    __table_args__ = (Index("ix_recommendation_decision_pair", "item_id", "warehouse_id"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    kind: Mapped[str] = mapped_column(String(8))  # snooze | reject | lift
    until_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class Requisition(BranchDocument, Base):
    """An accepted recommendation: buy ``qty`` of an item for a warehouse, or move it from
    a sister warehouse. Helper areas turn it into a PO (``po_id``) or a transfer order
    (``transfer_id``); those are plain UUID columns because their tables belong to other
    migrations.
    """

    __tablename__ = "requisition"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("kind IN ('purchase', 'transfer')", name="kind_known"),
        CheckConstraint("status IN ('open', 'converted', 'cancelled')", name="status_known"),
        Index("ix_requisition_pair", "item_id", "warehouse_id", "status"),
    )

    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    #: the warehouse that needs the stock (the ship-to of a PO line)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    qty: Mapped[int] = mapped_column(BigInteger)
    #: what the engine suggested; differs from qty when the buyer edited it
    recommended_qty: Mapped[int] = mapped_column(BigInteger, default=0)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supplier.id"), default=None)
    source_warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"), default=None)
    unit_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    need_by: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: JSON of the figures behind the recommendation (d, sigma, LT, SS, ROP, OUL, ...)
    why: Mapped[str] = mapped_column(Text, default="{}")
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: plain UUIDs (no FK): purchase_order lives in 0001 but transfer orders in another migration
    po_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class SalesWeek(LocalOnly, Base):
    """Units sold per item, warehouse and week: a derived, local-only digest of sale moves.

    Kept in step by triggers on ``stock_move`` (``SALES_WEEK_TRIGGERS_SQL``), so moves from
    any writer, replication included, count; rebuildable from the ledger. Clustered by
    (item, warehouse, week), so the replenishment run reads it in one ordered pass with no
    sort. Weeks are Monday-based: ``week = (julian day number) // 7``.
    """

    __tablename__ = "sales_week"
    __table_args__ = {"sqlite_with_rowid": False}

    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    qty: Mapped[int] = mapped_column(BigInteger, default=0)


#: week number of an ISO date or timestamp: Julian day number // 7 (weeks start on Monday);
#: ``stock_move.moved_at`` before 0023_numeric_times, ``sales_history.sale_date`` before
#: 0025_history_times (now ``stamps.sql_week`` / ``stamps.sql_day_week`` of the numbers)
SQL_WEEK = "(CAST(julianday(substr({col}, 1, 10)) + 0.5 AS INTEGER) / 7)"

#: sale moves into a customer location add to the week; reversals of sales take it back
SALES_WEEK_TRIGGERS_SQL = [
    f"""CREATE TRIGGER IF NOT EXISTS trg_stock_move_sales_week AFTER INSERT ON stock_move
    WHEN NEW.reason = 'sale'
    BEGIN
      INSERT INTO sales_week (item_id, warehouse_id, week, qty)
      SELECT NEW.item_id, l.warehouse_id, {sql_week("NEW.moved_at")}, NEW.qty
      FROM location l WHERE l.id = NEW.to_location_id AND l.kind = 'customer'
      ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS trg_stock_move_sales_week_rev AFTER INSERT ON stock_move
    WHEN NEW.reason = 'reversal' AND NEW.reverses_move_id IS NOT NULL
    BEGIN
      INSERT INTO sales_week (item_id, warehouse_id, week, qty)
      SELECT o.item_id, l.warehouse_id, {sql_week("o.moved_at")}, -NEW.qty
      FROM stock_move o JOIN location l ON l.id = o.to_location_id
      WHERE o.id = NEW.reverses_move_id AND o.reason = 'sale' AND l.kind = 'customer'
      ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty;
    END""",
]

#: weekly sales per item x warehouse x week straight from the ledger and the imported sales history
SALES_WEEK_SELECT_SQL = f"""
SELECT item_id, warehouse_id, week, SUM(q) AS qty FROM (
  SELECT m.item_id, l.warehouse_id, {sql_week("m.moved_at")} AS week, m.qty AS q
  FROM stock_move m JOIN location l ON l.id = m.to_location_id
  WHERE m.reason = 'sale' AND l.kind = 'customer'
  UNION ALL
  SELECT o.item_id, l.warehouse_id, {sql_week("o.moved_at")}, -r.qty
  FROM stock_move r JOIN stock_move o ON o.id = r.reverses_move_id JOIN location l ON l.id = o.to_location_id
  WHERE r.reason = 'reversal' AND o.reason = 'sale' AND l.kind = 'customer'
  UNION ALL
  SELECT h.item_id, h.warehouse_id, {sql_day_week("h.sale_date")}, h.qty
  FROM sales_history h
) GROUP BY item_id, warehouse_id, week
"""

#: recompute sales_week from the ledger (rebuild; the migration keeps its own copy)
SALES_WEEK_REBUILD_SQL = "INSERT INTO sales_week (item_id, warehouse_id, week, qty)" + SALES_WEEK_SELECT_SQL
