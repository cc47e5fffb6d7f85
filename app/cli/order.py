"""`depot order ...`: sales orders from the shell (entry, copy, cancel, credit holds, promises,
backorders, item lookup). The rules are the services' (``app.services.sales``)."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    print_json,
    print_table,
    session_for,
)
from app.cli.stock import parse_date


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("order", help="sales orders: create, show, copy, cancel, credit holds, promises, backorders")
    osub = p.add_subparsers(dest="order_command", required=True, metavar="ACTION")

    def cmd(name: str, help_: str, func: Any, *, user: bool = True, json: bool = False) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = osub.add_parser(name, help=help_)
        add_db_option(c)
        if user:
            add_user_option(c)
        if json:
            add_json_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("create", "enter an order: SKU or GTIN, quantity, optional unit and price", _create, json=True)
    c.add_argument("--customer", required=True, metavar="CODE")
    c.add_argument("--warehouse", metavar="CODE", help="default: the user's branch's warehouse")
    c.add_argument("--requested", metavar="YYYY-MM-DD", help="requested delivery date")
    c.add_argument("--po", default="", help="the customer's PO number")
    c.add_argument("--ship-to", default=None, help="default: the customer's ship-to address")
    c.add_argument("--rush", action="store_true")
    c.add_argument("lines", nargs="+", metavar="ITEM[:UOM]=QTY[@PRICE]",
                   help="e.g. WIDGET=24, WIDGET:CS=2, 00012345678905=5@2.50 (a price is an override)")
    c = cmd("list", "open orders, newest first", _list, user=False, json=True)
    c.add_argument("--status", help="one status (default: the open book)")
    c.add_argument("--warehouse", metavar="CODE")
    c.add_argument("--customer", metavar="CODE")
    c.add_argument("--limit", type=int, default=50)
    c = cmd("show", "one order with its lines, promises and allocation reasons", _show, user=False, json=True)
    c.add_argument("number")
    c = cmd("copy", "a new order with the lines of an earlier one, priced today", _copy, json=True)
    c.add_argument("number")
    c.add_argument("--requested", metavar="YYYY-MM-DD")
    c.add_argument("--po", default="")
    c = cmd("cancel", "cancel an order (nothing picked yet)", _cancel)
    c.add_argument("number")
    c.add_argument("--reason", required=True)
    c = cmd("cancel-line", "cancel one line of an order", _cancel_line)
    c.add_argument("number")
    c.add_argument("line", type=int)
    c.add_argument("--reason", required=True)
    c = cmd("holds", "orders on credit hold with the reason", _holds, user=False, json=True)
    c.add_argument("--warehouse", metavar="CODE")
    c = cmd("release", "release an order from credit hold (credit.release)", _release)
    c.add_argument("number")
    c.add_argument("--note", default="")
    c = cmd("promise", "what a quantity of an item can be promised (date-based ATP)", _promise, user=False, json=True)
    c.add_argument("item", metavar="ITEM")
    c.add_argument("qty")
    c.add_argument("--warehouse", required=True, metavar="CODE")
    c.add_argument("--uom", default="")
    c = cmd("backorders", "lines an allocation run left short (backordered orders), by customer and item, with the expected date", _backorders,
            user=False, json=True)
    c.add_argument("--warehouse", metavar="CODE")
    c.add_argument("--customer", metavar="CODE")
    c = cmd("notify-backorders", "tell customers of backordered orders not told yet (the e-mail outbox)",
            _notify, user=False, json=True)
    c = cmd("search", "find items by code, GTIN or words of the description", _search, user=False, json=True)
    c.add_argument("text")
    c.add_argument("--limit", type=int, default=20)


def _line_specs(raw: list[str]) -> list[Any]:
    from app.services.errors import ValidationError
    from app.services.sales.orders import LineInput

    out = []
    for n, text in enumerate(raw, 1):
        key, sep, rest = text.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise ValidationError(f"line {n}", f"{text!r} is not ITEM[:UOM]=QTY[@PRICE]")
        item, _, uom = key.partition(":")
        qty, _, price = rest.partition("@")
        out.append(LineInput(item.strip(), qty.strip(), uom.strip(), price.strip() or None))
    return out


def _result_json(res: Any) -> dict[str, Any]:
    o = res.order
    return {"number": o.number, "status": o.status, "promised_date": o.promised_date, "credit_hold": res.held,
            "notes": res.notes,
            "lines": [{"line": ln.line_no, "qty": ln.qty_ordered, "uom": ln.uom or "", "unit_price": ln.unit_price,
                       "price_source": ln.price_source, "promise": pr.as_dict()}
                      for ln, pr in zip(res.lines, res.promises, strict=True)]}


def _print_result(res: Any, as_json: bool) -> None:
    if as_json:
        print_json(_result_json(res))
        return
    print(res.summary())
    for ln, pr in zip(res.lines, res.promises, strict=True):
        print(f"  {ln.line_no:>3}  {ln.qty_ordered:>8}  {ln.unit_price}  ({ln.price_source})  {pr.text}")
    for note in res.notes:
        print(f"  {note}")


def _create(args: argparse.Namespace) -> int:
    from app.services.sales.orders import create_order

    with session_for(args) as s:
        res = create_order(s, actor_of(s, args), customer=args.customer, warehouse=args.warehouse,
                           lines=_line_specs(args.lines), requested_date=parse_date(args.requested, "--requested"),
                           customer_po=args.po, ship_to=args.ship_to, rush=args.rush)
        _print_result(res, args.json)
    return 0


def _copy(args: argparse.Namespace) -> int:
    from app.services.sales.orders import copy_order, order_by_number

    with session_for(args) as s:
        res = copy_order(s, actor_of(s, args), order_by_number(s, args.number).id,
                         requested_date=parse_date(args.requested, "--requested"), customer_po=args.po)
        _print_result(res, args.json)
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.services.money import fmt_money
    from app.services.sales.queries import list_orders

    with session_for(args) as s:
        rows, _more = list_orders(s, {"status": args.status, "warehouse": args.warehouse, "customer": args.customer},
                                  limit=args.limit)
    if args.json:
        print_json([r.__dict__ for r in rows])
        return 0
    print_table([{"order": r.number, "customer": r.customer, "wh": r.warehouse, "status": r.status,
                  "ordered": r.order_date, "promised": r.promised_date or "", "lines": r.lines,
                  "allocated": f"{r.allocated}/{r.ordered}", "value": fmt_money(r.value, r.currency),
                  "hold": r.credit_reason if r.status == "credit_hold" else ""} for r in rows])
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.services.money import fmt_money, fmt_price, price_places
    from app.services.sales.queries import order_detail

    with session_for(args) as s:
        d = order_detail(s, args.number)
    if args.json:
        data = {k: v for k, v in d.__dict__.items() if k != "lines"}
        data["value"] = d.value
        data["lines"] = [{**ln.__dict__, "short": ln.short} for ln in d.lines]
        print_json(data)
        return 0
    print(f"{d.number}  {d.status}  {d.customer} {d.customer_name}  from {d.warehouse}")
    print(f"ordered {d.order_date}  requested {d.requested_date or '-'}  promised {d.promised_date or '-'}  "
          f"PO {d.customer_po or '-'}  {'RUSH  ' if d.rush else ''}{'ship complete' if d.ship_complete else ''}")
    if d.ship_to:
        print("ship to " + " / ".join(part.strip() for part in d.ship_to.splitlines() if part.strip()))
    if d.cancel_reason:
        print(f"cancelled: {d.cancel_reason}")
    if d.credit_reason and d.status == "credit_hold":
        print(f"credit hold: {d.credit_reason}")
    elif d.credit_released_by:
        print(f"released from credit hold by {d.credit_released_by}")
    places = price_places([ln.unit_price for ln in d.lines], d.currency)
    print_table([{"ln": ln.line_no, "sku": ln.sku, "qty": ln.qty_entered, "allocated": ln.qty_allocated,
                  "short": ln.short, "price": fmt_price(ln.unit_price, places), "promise": ln.promise,
                  "status": ln.status, "why": ln.reason} for ln in d.lines])
    print(f"value {fmt_money(d.value, d.currency, code=True)}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from app.services.sales.orders import cancel_order, order_by_number

    with session_for(args) as s:
        o = cancel_order(s, actor_of(s, args), order_by_number(s, args.number).id, args.reason)
        print(f"{o.number}: cancelled")
    return 0


def _cancel_line(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models.sales import SalesOrderLine
    from app.services.errors import NotFound
    from app.services.sales.orders import cancel_line, order_by_number

    with session_for(args) as s:
        o = order_by_number(s, args.number)
        line_id = s.scalar(select(SalesOrderLine.id).where(SalesOrderLine.order_id == o.id,
                                                           SalesOrderLine.line_no == args.line))
        if line_id is None:
            raise NotFound(f"line of {o.number}", args.line)
        cancel_line(s, actor_of(s, args), line_id, args.reason)
        print(f"{o.number} line {args.line}: cancelled" + (" (the order too: it was the last line)"
                                                           if o.status == "cancelled" else ""))
    return 0


def _holds(args: argparse.Namespace) -> int:
    from app.services.money import fmt_money
    from app.services.sales.queries import credit_holds

    with session_for(args) as s:
        rows = credit_holds(s, args.warehouse)
    if args.json:
        print_json([r.__dict__ for r in rows])
        return 0
    print_table([{"order": r.number, "customer": r.customer, "wh": r.warehouse,
                  "held": r.held_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.held_at else "",
                  "value": fmt_money(r.value, r.currency), "reason": r.reason} for r in rows])
    return 0


def _release(args: argparse.Namespace) -> int:
    from app.services.sales import credit
    from app.services.sales.orders import order_by_number

    with session_for(args) as s:
        done = credit.release(s, actor_of(s, args), order_by_number(s, args.number).id, args.note)
        print(done.message)
    return 0


def _promise(args: argparse.Namespace) -> int:
    from app.services.inventory.common import warehouse_by_code
    from app.services.inventory.promise import promise
    from app.services.sales.orders import _qty as parse_qty
    from app.services.sales.orders import find_item, unit_factor

    with session_for(args) as s:
        item, gtin_uom, factor = find_item(s, args.item, "")
        if args.uom:
            factor = unit_factor(s, item, args.uom, "")
        qty = parse_qty(args.qty, factor, "")
        wh = warehouse_by_code(s, args.warehouse)
        pr = promise(s, item.id, wh.id, qty)
    if args.json:
        print_json({"sku": item.sku, "warehouse": wh.code, "qty": qty, **pr.as_dict()})
        return 0
    print(f"{item.sku} x {qty} from {wh.code}: {pr.text}" + (f" ({pr.source})" if pr.source else "")
          + f"; {pr.available_now} free now")
    return 0


def _backorders(args: argparse.Namespace) -> int:
    from app.services.allocation.backorders import backorder_lines

    with session_for(args) as s:
        rows = backorder_lines(s, warehouse=args.warehouse, customer=args.customer)
    if args.json:
        print_json([r.__dict__ for r in rows])
        return 0
    print_table([{"customer": r.customer, "sku": r.sku, "order": f"{r.number}/{r.line_no}", "wh": r.warehouse,
                  "short": r.short, "of": r.ordered, "expected": r.expected_text,
                  "from": r.source} for r in rows])
    return 0


def _notify(args: argparse.Namespace) -> int:
    from app.services.allocation.backorders import notify_backorders

    with session_for(args) as s:
        rep = notify_backorders(s)
    if args.json:
        print_json({"queued": rep.queued, "skipped": rep.skipped})
    else:
        print(f"{rep.queued} backorder notice(s) queued" + (f", {rep.skipped} order(s) without an e-mail address"
                                                            if rep.skipped else ""))
    return 0


def _search(args: argparse.Namespace) -> int:
    from app.services.sales.search import find_items

    with session_for(args) as s:
        hits = find_items(s, args.text, args.limit)
    if args.json:
        print_json([h.__dict__ for h in hits])
        return 0
    print_table([{"sku": h.sku, "description": h.description, "unit": h.uom or h.base_uom,
                  "match": h.match} for h in hits])
    return 0
