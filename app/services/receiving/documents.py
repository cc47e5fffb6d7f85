"""Label sheets and the putaway list: read the database, hand plain data to ``reports``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Location, Warehouse, Zone
from app.models.receiving import PutawayTask, Receipt, ReceiptLine
from app.models.types import utcnow
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.receiving.putaway import list_tasks
from reports.labels import Label, bin_label, item_label, receiving_label, render_labels
from reports.putaway_list import PutawayList, PutawayRow, render_putaway_list


def warehouse_by_code(session: Session, code: str) -> Warehouse:
    wh = session.scalars(select(Warehouse).where(Warehouse.code == code.strip().upper())).first()
    if wh is None:
        raise NotFound("warehouse", code)
    return wh


def receipt_by_number(session: Session, number: str) -> Receipt:
    rec = session.scalars(select(Receipt).where(Receipt.number == number.strip().upper())).first()
    if rec is None:
        raise NotFound("receipt", number)
    return rec


def bin_labels(session: Session, warehouse_code: str, *, prefix: str = "") -> list[Label]:
    wh = warehouse_by_code(session, warehouse_code)
    q = (select(Location, Zone.code).outerjoin(Zone, Zone.id == Location.zone_id)
         .where(Location.warehouse_id == wh.id, Location.kind == "storage", Location.active.is_(True))
         .order_by(Location.walk_seq, Location.code))
    if prefix:
        q = q.where(Location.code.startswith(prefix.strip().upper()))
    out = []
    for loc, zone in session.execute(q):
        detail = " ".join(x for x in (f"zone {zone}" if zone else "", loc.role, loc.temperature_class,
                                      f"hazmat {loc.hazmat_class}" if loc.hazmat_class else "") if x)
        out.append(bin_label(loc.code, wh.code, detail))
    if not out:
        raise ValidationError("bins", f"no storage bin of {wh.code}" + (f" starts with {prefix!r}" if prefix else ""))
    return out


def item_labels(session: Session, skus: Sequence[str], *, copies: int = 1) -> list[Label]:
    if copies < 1 or copies > 500:
        raise ValidationError("copies", "must be 1 to 500")
    wanted = [s.strip().upper() for s in skus if s.strip()]
    if not wanted:
        raise ValidationError("items", "name at least one SKU")
    found = {i.sku: i for i in session.scalars(select(Item).where(Item.sku.in_(wanted)))}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise NotFound("item", ", ".join(missing))
    return [item_label(found[s].sku, found[s].description, found[s].gtin) for s in wanted for _ in range(copies)]


def receipt_labels(session: Session, number: str) -> list[Label]:
    """One label per putaway task of the receipt, carrying (and encoding in GS1 (37)) that task's
    quantity and bin: 168 units put away as 3 tasks of 72, 72 and 24 give three labels that say so.
    Serial items get one label per unit; a line with no task (held in QA) one label for the line."""
    rec = receipt_by_number(session, number)
    rows = session.execute(select(ReceiptLine, Item).join(Item, Item.id == ReceiptLine.item_id)
                           .where(ReceiptLine.receipt_id == rec.id).order_by(ReceiptLine.line_no)).all()
    tasks: dict[object, list[tuple[PutawayTask, str]]] = {}
    for task, code in session.execute(
            select(PutawayTask, Location.code).outerjoin(Location, Location.id == PutawayTask.proposed_location_id)
            .where(PutawayTask.receipt_id == rec.id).order_by(PutawayTask.id)):
        tasks.setdefault(task.receipt_line_id, []).append((task, code or ""))
    out: list[Label] = []
    for rl, item in rows:
        parts = [(t.qty, t.serials, code or "choose a bin") for t, code in tasks.get(rl.id, [])] or \
            [(rl.qty, rl.serials, "QA hold" if rl.hold else "")]
        for qty, serials, dest in parts:
            units = [s for s in serials.split("\n") if s]
            for sn in units or [""]:
                out.append(receiving_label(rec.number, item.sku, item.description, 1 if sn else qty, gtin=item.gtin,
                                           lot=rl.lot_code, expiry=rl.expiry_date, serial=sn, bin_code=dest))
    return out


def task_labels(session: Session, task_ids: Sequence[uuid.UUID]) -> list[Label]:
    """Labels of chosen open putaway tasks (a reprint at the dock); each says its task's quantity.
    A task already put away is refused: its goods are in a bin, not on the dock."""
    if not task_ids:
        raise ValidationError("putaway tasks", "choose at least one task to label")
    found = {t.id: t for t in session.scalars(select(PutawayTask).where(PutawayTask.id.in_(list(task_ids))))}
    out: list[Label] = []
    for tid in task_ids:
        t = found.get(tid)
        if t is None:
            raise NotFound("putaway task", tid)
        item = session.get(Item, t.item_id)
        assert item is not None
        if t.status != "open":
            where = session.get(Location, t.confirmed_location_id) if t.confirmed_location_id else None
            raise Conflict(f"the putaway task of {t.qty:,} x {item.sku} is {t.status}"
                           + (f" (put away in {where.code})" if where else "") + ": there is nothing on the dock to label")
        rl = session.get(ReceiptLine, t.receipt_line_id) if t.receipt_line_id else None
        rec = session.get(Receipt, t.receipt_id) if t.receipt_id else None
        dest = session.get(Location, t.proposed_location_id) if t.proposed_location_id else None
        units = [s for s in t.serials.split("\n") if s]
        for sn in units or [""]:
            out.append(receiving_label(rec.number if rec else "transfer", item.sku, item.description,
                                       1 if sn else t.qty, gtin=item.gtin, lot=rl.lot_code if rl else "",
                                       expiry=rl.expiry_date if rl else None, serial=sn,
                                       bin_code=dest.code if dest else "choose a bin"))
    return out


def labels_pdf(labels: Sequence[Label], title: str) -> bytes:
    return render_labels(labels, title=title)


def putaway_list_pdf(session: Session, warehouse_code: str, *, receipt_number: str = "") -> bytes:
    wh = warehouse_by_code(session, warehouse_code)
    rec = receipt_by_number(session, receipt_number) if receipt_number else None
    rows = list_tasks(session, wh.id, receipt_id=rec.id if rec else None)
    return render_putaway_list(PutawayList(
        warehouse=wh.code, reference=rec.number if rec else "", printed_at=utcnow(),
        rows=[PutawayRow(r.sku, r.description, r.lot, r.qty, r.from_code, r.proposed_code, r.reason) for r in rows]))
