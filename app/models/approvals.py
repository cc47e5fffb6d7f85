"""Approval rules (configurable master data) and approval decisions (an insert-only ledger).

Rules are data, not code, so head office can tune thresholds per company without a release.
A decision is never edited: a later revision of a PO needs new decisions, and the ledger
keeps every one for the audit trail.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LedgerRow, MasterData
from app.models.types import Fixed4, Money

RULE_KINDS = ("value_threshold", "non_contracted", "rush", "price_variance")
#: what a price_variance rule compares the PO price with
VARIANCE_BASES = ("contract", "last")
DECISIONS = ("approve", "reject")


class ApprovalRule(MasterData, Base):
    """One rule. ``level`` orders the approvals a PO needs: every level that fires must approve.

    * value_threshold: fires when the PO total is above ``amount``.
    * non_contracted: fires when a line's item has no contract with the supplier.
    * rush: fires when the PO is flagged rush.
    * price_variance: fires when a line's price is above the contract (or last) price by more
      than ``percent``.
    """

    __tablename__ = "approval_rule"
    __branch_editable__ = frozenset()

    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    percent: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal(0))
    basis: Mapped[str] = mapped_column(String(10), default="contract")
    #: role whose members may approve this level ('approver', 'manager' ...)
    approver_role: Mapped[str] = mapped_column(String(16), default="approver")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApprovalDecision(LedgerRow, Base):
    """One approver's decision on one level of one revision of a PO."""

    __tablename__ = "approval_decision"
    __table_args__ = (Index("ix_approval_decision_po_rev", "po_id", "revision"),)

    po_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_order.id"))
    revision: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    approver_name: Mapped[str] = mapped_column(String(40), default="")
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
