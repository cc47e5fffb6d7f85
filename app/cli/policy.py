"""`depot policy set|show|report`: the replenishment policy of an item at a warehouse, and what
each policy would have ordered over the last N months (issue 18).

    depot policy set SKU WAREHOUSE --policy forecast|computed|fixed_minmax [--min N --max N] --user NAME
    depot policy show SKU WAREHOUSE
    depot policy report [--months 6] [--warehouse CODE | --branch CODE] [--sku SKU]... [--json]
"""

from __future__ import annotations

import argparse

from app.cli.common import add_db_option, add_json_option, print_table
from app.cli.forecast import _date, dump


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("policy", help="replenishment policy per item x warehouse (forecast, computed, fixed min/max)")
    psub = p.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    s = psub.add_parser("set", help="choose the policy of one item at one warehouse")
    add_db_option(s)
    s.add_argument("sku")
    s.add_argument("warehouse")
    s.add_argument("--policy", required=True, choices=("forecast", "computed", "fixed_minmax"))
    s.add_argument("--min", type=int, default=None, dest="min_qty")
    s.add_argument("--max", type=int, default=None, dest="max_qty")
    s.add_argument("--user", required=True)
    s.set_defaults(func=_set)
    sh = psub.add_parser("show", help="the policy of one item at one warehouse")
    add_db_option(sh)
    sh.add_argument("sku")
    sh.add_argument("warehouse")
    sh.set_defaults(func=_show)
    r = psub.add_parser("report", help="what each policy would have ordered over the last N months")
    add_db_option(r)
    add_json_option(r)
    r.add_argument("--months", type=int, default=6)
    r.add_argument("--warehouse")
    r.add_argument("--branch")
    r.add_argument("--sku", action="append", default=[])
    r.add_argument("--date", default=None, help="as of this date (YYYY-MM-DD)")
    r.set_defaults(func=_report)


def _set(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.auth import actor_by_name
    from app.services.replenishment.policies import choose_policy

    with session_for(args) as s:
        row = choose_policy(s, actor_by_name(s, args.user), args.warehouse, args.sku, args.policy, args.min_qty,
                            args.max_qty)
    extra = f" (min {row.min_qty}, max {row.max_qty})" if row.policy == "fixed_minmax" else ""
    print(f"{row.sku} at {row.warehouse}: {row.policy}{extra}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.replenishment.policies import POLICY_LABELS, policy_of

    with session_for(args) as s:
        row = policy_of(s, args.warehouse, args.sku)
    if row is None:
        print(f"{args.sku.upper()} at {args.warehouse.upper()}: default (forecast where one exists, else computed)")
    else:
        extra = f": min {row.min_qty}, max {row.max_qty}" if row.policy == "fixed_minmax" else ""
        print(f"{row.sku} at {row.warehouse}: {POLICY_LABELS[row.policy]}{extra}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.buying.policy_report import policy_report

    with session_for(args) as s:
        rep = policy_report(s, None, months=args.months, warehouse_code=args.warehouse, branch_code=args.branch,
                            skus=args.sku, today=_date(args.date))
    if args.json:
        dump(rep.as_dict())
        return 0
    print(f"{rep.pairs} item x warehouse pairs, {rep.weeks} weeks from {rep.first_week} replayed in {rep.seconds:.1f} s "
          "(each policy starts at its own order-up-to level; unmet sales are lost)")
    print_table([o.as_dict() for o in rep.outcomes])
    for row in rep.per_pair:
        print(f"{row['sku']} at {row['warehouse']}: " + "; ".join(
            f"{k} {v['orders']} orders, {v['units']} units, fill {v['fill_rate']}" for k, v in row.items()
            if isinstance(v, dict)))
    for n in rep.notes:
        print(n)
    return 0
