"""`depot stock SKU [--warehouse CODE] [--history N] [--json]`: stock of one item.

Figures per warehouse (on hand, in QA, allocated, available, in transit out and in), then
the balances by bin and lot, and optionally the newest ledger moves. This module also holds
the small argument helpers the other inventory commands (count, transfer, rma) share.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.cli.common import add_db_option, add_json_option, print_json, print_table
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("stock", help="stock of one item by warehouse, bin and lot")
    add_db_option(p)
    add_json_option(p)
    p.add_argument("sku", metavar="SKU", help="the item's SKU, or a barcode (item or pack GTIN) as a scanner reads it")
    p.add_argument("--warehouse", metavar="CODE", help="only this warehouse")
    p.add_argument("--history", type=int, default=0, metavar="N", help="also show the newest N ledger moves")
    p.set_defaults(func=_stock)


# ---- helpers shared by the inventory commands -------------------------------------------





def parse_date(value: str | None, field: str = "--date") -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_pairs(pairs: list[str], what: str = "line") -> list[tuple[str, str, str]]:
    """'SKU=VALUE' or 'SKU@LOT=VALUE' -> (sku, lot, value)."""
    out = []
    for raw in pairs:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValidationError(what, f"{raw!r} is not SKU=VALUE (or SKU@LOT=VALUE)")
        sku, _, lot = key.partition("@")
        out.append((sku.strip(), lot.strip(), value.strip()))
    return out


# ---- depot stock --------------------------------------------------------------------------

def _item(s: Session, code: str) -> Any:
    """A SKU or a barcode (the item's or a pack's GTIN), like the window's search."""
    from app.models.catalog import Item
    from app.services.errors import NotFound
    from app.services.items import find_by_code

    item_id = find_by_code(s, code)
    if item_id is None:
        raise NotFound("SKU or barcode", code)
    return s.get(Item, item_id)


def _stock(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import warehouse_by_code
    from app.services.inventory.queries import item_figures, ledger_page, stock_rows

    with session_for(args) as s:
        item = _item(s, args.sku)
        wh = warehouse_by_code(s, args.warehouse) if args.warehouse else None
        figures = item_figures(s, item.id, wh.id if wh else None)
        rows = stock_rows(s, item_id=item.id, warehouse_id=wh.id if wh else None)
        history = ledger_page(s, item.id, limit=args.history, warehouse_id=wh.id if wh else None).rows \
            if args.history > 0 else []
    fig = [{"warehouse": f.warehouse, "on_hand": f.on_hand, "in_qa": f.in_qa, "allocated": f.allocated,
            "available": f.available, "in_transit_out": f.in_transit_out, "in_transit_in": f.in_transit_in,
            "published": f.published.isoformat(timespec="minutes") if f.published else ""}
           for f in figures]
    locs = [{"warehouse": r.warehouse, "location": r.location, "kind": r.kind, "lot": r.lot,
             "expiry": r.expiry.isoformat() if r.expiry else "", "qty": r.qty} for r in rows]
    moves: list[dict[str, Any]] = [{"moved_at": m.moved_at.isoformat(timespec="seconds"), "reason": m.reason,
                                    "qty": m.qty, "from": m.from_location, "to": m.to_location, "lot": m.lot,
                                    "doc": m.doc_ref} for m in history]
    if args.json:
        print_json({"sku": item.sku, "description": item.description, "uom": item.base_uom,
                    "on_hand": sum(f["on_hand"] for f in fig), "warehouses": fig, "locations": locs,
                    **({"history": moves} if args.history > 0 else {})})
        return 0
    print(f"{item.sku}  {item.description}  ({item.base_uom})")
    print_table(fig)
    print()
    print_table(locs)
    if args.history > 0:
        print()
        print_table(moves)
    return 0
