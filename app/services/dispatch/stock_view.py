"""What picking reads of the stock: bins holding an item (with lot, expiry, place) and what live
waves already take from them. Raw SQL over stored values (ids as hex in Python, 16 bytes in the
file: ``rows`` converts both ways): a wave plan reads thousands of
bins at once, and SQLAlchemy's rows would cost more than the queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.services.dispatch.layout import Spot, spot_of
from app.services.id_storage import hex_row, stored_params

_CHUNK = 500
#: where picks come from (the dock too: a receipt may be picked as it lands, cross-dock)
PICK_FROM = ("storage", "dock")


def rows(session: Session, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Raw rows with ids as 32-hex text both ways (the columns hold 16 bytes: ``id_storage``)."""
    raw: Any = session.connection().connection.driver_connection
    return [hex_row(r) for r in raw.execute(sql, stored_params(params)).fetchall()]


def chunked(session: Session, sql: str, keys: Sequence[str], extra: Sequence[Any] = ()) -> list[Any]:
    """``sql`` with one ``{keys}`` placeholder, run per chunk of keys (SQLite's parameter limit)."""
    out: list[Any] = []
    for i in range(0, len(keys), _CHUNK):
        part = keys[i:i + _CHUNK]
        out.extend(rows(session, sql.format(keys=",".join("?" * len(part))), (*extra, *part)))
    return out


@dataclass
class Bin:
    location_id: str
    code: str
    spot: Spot
    role: str
    walk_seq: int
    item_id: str
    lot: str  # '' = no lot
    lot_code: str
    expiry: str | None
    qty: int  # on hand less what live waves take


def bins_for(session: Session, warehouse_id: str, item_ids: Sequence[str], *, today: str,
             exclude_wave: str | None = None) -> dict[str, list[Bin]]:
    """item -> its bins with stock left to pick (on hand less open picks of released waves), lots
    past expiry left out."""
    found = _bin_rows(session, warehouse_id, item_ids)
    taken = committed(session, warehouse_id, exclude_wave=exclude_wave)
    lots = sorted({str(r[2]) for r in found if r[2]})
    lot_info = {str(i): (c, str(e) if e is not None else None)
                for i, c, e in chunked(session, "SELECT id, lot_code, expiry_date FROM lot WHERE id IN ({keys})", lots)}
    out: dict[str, list[Bin]] = defaultdict(list)
    for loc, item, lot, qty, code, zone, walk, role in found:
        lot = str(lot or "")
        code_, exp = lot_info.get(lot, ("", None))
        if lot and exp is not None and exp < today:
            continue
        left = int(qty) - taken.get((str(loc), str(item), lot), 0)
        if left > 0:
            out[str(item)].append(Bin(str(loc), str(code), spot_of(str(code), str(zone), int(walk)), str(role or ""),
                                      int(walk), str(item), lot, code_, exp, left))
    return out


def _bin_rows(session: Session, warehouse_id: str, item_ids: Sequence[str]) -> list[Any]:
    sql = ("SELECT b.location_id, b.item_id, b.lot_key, b.qty, loc.code, COALESCE(z.code, ''), loc.walk_seq, loc.role "
           "FROM stock_balance b JOIN location loc ON loc.id = b.location_id LEFT JOIN zone z ON z.id = loc.zone_id "
           "WHERE loc.warehouse_id = ? AND loc.kind IN ('storage', 'dock') AND loc.active = 1 "
           "AND loc.deleted_at IS NULL AND b.qty > 0 AND b.item_id IN ({keys})")
    out: list[Any] = []
    keys = sorted(set(item_ids))
    for i in range(0, len(keys), _CHUNK):
        part = keys[i:i + _CHUNK]
        out.extend(rows(session, sql.format(keys=",".join("?" * len(part))), (warehouse_id, *part)))
    return out


def committed(session: Session, warehouse_id: str, *, exclude_wave: str | None = None) -> dict[tuple[str, str, str], int]:
    """(location, item, lot) -> units open pick lines of released (or picking) waves will take."""
    out: dict[tuple[str, str, str], int] = {}
    for loc, item, lot, q, wave in rows(
            session, "SELECT p.from_location_id, p.item_id, COALESCE(p.lot_id, ''), SUM(p.qty - p.qty_picked), w.id "
            "FROM pick_line p JOIN wave w ON w.id = p.wave_id WHERE w.warehouse_id = ? "
            "AND w.status IN ('released', 'picking') AND p.status = 'open' AND p.deleted_at IS NULL "
            "GROUP BY p.from_location_id, p.item_id, p.lot_id, w.id", (warehouse_id,)):
        if exclude_wave is not None and str(wave) == exclude_wave:
            continue
        k = (str(loc), str(item), str(lot or ""))
        out[k] = out.get(k, 0) + int(q)
    return out
