"""A shipment's documents: the packing slip (ordered, shipped now, shipped before, backordered, on
the company letterhead) and our GS1-128 carton labels; and the bulk run that prints many slips in
the background, reports which ones were written and resumes after a failure.

The database is read here into the reports' plain data; ``reports/`` lays it out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.org import Warehouse
from app.models.packing import Carton, CartonLine, CartonType, ShipmentLine
from app.models.parties import Carrier, CarrierService, Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.services.db import session_scope
from app.services.dispatch.confirm import find_shipment
from app.services.errors import Conflict
from app.services.org.company import letterhead
from reports.carton_label import CartonLabel, render_carton_labels
from reports.letterhead import Letterhead
from reports.packing_slip import SlipCarton, SlipDocument, SlipLine, render_packing_slip


def _lines_text(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace(",", "\n").split("\n") if p.strip())


def slip_document(session: Session, ref: str | uuid.UUID, *,
                  heads: dict[uuid.UUID, Letterhead] | None = None) -> SlipDocument:
    """The slip's data; ``heads`` caches the letterhead per branch across a bulk run."""
    s = find_shipment(session, ref)
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    if order is None:
        raise Conflict(f"shipment {s.number} has no order: there is no packing slip to print")
    cust = session.get(Customer, order.customer_id)
    wh = session.get(Warehouse, s.warehouse_id)
    carrier = session.get(Carrier, s.carrier_id)
    service = (session.scalar(select(CarrierService.name).where(CarrierService.id == s.service_id))
               if s.service_id else None) or s.service_code
    confirmed = s.status not in ("packing", "packed", "cancelled")
    now: dict[uuid.UUID, int] = defaultdict(int)
    lots: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    serials: dict[uuid.UUID, list[str]] = defaultdict(list)
    cartons = list(session.scalars(select(Carton).where(Carton.shipment_id == s.id, Carton.deleted_at.is_(None),
                                                        Carton.status != "cancelled").order_by(Carton.seq)))
    content: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cl, sku in session.execute(select(CartonLine, Item.sku).join(Item, Item.id == CartonLine.item_id)
                                   .where(CartonLine.carton_id.in_([c.id for c in cartons]),
                                          CartonLine.deleted_at.is_(None))):
        now[cl.order_line_id] += cl.qty
        content[cl.carton_id][sku] += cl.qty
        if cl.lot_id:
            lots[cl.order_line_id].add(cl.lot_id)
        if cl.serial_no:
            serials[cl.order_line_id].append(cl.serial_no)
    used = {x for v in lots.values() for x in v}
    lot_codes = dict(session.execute(select(Lot.id, Lot.lot_code).where(Lot.id.in_(used))).all()) if used else {}
    before: dict[uuid.UUID, int] = defaultdict(int)
    q = (select(ShipmentLine.order_line_id, func.sum(ShipmentLine.qty)).join(Shipment, Shipment.id == ShipmentLine.shipment_id)
         .where(ShipmentLine.order_id == order.id, Shipment.id != s.id, Shipment.status != "cancelled"))
    if confirmed and s.shipped_at is not None:
        q = q.where(Shipment.shipped_at < s.shipped_at)
    for lid, n in session.execute(q.group_by(ShipmentLine.order_line_id)):
        before[lid] = int(n or 0)
    lines = []
    for ln, it in session.execute(select(SalesOrderLine, Item).join(Item, Item.id == SalesOrderLine.item_id)
                                  .where(SalesOrderLine.order_id == order.id, SalesOrderLine.deleted_at.is_(None))
                                  .order_by(SalesOrderLine.line_no)):
        if ln.status == "cancelled" and not now[ln.id]:
            continue
        back = 0 if ln.status == "cancelled" else max(ln.qty_ordered - before[ln.id] - now[ln.id], 0)
        lines.append(SlipLine(ln.line_no, it.sku, it.description, ln.qty_ordered, now[ln.id], before[ln.id], back,
                              ln.uom or "EA", ", ".join(sorted(lot_codes.get(x, "") for x in lots[ln.id])),
                              ", ".join(sorted(serials[ln.id]))))
    types = {t.id: t.code for t in session.scalars(select(CartonType))}
    slip_cartons = tuple(SlipCarton(c.seq, c.sscc, types.get(c.carton_type_id, "") if c.carton_type_id else "",
                                    c.weight_g, ", ".join(f"{q} x {k}" for k, q in sorted(content[c.id].items())))
                         for c in cartons)
    head = heads.get(s.owner_branch_id) if heads is not None else None
    if head is None:
        head = letterhead(session, s.owner_branch_id)
        if heads is not None:
            heads[s.owner_branch_id] = head
    return SlipDocument(
        shipment=s.number, order=order.number, customer=cust.name if cust else "", customer_code=cust.code if cust else "",
        ship_to=order.ship_to or (cust.ship_to if cust else ""), ship_from=f"{wh.name}\n{wh.address}" if wh else "",
        customer_po=order.customer_po, carrier=carrier.name if carrier else "", service=service or "",
        tracking=s.tracking_number or s.label_number, ship_date=s.shipped_at.date() if s.shipped_at else None,
        lines=tuple(lines), cartons=slip_cartons, letterhead=head, company_name=head.name,
        notes=() if confirmed else ("Prepared before shipping: quantities are those packed so far.",))


def packing_slip_pdf(session: Session, ref: str | uuid.UUID) -> bytes:
    return render_packing_slip(slip_document(session, ref))


def carton_labels_pdf(session: Session, ref: str | uuid.UUID) -> bytes:
    doc = slip_document(session, ref)
    if not doc.cartons:
        raise Conflict(f"shipment {doc.shipment} has no cartons yet")
    frm = (doc.letterhead.name if doc.letterhead else doc.company_name, *_lines_text(doc.ship_from))
    to = (doc.customer, *_lines_text(doc.ship_to))
    labels = [CartonLabel(c.sscc, c.seq, len(doc.cartons), frm, to, doc.order, doc.shipment, doc.customer_po,
                          f"{c.weight_g / 1000:.2f} kg" if c.weight_g else "", doc.carrier, c.contents)
              for c in doc.cartons]
    return render_carton_labels(labels, title=f"Carton labels {doc.shipment}")


# --- bulk ---------------------------------------------------------------------------------------
@dataclass
class BulkResult:
    """What a bulk run wrote, what failed (and why), and what it did not reach (to resume with)."""

    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    remaining: list[str] = field(default_factory=list)
    cancelled: bool = False

    def sentence(self) -> str:
        parts = [f"{len(self.written)} packing slips written"]
        if self.failed:
            first = next(iter(self.failed.items()))
            parts.append(f"{len(self.failed)} failed ({first[0]}: {first[1]})")
        if self.remaining:
            parts.append(f"{len(self.remaining)} not reached{' (cancelled)' if self.cancelled else ''}: run again to "
                         "resume")
        return "; ".join(parts)


def print_slips(engine: Engine, shipments: Sequence[str], out_dir: Path, *,
                progress: Callable[[int, int, str], None] | None = None,
                cancelled: Callable[[], bool] | None = None, resume: bool = True) -> BulkResult:
    """One PDF per shipment into ``out_dir`` (``<shipment>.pdf``), off the GUI thread. A slip that
    fails is named and the run goes on; ``resume`` skips slips already written, so a run stopped by
    a full disk or a cancel picks up where it was."""
    out_dir.mkdir(parents=True, exist_ok=True)
    res = BulkResult()
    todo = list(shipments)
    heads: dict[uuid.UUID, Letterhead] = {}
    for n, number in enumerate(todo, 1):
        if cancelled is not None and cancelled():
            res.cancelled = True
            res.remaining = todo[n - 1:]
            break
        target = out_dir / f"{number}.pdf"
        if resume and target.exists() and target.stat().st_size > 0:
            res.written.append(target)
            continue
        try:
            with session_scope(engine, write=False) as session:
                doc = slip_document(session, number, heads=heads)
            data = render_packing_slip(doc)
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(target)  # never a half-written slip under the real name
            res.written.append(target)
        except (Conflict, OSError) as e:
            res.failed[number] = str(e)
        except Exception as e:  # a renderer's error on one slip must not lose the rest of the run
            res.failed[number] = f"{type(e).__name__}: {e}"
        if progress is not None:
            progress(n, len(todo), number)
    return res
