"""`depot transfer create|ship|receive|cancel|list`: inter-branch transfers from the shell."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import actor_of, add_db_option, add_json_option, add_user_option, print_json, print_table
from app.cli.stock import parse_date, parse_pairs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("transfer", help="inter-branch transfers: create, ship, receive")
    tsub = p.add_subparsers(dest="transfer_command", required=True, metavar="ACTION")

    def cmd(name: str, help_: str, func: Any, *, user: bool = True) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = tsub.add_parser(name, help=help_)
        add_db_option(c)
        if user:
            add_user_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("create", "a draft transfer", _create)
    c.add_argument("--from", dest="from_wh", required=True, metavar="CODE")
    c.add_argument("--to", dest="to_wh", required=True, metavar="CODE")
    c.add_argument("--date", help="requested arrival (YYYY-MM-DD)")
    c.add_argument("lines", nargs="+", metavar="SKU[@LOT]=QTY")
    c = cmd("from-requisitions", "draft transfers from open transfer requisitions", _from_reqs)
    c.add_argument("numbers", nargs="+", metavar="REQUISITION")
    c = cmd("ship", "ship a draft: stock goes into transit", _ship)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("receive", "receive a shipped transfer (all of it unless lines are given)", _receive)
    c.add_argument("number", metavar="NUMBER")
    c.add_argument("--bin", metavar="CODE", help="receive into this bin (default: the dock)")
    c.add_argument("lines", nargs="*", metavar="SKU=QTY")
    c = cmd("cancel", "cancel a draft", _cancel)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("list", "transfers, newest first", _list, user=False)
    add_json_option(c)
    c.add_argument("--status", choices=("draft", "shipped", "received", "cancelled"))
    c.add_argument("--warehouse", metavar="CODE", help="either end")


def _create(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import item_by_sku, lot_for, warehouse_by_code
    from app.services.inventory.transfers import TransferLineSpec, create_transfer

    with session_for(args) as s:
        actor = actor_of(s, args)
        src, dst = warehouse_by_code(s, args.from_wh), warehouse_by_code(s, args.to_wh)
        lines = []
        for sku, lot, value in parse_pairs(args.lines):
            item = item_by_sku(s, sku)
            lines.append(TransferLineSpec(item.id, value, lot_for(s, item, lot)))  # type: ignore[arg-type]
        t = create_transfer(s, actor, src.id, dst.id, lines, requested_date=parse_date(args.date))
        print(f"{t.number}: draft, {len(lines)} lines, {src.code} -> {dst.code}")
    return 0


def _from_reqs(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.buying import Requisition
    from app.services.buying.conversion import transfers_from_requisitions
    from app.services.errors import NotFound

    with session_for(args) as s:
        actor = actor_of(s, args)
        ids = []
        for n in args.numbers:
            rid = s.scalar(select(Requisition.id).where(Requisition.number == n.strip().upper()))
            if rid is None:
                raise NotFound("requisition", n)
            ids.append(rid)
        for t in transfers_from_requisitions(s, actor, ids):
            print(f"{t.number}: draft")
    return 0


def _ship(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.transfers import ship_note, ship_transfer, transfer_by_number

    with session_for(args) as s:
        t = ship_transfer(s, actor_of(s, args), transfer_by_number(s, args.number).id)
        print(ship_note(s, t))
    return 0


def _receive(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.errors import ValidationError
    from app.services.inventory.common import location_by_code
    from app.services.inventory.transfers import lines_of, receive_note, receive_transfer, transfer_by_number

    with session_for(args) as s:
        actor = actor_of(s, args)
        t = transfer_by_number(s, args.number)
        received = None
        if args.lines:
            from app.models.catalog import Item

            by_sku: dict[str, list[Any]] = {}
            for ln in lines_of(s, t.id):
                item = s.get(Item, ln.item_id)
                by_sku.setdefault(item.sku if item else "", []).append(ln)
            received = {}
            for sku, _lot, value in parse_pairs(args.lines):
                found = by_sku.get(sku.upper()) or by_sku.get(sku)
                if not found:
                    raise ValidationError("line", f"{sku} is not on transfer {t.number}")
                received[found[0].id] = value
        to = location_by_code(s, t.to_warehouse_id, args.bin).id if args.bin else None
        receive_transfer(s, actor, t.id, received, to_location_id=to)  # type: ignore[arg-type]
        print(receive_note(s, t))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.transfers import cancel_transfer, transfer_by_number

    with session_for(args) as s:
        t = cancel_transfer(s, actor_of(s, args), transfer_by_number(s, args.number).id)
        print(f"{t.number}: cancelled")
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import warehouse_by_code
    from app.services.inventory.transfers import list_transfers

    with session_for(args) as s:
        wh = warehouse_by_code(s, args.warehouse) if args.warehouse else None
        rows = [{"number": t.number, "from": t.from_code, "to": t.to_code, "status": t.status, "lines": t.lines,
                 "units": t.units, "shipped_at": t.shipped_at.isoformat(timespec="seconds") if t.shipped_at else "",
                 "received_at": t.received_at.isoformat(timespec="seconds") if t.received_at else ""}
                for t in list_transfers(s, status=args.status, warehouse_id=wh.id if wh else None)]
    print_json(rows) if args.json else print_table(rows)
    return 0
