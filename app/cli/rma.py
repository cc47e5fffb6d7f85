"""`depot rma authorise|receive|inspect|dispose|show`: customer returns from the shell.

Lines are named by SKU (the first RMA line of that SKU): ``inspect N WIDGET=ok``,
``dispose N WIDGET=restock:A-02 BOLT=scrap``.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import actor_of, add_db_option, add_json_option, add_user_option, print_json, print_table
from app.cli.stock import parse_pairs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("rma", help="customer returns: authorise, receive, inspect, dispose")
    rsub = p.add_subparsers(dest="rma_command", required=True, metavar="ACTION")

    def cmd(name: str, help_: str, func: Any, *, user: bool = True) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = rsub.add_parser(name, help=help_)
        add_db_option(c)
        if user:
            add_user_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("authorise", "authorise a return", _authorise)
    c.add_argument("--customer", required=True, metavar="CODE")
    c.add_argument("--warehouse", required=True, metavar="CODE")
    c.add_argument("--order", metavar="NUMBER", help="the sales order the goods shipped on")
    c.add_argument("--reason", default="")
    c.add_argument("lines", nargs="+", metavar="SKU[@LOT]=QTY[:CREDIT]")
    c = cmd("receive", "receive returned goods into QA (all authorised unless lines are given)", _receive)
    c.add_argument("number", metavar="NUMBER")
    c.add_argument("lines", nargs="*", metavar="SKU=QTY")
    c = cmd("inspect", "record inspection results (ok, defective, customer_damage)", _inspect)
    c.add_argument("number", metavar="NUMBER")
    c.add_argument("lines", nargs="+", metavar="SKU=RESULT")
    c = cmd("dispose", "restock:BIN, scrap or rtv each line; closes and requests the credit", _dispose)
    c.add_argument("number", metavar="NUMBER")
    c.add_argument("lines", nargs="+", metavar="SKU=DISPOSITION")
    c = cmd("show", "an RMA, its lines and its credit request", _show, user=False)
    add_json_option(c)
    c.add_argument("number", metavar="NUMBER")


def _line_ids(s: Any, rma_id: Any, pairs: list[tuple[str, str, str]], number: str) -> dict[Any, str]:
    from app.models.catalog import Item
    from app.services.errors import ValidationError
    from app.services.inventory.rma import rma_lines

    by_sku: dict[str, Any] = {}
    for ln in rma_lines(s, rma_id):
        item = s.get(Item, ln.item_id)
        by_sku.setdefault(item.sku, ln.id)
    out = {}
    for sku, _lot, value in pairs:
        lid = by_sku.get(sku.upper()) or by_sku.get(sku)
        if lid is None:
            raise ValidationError("line", f"{sku} is not on RMA {number}")
        out[lid] = value
    return out


def _authorise(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.parties import Customer
    from app.models.sales import SalesOrder
    from app.services.errors import NotFound
    from app.services.inventory.common import item_by_sku, lot_for, warehouse_by_code
    from app.services.inventory.rma import RmaLineSpec, authorise_rma

    with session_for(args) as s:
        actor = actor_of(s, args)
        cust = s.scalars(select(Customer).where(Customer.code == args.customer.strip().upper())).first()
        if cust is None:
            raise NotFound("customer", args.customer)
        so_id = None
        if args.order:
            so_id = s.scalar(select(SalesOrder.id).where(SalesOrder.number == args.order.strip().upper()))
            if so_id is None:
                raise NotFound("sales order", args.order)
        lines = []
        for sku, lot, value in parse_pairs(args.lines):
            q, _, credit = value.partition(":")
            item = item_by_sku(s, sku)
            lines.append(RmaLineSpec(item.id, q, credit or None, lot_for(s, item, lot)))  # type: ignore[arg-type]
        r = authorise_rma(s, actor, cust.id, warehouse_by_code(s, args.warehouse).id, lines,
                          sales_order_id=so_id, reason=args.reason)
        print(f"{r.number}: authorised, {len(lines)} lines")
    return 0


def _receive(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.rma import receive_rma, rma_by_number

    with session_for(args) as s:
        actor = actor_of(s, args)
        r = rma_by_number(s, args.number)
        got = _line_ids(s, r.id, parse_pairs(args.lines), r.number) if args.lines else None
        receive_rma(s, actor, r.id, got)  # type: ignore[arg-type]
        print(f"{r.number}: received into QA")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.rma import Inspection, inspect_rma, rma_by_number

    with session_for(args) as s:
        actor = actor_of(s, args)
        r = rma_by_number(s, args.number)
        res = {k: Inspection(v) for k, v in _line_ids(s, r.id, parse_pairs(args.lines), r.number).items()}
        inspect_rma(s, actor, r.id, res)
        print(f"{r.number}: {r.status}")
    return 0


def _dispose(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import location_by_code
    from app.services.inventory.rma import Disposition, credit_for, dispose_rma, rma_by_number

    with session_for(args) as s:
        actor = actor_of(s, args)
        r = rma_by_number(s, args.number)
        disp = {}
        for lid, value in _line_ids(s, r.id, parse_pairs(args.lines), r.number).items():
            kind, _, bin_code = value.partition(":")
            to = location_by_code(s, r.warehouse_id, bin_code).id if bin_code else None
            disp[lid] = Disposition(kind.strip().lower(), to)
        dispose_rma(s, actor, r.id, disp)
        cr = credit_for(s, r.id)
        print(f"{r.number}: {r.status}" + (f"; credit request {cr.number} for {cr.amount} {cr.currency}" if cr else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.models.catalog import Item
    from app.services.inventory.rma import credit_for, rma_by_number, rma_lines

    with session_for(args) as s:
        r = rma_by_number(s, args.number)
        lines = []
        for ln in rma_lines(s, r.id):
            item = s.get(Item, ln.item_id)
            lines.append({"line": ln.line_no, "sku": item.sku if item else "?", "authorised": ln.qty_authorised,
                          "received": ln.qty_received, "inspection": ln.inspection_result,
                          "disposition": ln.disposition, "unit_credit": ln.unit_credit})
        cr = credit_for(s, r.id)
        doc = {"number": r.number, "status": r.status, "lines": lines,
               "credit_request": {"number": cr.number, "amount": cr.amount, "currency": cr.currency,
                                  "status": cr.status} if cr else None}
    if args.json:
        print_json(doc)
    else:
        print(f"{doc['number']}  {doc['status']}")
        print_table(lines)
        if cr:
            print(f"credit request {cr.number}: {cr.amount} {cr.currency} ({cr.status})")
    return 0
