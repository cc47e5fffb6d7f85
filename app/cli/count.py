"""`depot count schedule|create|start|sheet|enter|review|approve|list`: cycle counts from the shell.

``sheet`` is what the counter sees (no expected quantities); ``review`` is the manager's view.
``enter`` takes the whole bin as SKU=QTY (or SKU@LOT=QTY) pairs; items not named count as zero.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import actor_of, add_db_option, add_json_option, add_user_option, print_json, print_table
from app.cli.stock import parse_date, parse_pairs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("count", help="cycle counts: schedule, blind entry, recount, approval")
    csub = p.add_subparsers(dest="count_command", required=True, metavar="ACTION")

    def cmd(name: str, help_: str, func: Any, *, json: bool = False, user: bool = True) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = csub.add_parser(name, help=help_)
        add_db_option(c)
        if json:
            add_json_option(c)
        if user:
            add_user_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("schedule", "create count tasks for every bin due by its ABC class", _schedule, json=True)
    c.add_argument("--warehouse", required=True, metavar="CODE")
    c.add_argument("--date", help="schedule as of (YYYY-MM-DD, default today)")
    c.add_argument("--limit", type=int, help="at most this many tasks")
    c = cmd("create", "a count task for named bins", _create, json=True)
    c.add_argument("--warehouse", required=True, metavar="CODE")
    c.add_argument("bins", nargs="+", metavar="BIN")
    c = cmd("start", "snapshot the bins and open the tasks for counting", _start)
    c.add_argument("numbers", nargs="+", metavar="NUMBER")
    c = cmd("sheet", "the blind count sheet (no expected quantities)", _sheet, json=True)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("enter", "enter the (re)count of a whole bin", _enter)
    c.add_argument("number", metavar="NUMBER")
    c.add_argument("counts", nargs="*", metavar="SKU[@LOT]=QTY")
    c = cmd("review", "expected, counted and variance (managers)", _review, json=True)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("approve", "approve a count over tolerance and post the adjustment", _approve)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("cancel", "cancel an open count (managers)", _cancel)
    c.add_argument("number", metavar="NUMBER")
    c = cmd("list", "count tasks", _list, json=True, user=False)
    c.add_argument("--warehouse", metavar="CODE")
    c.add_argument("--status")


def _task_id(s: Any, number: str) -> Any:
    from sqlalchemy import select

    from app.models.inventory import CountTask
    from app.services.errors import NotFound

    tid = s.scalar(select(CountTask.id).where(CountTask.number == number.strip().upper()))
    if tid is None:
        raise NotFound("count task", number)
    return tid


def _print_tasks(tasks: list[Any], as_json: bool) -> None:
    rows = [{"number": t.number, "status": t.status, "abc": t.abc_class, "scheduled_for": t.scheduled_for.isoformat()}
            for t in tasks]
    print_json(rows) if as_json else print_table(rows)


def _schedule(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import warehouse_by_code
    from app.services.inventory.counts import schedule_counts

    with session_for(args) as s:
        tasks = schedule_counts(s, actor_of(s, args), warehouse_by_code(s, args.warehouse).id,
                                on=parse_date(args.date), limit=args.limit)
        _print_tasks(tasks, args.json)
    return 0


def _create(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import location_by_code, warehouse_by_code
    from app.services.inventory.counts import create_count_tasks

    with session_for(args) as s:
        wh = warehouse_by_code(s, args.warehouse)
        tasks = create_count_tasks(s, actor_of(s, args), [location_by_code(s, wh.id, b).id for b in args.bins])
        _print_tasks(tasks, args.json)
    return 0


def _start(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.counts import start_counts

    with session_for(args) as s:
        tasks = start_counts(s, actor_of(s, args), [_task_id(s, n) for n in args.numbers])
        for t in tasks:
            print(f"{t.number}: counting")
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.counts import count_sheet

    with session_for(args) as s:
        sheet = count_sheet(s, actor_of(s, args), _task_id(s, args.number))
    rows = [{"sku": ln.sku, "description": ln.description, "lot": ln.lot_code, "to_count": ln.to_count,
             "counted": "" if ln.counted_qty is None else ln.counted_qty} for ln in sheet.lines]
    if args.json:
        print_json({"number": sheet.number, "bin": sheet.bin_code, "status": sheet.status, "lines": rows})
    else:
        print(f"{sheet.number}  bin {sheet.bin_code}  {sheet.status}")
        print_table(rows)
    return 0


def _enter(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.common import item_by_sku, lot_for
    from app.services.inventory.counts import CountEntry, enter_counts

    with session_for(args) as s:
        actor = actor_of(s, args)
        entries = []
        for sku, lot, value in parse_pairs(args.counts, "count"):
            item = item_by_sku(s, sku)
            entries.append(CountEntry(item.id, value, lot_for(s, item, lot)))  # type: ignore[arg-type]
        t = enter_counts(s, actor, _task_id(s, args.number), entries)
        msg = {"posted": "within tolerance: adjustment posted", "recount": "over tolerance: recount needed",
               "pending_approval": "still over tolerance: waiting for a manager's approval"}.get(t.status, t.status)
        print(f"{t.number}: {msg}")
    return 0


def _review(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.counts import count_review

    with session_for(args) as s:
        rows = [r.__dict__ for r in count_review(s, actor_of(s, args), _task_id(s, args.number))]
    print_json(rows) if args.json else print_table(rows)
    return 0


def _approve(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.counts import approve_count

    with session_for(args) as s:
        t = approve_count(s, actor_of(s, args), _task_id(s, args.number))
        print(f"{t.number}: approved and posted")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.inventory.counts import cancel_count

    with session_for(args) as s:
        t = cancel_count(s, actor_of(s, args), _task_id(s, args.number))
        print(f"{t.number}: cancelled")
    return 0


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.inventory import CountTask
    from app.services.inventory.common import warehouse_by_code

    with session_for(args) as s:
        q = select(CountTask).order_by(CountTask.number)
        if args.warehouse:
            q = q.where(CountTask.warehouse_id == warehouse_by_code(s, args.warehouse).id)
        if args.status:
            q = q.where(CountTask.status == args.status)
        _print_tasks(list(s.scalars(q)), args.json)
    return 0
