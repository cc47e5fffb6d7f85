"""A wave's pick list as plain data for ``reports.pick_list`` (and the PDF): lines in walking
order with the quantity in the picking unit, the FEFO lot, the item's barcode, totes and the
walking distance; the open lines only once picking has started (a reprint shows what is left)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.models.org import Warehouse
from app.models.types import utcnow
from app.services.dispatch.queries import wave_lines
from app.services.dispatch.setup import branch_zone
from app.services.dispatch.stock_view import chunked, rows
from app.services.dispatch.waves import find_wave
from reports.pick_list import PickListDoc, PickListRow, ToteRow, render_pick_list


def units_text(qty: int, base_uom: str, packs: Sequence[tuple[str, int]]) -> str:
    """``qty`` base units in the picking units: the largest packs first ("2 CS + 3 EA")."""
    parts: list[str] = []
    left = qty
    for uom, factor in sorted(packs, key=lambda p: -p[1]):
        if factor > 1 and left >= factor:
            parts.append(f"{left // factor} {uom}")
            left %= factor
    if left or not parts:
        parts.append(f"{left} {base_uom}")
    return " + ".join(parts)


def picklist_data(session: Session, number: str) -> PickListDoc:
    wave = find_wave(session, number)
    lines = wave_lines(session, number)
    if wave.status == "picking":  # a reprint part-way through shows what is left
        lines = [r for r in lines if r.status == "open"]
    info = {str(r[0]): (str(r[1]), str(r[2] or ""), str(r[3] or "EA")) for r in rows(
        session, "SELECT i.sku, i.id, i.gtin, i.base_uom FROM pick_line p JOIN item i ON i.id = p.item_id "
        "WHERE p.wave_id = ? GROUP BY i.id", (wave.id.hex,))}
    ids = [v[0] for v in info.values()]
    packs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for item_id, uom, factor in chunked(session, "SELECT item_id, uom, factor FROM item_uom WHERE item_id IN ({keys}) "
                                        "AND deleted_at IS NULL", ids):
        packs[str(item_id)].append((str(uom), int(factor)))
    wh = session.get(Warehouse, wave.warehouse_id)
    assert wh is not None
    tz = branch_zone(session, wh)
    out_rows = []
    for r in lines:
        item_id, gtin, base = info.get(r.sku, ("", "", "EA"))
        left = r.qty - r.qty_picked
        out_rows.append(PickListRow(r.seq, r.bin, r.sku, r.description, gtin or r.sku,
                                    units_text(left, base, packs.get(item_id, [])), left, r.lot, r.expiry, r.tote,
                                    r.order))
    seen: dict[str, list[int]] = {}
    for r in lines:
        seen.setdefault(r.order, []).append(r.tote)
    names = {str(n): str(c) for n, c in chunked(
        session, "SELECT o.number, c.name FROM sales_order o JOIN customer c ON c.id = o.customer_id "
        "WHERE o.number IN ({keys})", sorted(seen))}
    totes = sorted((ToteRow(ts[0], o, names.get(o, ""), len(ts)) for o, ts in seen.items()),
                   key=lambda t: (t.tote, t.order))
    carrier = rows(session, "SELECT code FROM carrier WHERE id = ?", (wave.carrier_id.hex,))[0][0] \
        if wave.carrier_id else ""
    cutoff = f"{wave.cutoff_at.astimezone(tz):%a %H:%M}" if wave.cutoff_at else ""
    return PickListDoc(wave.number, wh.code, str(carrier), cutoff, wave.pick_mode, utcnow().astimezone(tz), out_rows,
                       totes, wave.walk_m, wave.walk_line_order_m)


def picklist_pdf(session: Session, number: str) -> tuple[str, bytes]:
    doc = picklist_data(session, number)
    return f"{doc.wave}-picklist.pdf", render_pick_list(doc)
