"""`depot putaway list|propose|confirm|pdf`: directed putaway from the command line."""

from __future__ import annotations

import argparse

from app.cli.args import path_arg
from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    output_path,
    print_json,
    print_table,
    session_for,
    write_output,
)
from app.cli.receive import _resolve_ids
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("putaway", help="putaway tasks: list, propose bins, confirm by bin, print the list")
    psub = p.add_subparsers(dest="putaway_command", required=True, metavar="ACTION")
    ls = psub.add_parser("list", help="open putaway tasks with the proposed bin and why")
    ls.add_argument("--warehouse", required=True)
    ls.add_argument("--receipt", default="", help="only this receipt's tasks")
    add_json_option(ls)
    ls.set_defaults(func=_list)
    pr = psub.add_parser("propose", help="which bin would the rules choose (nothing is written)")
    pr.add_argument("--warehouse", required=True)
    pr.add_argument("lines", nargs="+", metavar="SKU:QTY")
    add_json_option(pr)
    pr.set_defaults(func=_propose)
    cf = psub.add_parser("confirm", help="confirm a task by the bin scanned (refused if full or incompatible)")
    cf.add_argument("task", help="task id (or a unique prefix) from 'depot putaway list'")
    cf.add_argument("bin", help="bin code as scanned")
    add_user_option(cf)
    add_json_option(cf)
    cf.set_defaults(func=_confirm)
    pdf = psub.add_parser("pdf", help="the putaway list as PDF")
    pdf.add_argument("--warehouse", required=True)
    pdf.add_argument("--receipt", default="")
    pdf.add_argument("--out", type=path_arg, required=True)
    pdf.set_defaults(func=_pdf)
    for c in (ls, pr, cf, pdf):
        add_db_option(c)


def _list(args: argparse.Namespace) -> int:
    from app.services.receiving.documents import receipt_by_number, warehouse_by_code
    from app.services.receiving.putaway import list_tasks

    with session_for(args) as s:
        wh = warehouse_by_code(s, args.warehouse)
        rec = receipt_by_number(s, args.receipt) if args.receipt else None
        rows = [r.__dict__ for r in list_tasks(s, wh.id, receipt_id=rec.id if rec else None)]
    if args.json:
        print_json(rows)
    else:
        print_table([{**r, "task_id": r["task_id"].hex[:12]} for r in rows],
                    ["task_id", "receipt_number", "sku", "lot", "qty", "from_code", "proposed_code", "reason"])
    return 0


def _propose(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models.catalog import Item
    from app.services.errors import NotFound
    from app.services.receiving.documents import warehouse_by_code
    from app.services.receiving.putaway import plan_putaway

    with session_for(args) as s:
        wh = warehouse_by_code(s, args.warehouse)
        reqs = []
        for spec in args.lines:
            sku, _, qty = spec.rpartition(":")
            if not sku or not qty.isdigit() or int(qty) <= 0:
                raise ValidationError("line", f"{spec!r} is not SKU:QTY")
            iid = s.scalar(select(Item.id).where(Item.sku == sku.upper()))
            if iid is None:
                raise NotFound("item", sku)
            reqs.append((iid, int(qty)))
        plans = plan_putaway(s, wh.id, reqs)
        s.rollback()
    rows = [{"line": spec, "qty": p.qty, "bin": p.location_code or "(none)", "reason": p.reason}
            for spec, parts in zip(args.lines, plans, strict=True) for p in parts]
    print_json(rows) if args.json else print_table(rows)
    return 0


def _confirm(args: argparse.Namespace) -> int:
    from app.models.receiving import PutawayTask
    from app.services.receiving.putaway import confirm_putaway

    with session_for(args) as s:
        (tid,) = _resolve_ids(s, PutawayTask, [args.task], "putaway task")
        (task,) = confirm_putaway(s, actor_of(s, args), [(tid, args.bin)])
        result = {"task_id": task.id.hex, "qty": task.qty, "bin": args.bin.upper(), "confirmed_at": task.confirmed_at}
    print_json(result) if args.json else print(f"put away {result['qty']} into {result['bin']}")
    return 0


def _pdf(args: argparse.Namespace) -> int:
    from app.services.receiving.documents import putaway_list_pdf

    with session_for(args) as s:
        data = putaway_list_pdf(s, args.warehouse, receipt_number=args.receipt)
    args.out = output_path(args.out, "putaway.pdf")
    write_output(args.out, data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    return 0
