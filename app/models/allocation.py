"""Allocation: the ledger of stock reserved for sales order lines, the runs that wrote it, and the
policy each warehouse allocates by.

* ``Allocation`` is insert-only, like the stock ledger: a run that gives a line 40 units writes
  +40 (per lot where the item has lots), one that takes 10 back writes -10. A line's reservation
  is the sum of its rows (kept in ``SalesOrderLine.qty_allocated`` in the same transaction). Rows
  are never merged or overwritten, so two workstations' runs replicate without conflicts, and the
  history says who got what, when, by which run and why (``rule``, ``rank``, ``reason``).
* ``AllocationRun`` is written once per run, with its figures; every allocation row names it. A
  run is a policy run, the re-allocation after stock arrived, or a release (cancel, hold, short
  pick), so *every* row says which run made it.
* Both belong to the branch of the warehouse (the branch that owns the orders it ships).
* ``AllocationPolicy``: one per warehouse (id derived from it, so two sites converge), a branch
  document; absent means the default policy.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LedgerRow, without_owner_index
from app.models.types import UTCDateTime

#: why a run ran
RUN_KINDS = ("run", "arrival", "release", "order", "ship")

_POLICY_NS = uuid.UUID("0c3f8a52-63a2-4c0e-9d1b-7b1e6b4f2a12")


def policy_id_for(warehouse_id: uuid.UUID) -> uuid.UUID:
    """The one id every site gives to a warehouse's allocation policy."""
    return uuid.uuid5(_POLICY_NS, warehouse_id.hex)


class AllocationRun(LedgerRow, Base):
    __tablename__ = "allocation_run"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="run")
    #: None: every warehouse of the branch
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"), default=None)
    #: the policy as applied (JSON: keys, mode)
    policy: Mapped[str] = mapped_column(Text, default="{}")
    #: what started it ("receipt DAL-GR-000012", "cancel DAL-SO-000031", "dispatcher")
    trigger: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(40), default="")
    lines_considered: Mapped[int] = mapped_column(Integer, default=0)
    lines_changed: Mapped[int] = mapped_column(Integer, default=0)
    lines_failed: Mapped[int] = mapped_column(Integer, default=0)
    units_allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    units_released: Mapped[int] = mapped_column(BigInteger, default=0)
    #: one line per failed line: "DAL-SO-000031/2: changed at another workstation while the run computed"
    failures: Mapped[str] = mapped_column(Text, default="")


@without_owner_index
class Allocation(LedgerRow, Base):
    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("qty <> 0", name="qty_not_zero"),
        Index("ix_allocation_wh_item", "warehouse_id", "item_id"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("allocation_run.id"), index=True)
    #: the line's order, item and warehouse, copied for queries by warehouse and item (no foreign
    #: keys of their own: the line's is enough, and each costs a lookup per row of a 20,000-row run)
    order_id: Mapped[uuid.UUID] = mapped_column()
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column()
    warehouse_id: Mapped[uuid.UUID] = mapped_column()
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    #: signed base units: + reserves, - gives back
    qty: Mapped[int] = mapped_column(BigInteger)
    #: the policy key that decided (tier, requested_date, fair_share, ship_complete, ...) and the
    #: line's place in its item's queue
    rule: Mapped[str] = mapped_column(String(20), default="")
    rank: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")


class AllocationPolicy(BranchDocument, Base):
    """How a warehouse ranks competing lines: an ordered list of keys (see
    ``app.services.allocation.policy.KEYS``) and whether a run may take stock back from lines
    already allocated (``rerank``) or only hands out what is free."""

    __tablename__ = "allocation_policy"

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), unique=True)
    #: comma-separated keys, most important first
    keys: Mapped[str] = mapped_column(String(200), default="")
    rerank: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(40), default="")
