"""What replenishment reads besides the ledger: legacy sales history and per-pair stock policies.

``SalesHistory`` is demand a company brings from its old system: insert-only (history is
imported once, like a ledger), owned by the branch of its warehouse, and it never touches stock. Triggers add it to ``sales_week`` exactly
as sale moves are, so the replenishment run (and later forecasting) reads one demand series.

``ReplenishmentPolicy`` is how one item is replenished at one warehouse. Today one policy
exists, ``fixed_minmax`` (when the position falls below ``min_qty``, order up to ``max_qty``);
a pair without a row is computed from demand, lead time and service level. The row's id is
derived from (item, warehouse), so two workstations that set the same pair converge on one row.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LedgerRow, without_owner_index
from app.models.stamps import EpochDays, sql_day_week

#: replenishment policies a pair may have: fixed min/max, computed from the sales history, or from
#: the pair's demand forecast (issue 18). Without a row a pair uses its forecast where one exists,
#: else its history. ``min_qty``/``max_qty`` count only for fixed_minmax; a pair switched to
#: another policy keeps them for switching back (0/1 when it never had any: the CHECK wants max > 0).
POLICIES = ("fixed_minmax", "computed", "forecast")

_POLICY_NS = uuid.UUID("0190f0c1-5a1e-7d3a-9b1c-6f2d8e4a7b01")


def policy_id_for(item_id: uuid.UUID, warehouse_id: uuid.UUID) -> uuid.UUID:
    """The one id every site gives to the policy of ``item_id`` at ``warehouse_id``."""
    return uuid.uuid5(_POLICY_NS, f"{item_id.hex}:{warehouse_id.hex}")


@without_owner_index
class SalesHistory(LedgerRow, Base):
    """Units of an item sold from a warehouse on one day in the old system (demand only)."""

    __tablename__ = "sales_history"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        # no (item, warehouse, day) index: only an import on top of history reads by that key, and
        # it makes its own (importer.sales_history; 0024b_history_index, 57 MB on the large set)
        # numbers in SQLite (``stamps``, migration 0025_history_times): text written around the type is refused
        CheckConstraint("typeof(sale_date) = 'integer'", name="sale_date_number"),
        CheckConstraint("typeof(created_at) = 'integer'", name="created_at_number"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    #: days since 1970-01-01 in SQLite (``stamps.EpochDays``), a DATE on the server
    sale_date: Mapped[dt.date] = mapped_column(EpochDays())
    qty: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id"), default=None)
    #: the legacy document (invoice or order number), when the file gives one
    reference: Mapped[str] = mapped_column(String(40), default="")


class ReplenishmentPolicy(BranchDocument, Base):
    """How one item is replenished at one warehouse (owned by the warehouse's branch)."""

    __tablename__ = "replenishment_policy"
    __table_args__ = (
        UniqueConstraint("item_id", "warehouse_id"),
        CheckConstraint("min_qty >= 0 AND max_qty > 0 AND min_qty <= max_qty", name="min_max"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    policy: Mapped[str] = mapped_column(String(16), default="fixed_minmax")
    min_qty: Mapped[int] = mapped_column(BigInteger, default=0)
    max_qty: Mapped[int] = mapped_column(BigInteger, default=0)


#: legacy sales add to the weekly demand digest the replenishment run reads (``sales_week``)
SALES_HISTORY_WEEK_TRIGGER_SQL = f"""CREATE TRIGGER IF NOT EXISTS trg_sales_history_sales_week
    AFTER INSERT ON sales_history
    BEGIN
      INSERT INTO sales_week (item_id, warehouse_id, week, qty)
      VALUES (NEW.item_id, NEW.warehouse_id, {sql_day_week("NEW.sale_date")}, NEW.qty)
      ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty;
    END"""

#: the same for many rows at once (bulk imports set the trigger aside and run this once per batch;
#: ``?`` is the last rowid before the batch)
SALES_HISTORY_WEEK_BATCH_SQL = f"""INSERT INTO sales_week (item_id, warehouse_id, week, qty)
    SELECT item_id, warehouse_id, {sql_day_week("sale_date")} AS wk, SUM(qty)
    FROM sales_history WHERE rowid > ? GROUP BY item_id, warehouse_id, wk
    ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty"""


_FIGURES_NS = uuid.UUID("0190f0c1-5a1e-7d3a-9b1c-6f2d8e4a7b02")


def figures_id_for(item_id: uuid.UUID, warehouse_id: uuid.UUID, branch_id: uuid.UUID) -> uuid.UUID:
    """One figures row per item x warehouse x publishing branch (a warehouse given to another
    branch gets rows of its new branch; a document's owner never changes)."""
    return uuid.uuid5(_FIGURES_NS, f"{item_id.hex}:{warehouse_id.hex}:{branch_id.hex}")


@without_owner_index
class WarehouseFigures(BranchDocument, Base):
    """What a sister branch needs of one item at one warehouse to offer a transfer instead of a
    purchase (replenishment's transfer-vs-buy): published by the warehouse's own branch, which
    holds its whole ledger, and pulled by every branch under selective replication, where the
    sisters' moves, orders and transfers are not pulled (app.services.replication.scope).

    Surplus = on_hand - allocated - outbound - order_up_to (the sister's own needs, by its own
    policy, forecast and history). demand_* are the weekly sales over ``demand_weeks`` full weeks.
    """

    __tablename__ = "warehouse_figures"
    __table_args__ = (Index("ix_warehouse_figures_pair", "warehouse_id", "item_id"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    #: promised away and not yet shipped: open transfers out and transfer requisitions on this warehouse
    outbound: Mapped[int] = mapped_column(BigInteger, default=0)
    order_up_to: Mapped[int] = mapped_column(BigInteger, default=0)
    demand_weeks: Mapped[int] = mapped_column(BigInteger, default=0)
    demand_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    demand_sq: Mapped[int] = mapped_column(BigInteger, default=0)
    as_of: Mapped[dt.date] = mapped_column(Date)
