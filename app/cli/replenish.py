"""`depot replenish` (recommendations with their figures) and `depot requisition list|cancel`.

A scheduled run needs no user (it only reads); with ``--user`` the user's permission and
branch apply. Output is a table, or one JSON document with ``--json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from app.cli.common import add_db_option, add_json_option, print_json, print_table
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replenish", help="what to buy or transfer for every item x warehouse, and why")
    add_db_option(p)
    add_json_option(p)
    p.add_argument("--branch", help="branch code (default: the user's branch, or all)")
    p.add_argument("--warehouse", help="only this warehouse code")
    p.add_argument("--user", default=None, help="act as this user (permission and branch)")
    p.add_argument("--date", default=None, help="run as of this date (YYYY-MM-DD, default today)")
    p.add_argument("--weeks", type=int, default=26, help="weeks of sales history (default 26)")
    p.set_defaults(func=_replenish)

    r = sub.add_parser("requisition", help="requisitions made from accepted recommendations")
    rsub = r.add_subparsers(dest="req_command", required=True, metavar="ACTION")
    ls = rsub.add_parser("list", help="list requisitions")
    add_db_option(ls)
    add_json_option(ls)
    ls.add_argument("--status", choices=("open", "converted", "cancelled"))
    ls.add_argument("--kind", choices=("purchase", "transfer"))
    ls.set_defaults(func=_list)
    cx = rsub.add_parser("cancel", help="cancel open requisitions")
    add_db_option(cx)
    cx.add_argument("numbers", nargs="+", metavar="NUMBER")
    cx.add_argument("--reason", required=True)
    cx.add_argument("--user", required=True)
    cx.set_defaults(func=_cancel)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("--date", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _replenish(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.auth import actor_by_name
    from app.services.replenishment import run

    with session_for(args) as s:
        actor = actor_by_name(s, args.user) if args.user else None
        res = run(s, actor, branch_code=args.branch, warehouse_code=args.warehouse, today=_date(args.date),
                  history_weeks=args.weeks)
    if args.json:
        print_json({"date": res.today.isoformat(), "pairs": res.pairs, "suppressed": res.suppressed,
                    "no_source": res.no_supplier, "recommendations": [r.as_dict() for r in res.recommendations]})
        return 0
    rows: list[dict[str, Any]] = []
    for r in res.recommendations:
        w = r.why
        via = (f"transfer from {r.transfer.source_code}" if r.preferred == "transfer" and r.transfer
               else f"buy from {r.purchase.source_code}" if r.purchase else "")
        rows.append({"sku": r.sku, "warehouse": r.warehouse_code, "qty": r.qty, "via": via,
                     "arrives": r.chosen.arrival.isoformat(), "cost": str(r.chosen.total_cost),
                     "position": w.position, "rop": f"{w.rop:.1f}", "oul": f"{w.oul:.1f}", "ss": f"{w.ss:.1f}",
                     "d/day": f"{w.d:.2f}", "rounding": w.rounding})
    print_table(rows)
    print(f"{len(res.recommendations)} recommendations over {res.pairs} item x warehouse pairs"
          f" ({res.suppressed} snoozed/rejected)")
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.requisitions import list_requisitions

    with session_for(args) as s:
        rows = list_requisitions(s, status=args.status, kind=args.kind)
    data = [{k: getattr(r, k) for k in r.__dataclass_fields__} for r in rows]
    if args.json:
        print_json(data)
    else:
        print_table(data, ["number", "kind", "status", "sku", "warehouse", "qty", "source", "need_by"])
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.buying import Requisition
    from app.services.auth import actor_by_name
    from app.services.errors import NotFound
    from app.services.requisitions import cancel

    with session_for(args) as s:
        actor = actor_by_name(s, args.user)
        ids = []
        for n in args.numbers:
            rid = s.scalars(select(Requisition.id).where(Requisition.number == n.strip().upper())).first()
            if rid is None:
                raise NotFound("requisition", n)
            ids.append(rid)
        done = cancel(s, actor, ids, args.reason)
    print(f"cancelled {', '.join(r.number for r in done)}")
    return 0
