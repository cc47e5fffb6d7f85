"""Consolidation: purchase needs for one supplier grouped into as few POs as allowed.

A supplier with ``allows_consolidation`` gets one PO for all branches' needs, each line
keeping its own ship-to warehouse; any other supplier gets one PO per ship-to warehouse.
This module only produces the grouping (``conversion`` builds the POs and marks the
requisitions converted).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import Requisition
from app.models.org import Warehouse
from app.models.parties import Supplier
from app.services.buying.requisitions import conversions_of
from app.services.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True)
class NeedLine:
    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    supplier_id: uuid.UUID
    qty: int
    unit_price: Decimal = Decimal(0)
    requisition_id: uuid.UUID | None = None


@dataclass
class PoGroup:
    supplier_id: uuid.UUID
    consolidated: bool
    #: the PO header's ship-to: the warehouse with most lines (ties: first seen)
    warehouse_id: uuid.UUID
    lines: list[NeedLine] = field(default_factory=list)

    @property
    def ship_tos(self) -> list[uuid.UUID]:
        return list(dict.fromkeys(line.warehouse_id for line in self.lines))

    @property
    def requisition_ids(self) -> list[uuid.UUID]:
        return [line.requisition_id for line in self.lines if line.requisition_id is not None]

    @property
    def value(self) -> Decimal:
        return sum((line.unit_price * line.qty for line in self.lines), Decimal(0))


def group_lines(lines: Sequence[NeedLine], allows_consolidation: Mapping[uuid.UUID, bool]) -> list[PoGroup]:
    """Group needs by supplier (and by ship-to unless the supplier consolidates); order is stable."""
    buckets: dict[tuple[uuid.UUID, uuid.UUID | None], list[NeedLine]] = {}
    for line in lines:
        together = bool(allows_consolidation.get(line.supplier_id, False))
        key = (line.supplier_id, None if together else line.warehouse_id)
        buckets.setdefault(key, []).append(line)
    out = []
    for (sup, wh), group in buckets.items():
        header = wh or Counter(line.warehouse_id for line in group).most_common(1)[0][0]
        out.append(PoGroup(supplier_id=sup, consolidated=wh is None and len({g.warehouse_id for g in group}) > 1,
                           warehouse_id=header, lines=group))
    return out


def consolidation_groups(session: Session, requisition_ids: Sequence[uuid.UUID] | None = None) -> list[PoGroup]:
    """Open purchase requisitions (all, or the given ones) grouped into POs.

    Given ids must all be open purchase requisitions; otherwise a clear error and nothing else.
    """
    q = select(Requisition).where(Requisition.deleted_at.is_(None))
    if requisition_ids is not None:
        ids = list(dict.fromkeys(requisition_ids))
        rows = {r.id: r for r in session.scalars(q.where(Requisition.id.in_(ids)))}
        for rid in ids:
            r = rows.get(rid)
            if r is None:
                raise NotFound("requisition", rid)
            if r.kind != "purchase":
                raise ValidationError(f"requisition {r.number}", "is a transfer, not a purchase")
            if r.status != "open":
                raise Conflict(f"requisition {r.number} is {r.status}, not open")
        reqs = [rows[i] for i in ids]
        for rid, conv in conversions_of(session, ids).items():
            raise Conflict(f"requisition {rows[rid].number} is already on {conv.label(session)}, not open")
    else:
        reqs = list(session.scalars(q.where(Requisition.status == "open", Requisition.kind == "purchase")
                                    .order_by(Requisition.number)))
        covered = conversions_of(session, [r.id for r in reqs])  # on another branch's PO already
        reqs = [r for r in reqs if r.id not in covered]
    sup_ids = {r.supplier_id for r in reqs if r.supplier_id}
    allows = {s.id: s.allows_consolidation for s in session.scalars(select(Supplier).where(Supplier.id.in_(sup_ids)))}
    wh_codes = {w.id: w.code for w in session.scalars(select(Warehouse))}
    lines = [NeedLine(r.item_id, r.warehouse_id, r.supplier_id, r.qty, r.unit_price, r.id)
             for r in sorted(reqs, key=lambda r: (wh_codes.get(r.warehouse_id, ""), r.number)) if r.supplier_id]
    return group_lines(lines, allows)
