"""Requisitions to purchase orders: the plan a buyer previews, the conversion, and closing
requisitions a hand-made PO already covers.

Why a plan first: a buyer who selects forty requisitions wants to see which POs that makes
(one per supplier when the supplier consolidates, else one per supplier x ship-to; the same item
for the same ship-to merged), at what prices and totals, and which one cannot be made (a supplier
without a price) before anything is written. ``plan`` and ``convert`` share one grouping, so the
preview is what conversion does. ``convert`` refuses the whole batch on the first problem: one bad
requisition leaves all of them open and creates no PO.

Transfer requisitions become draft transfers (``transfers_from_requisitions``, run by the sending
branch); Inventory's ``create_transfer`` makes them and this module marks the requisitions.

A PO typed by hand for goods that an open requisition asks for would leave the requisition open and
the next replenishment run would count the need twice (on order and requisitioned). ``covered_by``
finds those requisitions, and ``close_with_po`` records them as converted into that PO.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import Requisition
from app.models.catalog import Item
from app.models.inventory import TransferOrder
from app.models.org import Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import PurchaseOrder
from app.services.auth import Actor
from app.services.buying.purchasing import LineInput, create_po, home_warehouse, lines_of, submit
from app.services.buying.requisitions import conversions_of, mark_converted
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.inventory.common import get_warehouse, require_owner
from app.services.inventory.transfers import TransferLineSpec, create_transfer
from app.services.money import line_total


@dataclass(frozen=True)
class PlannedLine:
    sku: str
    description: str
    ship_to: str
    qty: int
    unit_price: Decimal
    #: where the price comes from: "requisition", "contract", "last price", or "" (none: a problem)
    price_source: str
    extension: Decimal
    requisitions: tuple[str, ...]


@dataclass(frozen=True)
class PlannedPo:
    """One PO the conversion will make (or cannot make: ``problem`` says why)."""

    supplier_id: uuid.UUID
    supplier_code: str
    supplier_name: str
    warehouse_id: uuid.UUID
    warehouse_code: str
    consolidated: bool
    currency: str
    lines: tuple[PlannedLine, ...]
    requisition_ids: tuple[uuid.UUID, ...]
    requisition_numbers: tuple[str, ...]
    problem: str = ""

    @property
    def total(self) -> Decimal:
        return sum((ln.extension for ln in self.lines), Decimal(0))

    @property
    def ship_tos(self) -> list[str]:
        return list(dict.fromkeys(ln.ship_to for ln in self.lines))


@dataclass
class _Group:
    supplier: Supplier
    reqs: list[Requisition] = field(default_factory=list)


def _load_open(session: Session, requisition_ids: Sequence[uuid.UUID]) -> list[Requisition]:
    """The requisitions, each checked to be an open purchase requisition nobody converted yet."""
    if not requisition_ids:
        raise ValidationError("requisitions", "choose at least one requisition")
    ids = list(dict.fromkeys(requisition_ids))
    rows = {r.id: r for r in session.scalars(select(Requisition).where(Requisition.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in rows or rows[i].deleted_at is not None]
    if missing:
        raise NotFound("requisition", ", ".join(missing))
    reqs = [rows[i] for i in ids]
    covered = conversions_of(session, ids)
    for r in sorted(reqs, key=lambda r: r.number):
        if r.status == "converted":
            what = covered.get(r.id)
            po = session.get(PurchaseOrder, r.po_id) if r.po_id else None
            on = f"purchase order {po.number}" if po else what.label(session) if what else "a document"
            raise Conflict(f"requisition {r.number} is already converted (on {on}); nothing was created")
        if r.status != "open":
            raise Conflict(f"requisition {r.number} is {r.status}; only open requisitions become purchase orders")
        if r.id in covered:
            raise Conflict(f"requisition {r.number} is already on {covered[r.id].label(session)}; "
                           "its branch marks it converted when it next syncs")
        if r.kind != "purchase":
            raise ValidationError(f"requisition {r.number}", "is a transfer, not a purchase: convert it under Transfers")
        if r.supplier_id is None:
            raise ValidationError(f"requisition {r.number}", "has no supplier")
    return sorted(reqs, key=lambda r: r.number)


def _groups(session: Session, reqs: list[Requisition]) -> list[_Group]:
    suppliers = {s.id: s for s in session.scalars(select(Supplier).where(
        Supplier.id.in_({r.supplier_id for r in reqs if r.supplier_id})))}
    groups: dict[tuple[uuid.UUID, uuid.UUID | None], _Group] = {}
    for r in reqs:
        assert r.supplier_id is not None
        sup = suppliers[r.supplier_id]
        key = (sup.id, None if sup.allows_consolidation else r.warehouse_id)
        groups.setdefault(key, _Group(sup)).reqs.append(r)
    return list(groups.values())


def _home_warehouse(session: Session, actor: Actor, group: _Group) -> uuid.UUID:
    return home_warehouse(actor, [r.warehouse_id for r in group.reqs], session,
                          consolidates=group.supplier.allows_consolidation)


def _plan_group(session: Session, actor: Actor, g: _Group, items: dict[uuid.UUID, Item],
                whs: dict[uuid.UUID, Warehouse]) -> PlannedPo:
    terms = {t.item_id: t for t in session.scalars(select(ItemSupplier).where(
        ItemSupplier.supplier_id == g.supplier.id, ItemSupplier.item_id.in_({r.item_id for r in g.reqs}),
        ItemSupplier.deleted_at.is_(None)))}
    merged: dict[tuple[uuid.UUID, uuid.UUID], list[Requisition]] = {}
    for r in g.reqs:
        merged.setdefault((r.item_id, r.warehouse_id), []).append(r)
    lines, problems = [], []
    for (item_id, wh_id), rs in merged.items():
        qty = sum(r.qty for r in rs)
        price = next((r.unit_price for r in rs if r.unit_price > 0), Decimal(0))
        source = "requisition" if price > 0 else ""
        t = terms.get(item_id)
        if not source and t is not None and t.contract_price > 0:
            price, source = t.contract_price, "contract"
        elif not source and t is not None and t.last_price > 0:
            price, source = t.last_price, "last price"
        item = items[item_id]
        if not source:
            problems.append(f"{item.sku} has no price from {g.supplier.code} (no contract or last price, none on "
                            f"{', '.join(r.number for r in rs)}): enter a unit price on the requisition")
        lines.append(PlannedLine(item.sku, item.description, whs[wh_id].code, qty, price, source,
                                 line_total(qty, price, g.supplier.currency), tuple(r.number for r in rs)))
    if not g.supplier.active:
        problems.insert(0, f"supplier {g.supplier.code} is inactive")
    home = _home_warehouse(session, actor, g)
    return PlannedPo(
        supplier_id=g.supplier.id, supplier_code=g.supplier.code, supplier_name=g.supplier.name,
        warehouse_id=home, warehouse_code=whs[home].code if home in whs else "?",
        consolidated=len({r.warehouse_id for r in g.reqs}) > 1, currency=g.supplier.currency, lines=tuple(lines),
        requisition_ids=tuple(r.id for r in g.reqs), requisition_numbers=tuple(r.number for r in g.reqs),
        problem="; ".join(problems))


def plan(session: Session, actor: Actor, requisition_ids: Sequence[uuid.UUID]) -> list[PlannedPo]:
    """The POs converting these requisitions would make, with prices, totals and problems; writes nothing.

    Refuses (like ``convert``) a requisition that is not an open purchase requisition."""
    actor.require("po.create")
    reqs = _load_open(session, requisition_ids)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({r.item_id for r in reqs})))}
    whs = {w.id: w for w in session.scalars(select(Warehouse))}
    return [_plan_group(session, actor, g, items, whs) for g in _groups(session, reqs)]


@dataclass(frozen=True)
class Converted:
    number: str
    id: uuid.UUID
    status: str
    supplier_code: str
    lines: int
    total: Decimal
    currency: str
    requisitions: tuple[str, ...]


def convert(session: Session, actor: Actor, requisition_ids: Sequence[uuid.UUID], *, rush: bool = False,
            submit_now: bool = False) -> list[PurchaseOrder]:
    """Make the planned POs and mark the requisitions converted; any problem refuses the whole batch."""
    planned = plan(session, actor, requisition_ids)
    for p in planned:
        if p.problem:
            raise ValidationError(f"purchase order for {p.supplier_code}", f"{p.problem}; nothing was created")
    reqs = {r.id: r for r in _load_open(session, requisition_ids)}
    pos: list[PurchaseOrder] = []
    for p in planned:
        group = [reqs[i] for i in p.requisition_ids]
        merged: dict[tuple[uuid.UUID, uuid.UUID], list[Requisition]] = {}
        for r in group:
            merged.setdefault((r.item_id, r.warehouse_id), []).append(r)
        lines = [LineInput(item_id=item_id, qty=sum(r.qty for r in rs), price=ln.unit_price, ship_to_warehouse_id=wh_id,
                           expected_date=_need_by(rs))
                 for ((item_id, wh_id), rs), ln in zip(merged.items(), p.lines, strict=True)]
        requesters = {r.requested_by_id for r in group if r.requested_by_id}
        po = create_po(session, actor, p.supplier_id, p.warehouse_id, lines, rush=rush,
                       requested_by_id=next(iter(requesters)) if len(requesters) == 1 else actor.user_id,
                       notes="from requisitions " + ", ".join(p.requisition_numbers))
        mark_converted(session, actor, list(p.requisition_ids), po_id=po.id)
        if submit_now:
            submit(session, actor, po.id)
        pos.append(po)
    return pos


def summary(session: Session, pos: Sequence[PurchaseOrder]) -> list[Converted]:
    """What the screen and the CLI say after converting: number, status, supplier, lines, total."""
    out = []
    for po in pos:
        sup = session.get(Supplier, po.supplier_id)
        lines = lines_of(session, po.id)
        reqs = session.scalars(select(Requisition.number).where(Requisition.po_id == po.id).order_by(Requisition.number))
        out.append(Converted(po.number, po.id, po.status, sup.code if sup else "?", len(lines),
                             sum((line_total(ln.qty_ordered, ln.unit_price, po.currency) for ln in lines), Decimal(0)), po.currency,
                             tuple(reqs)))
    return out


def open_purchase_ids(session: Session, supplier: str | None = None) -> list[uuid.UUID]:
    """Open purchase requisitions not yet on any PO (of one supplier code, or all)."""
    q = select(Requisition.id).where(Requisition.status == "open", Requisition.kind == "purchase",
                                     Requisition.deleted_at.is_(None))
    if supplier:
        sup = session.scalar(select(Supplier.id).where(Supplier.code == supplier.strip().upper()))
        if sup is None:
            raise NotFound("supplier", supplier)
        q = q.where(Requisition.supplier_id == sup)
    ids = list(session.scalars(q.order_by(Requisition.number)))
    covered = conversions_of(session, ids)
    return [i for i in ids if i not in covered]


def ids_by_number(session: Session, numbers: Sequence[str]) -> list[uuid.UUID]:
    out = []
    for n in numbers:
        rid = session.scalar(select(Requisition.id).where(Requisition.number == n.strip().upper()))
        if rid is None:
            raise NotFound("requisition", n)
        out.append(rid)
    return out


@dataclass(frozen=True)
class CoveredRequisition:
    id: uuid.UUID
    number: str
    sku: str
    warehouse: str
    qty: int
    supplier_code: str


def covered_by(session: Session, po_id: uuid.UUID) -> list[CoveredRequisition]:
    """Open purchase requisitions for an item and ship-to that this PO orders (any supplier): the
    PO covers them, so they should not stay open and be counted again."""
    pairs = {(ln.item_id, ln.ship_to_warehouse_id) for ln in lines_of(session, po_id)}
    if not pairs:
        return []
    q = (select(Requisition, Item.sku, Warehouse.code).join(Item, Item.id == Requisition.item_id)
         .join(Warehouse, Warehouse.id == Requisition.warehouse_id)
         .where(Requisition.status == "open", Requisition.kind == "purchase", Requisition.deleted_at.is_(None),
                Requisition.item_id.in_({p[0] for p in pairs})).order_by(Requisition.number))
    rows = [(r, sku, code) for r, sku, code in session.execute(q) if (r.item_id, r.warehouse_id) in pairs]
    covered = conversions_of(session, [r.id for r, _s, _c in rows])
    sups = {s.id: s.code for s in session.scalars(select(Supplier))}
    return [CoveredRequisition(r.id, r.number, sku, code, r.qty, sups.get(r.supplier_id, "") if r.supplier_id else "")
            for r, sku, code in rows if r.id not in covered]


def close_with_po(session: Session, actor: Actor, po_id: uuid.UUID,
                  requisition_ids: Sequence[uuid.UUID]) -> list[Requisition]:
    """Record open requisitions as converted into a PO made by hand (only ones it covers)."""
    actor.require("po.create")
    po = session.get(PurchaseOrder, po_id)
    if po is None or po.deleted_at is not None:
        raise NotFound("purchase order", po_id)
    if po.status == "cancelled":
        raise Conflict(f"purchase order {po.number} is cancelled: it covers no requisition")
    allowed = {c.id: c for c in covered_by(session, po_id)}
    reqs = _load_open(session, requisition_ids)
    for r in reqs:
        if r.id not in allowed:
            raise ValidationError(f"requisition {r.number}", f"asks for an item or ship-to that {po.number} does not order")
    return mark_converted(session, actor, [r.id for r in reqs], po_id=po.id)


def _need_by(rs: Sequence[Requisition]) -> dt.date | None:
    """The earliest need of merged requisitions; a need already past is asked for as soon as possible (today)."""
    d = min((r.need_by for r in rs if r.need_by), default=None)
    return max(d, dt.date.today()) if d else None


# --------------------------------------------------------------------------- transfers


def transfers_from_requisitions(session: Session, actor: Actor, requisition_ids: Sequence[uuid.UUID]) -> list[TransferOrder]:
    """One draft transfer per (source, destination) warehouse pair from open transfer requisitions
    (the replenishment engine's "transfer before buying"); the requisitions become converted.

    Run by the sending branch (it owns the transfer): a transfer requisition is the requesting
    branch's request row. Requisitions the sender does not own become converted by their owner's
    settler after its next pull."""
    actor.require("transfer.create")
    reqs = list(session.scalars(select(Requisition).where(Requisition.id.in_(list(requisition_ids)))))
    found = {r.id for r in reqs}
    for rid in requisition_ids:
        if rid not in found:
            raise NotFound("requisition", rid)
    groups: dict[tuple[uuid.UUID, uuid.UUID], list[Requisition]] = {}
    for r in sorted(reqs, key=lambda r: r.number):
        if r.kind != "transfer":
            raise ValidationError(f"requisition {r.number}", "is a purchase requisition, not a transfer")
        if r.status != "open":
            raise Conflict(f"requisition {r.number} is {r.status}: it cannot be converted")
        if r.source_warehouse_id is None:
            raise ValidationError(f"requisition {r.number}", "names no source warehouse")
        groups.setdefault((r.source_warehouse_id, r.warehouse_id), []).append(r)
    for (src, _dst), rs in groups.items():
        wh = get_warehouse(session, src)
        require_owner(session, wh.branch_id, f"requisition {rs[0].number} asks {wh.code} for stock: it is converted "
                      "into a transfer")
    out = []
    for (src, dst), rs in groups.items():
        dates = [r.need_by for r in rs if r.need_by]
        t = create_transfer(session, actor, src, dst, [TransferLineSpec(r.item_id, r.qty) for r in rs],
                            requisition_ids=[r.id for r in rs], requested_date=min(dates) if dates else None,
                            notes="from requisitions " + ", ".join(r.number for r in rs))
        # a requisition another branch owns is not edited here: ``mark_converted`` records the
        # conversion and the requisition's owner settles it after its next pull
        mark_converted(session, actor, [r.id for r in rs], transfer_id=t.id)
        out.append(t)
    return out
