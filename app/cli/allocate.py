"""`depot allocate`: run (or simulate) allocation of open order lines under the warehouse's policy.

A run is the same two steps as the Allocation screen's: the plan is computed in a read
transaction, then written in a short write transaction that fails any line changed meanwhile.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import actor_of, add_db_option, add_json_option, add_user_option, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from app.services.allocation.policy import KEYS

    p = sub.add_parser("allocate", help="allocate open order lines (or --simulate: who would get what, and why)",
                       description="Policy keys (most important first): "
                       + "; ".join(f"{k}: {v}" for k, v in KEYS.items()))
    add_db_option(p)
    add_user_option(p)
    add_json_option(p)
    p.add_argument("--warehouse", metavar="CODE", help="one warehouse (default: every warehouse of this branch)")
    p.add_argument("--simulate", action="store_true", help="write nothing: show the plan and its difference")
    p.add_argument("--policy", metavar="KEYS", help="try these keys instead of the warehouse's, e.g. tier,fair_share")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--keep", action="store_true", help="keep existing allocations (hand out free stock only)")
    mode.add_argument("--rerank", action="store_true", help="re-rank every line, taking stock back where the "
                      "policy says so")
    p.add_argument("--save-policy", action="store_true", help="store --policy/--keep as the warehouse's policy "
                   "(needs --warehouse)")
    p.add_argument("--all", action="store_true", help="list every line considered, not only the changes")
    p.set_defaults(func=_allocate)


def _plan_json(plan: Any, everything: bool) -> dict[str, Any]:
    lines = plan.lines if everything else plan.changes
    return {"policy": {"keys": list(plan.policy.keys), "rerank": plan.policy.rerank},
            "figures": plan.figures(), "seconds": round(plan.seconds, 3),
            "lines": [ln.as_dict() for ln in sorted(lines, key=lambda x: (x.warehouse, x.sku, x.rank))],
            "orders": [{"order": n, "from": old, "to": new} for n, old, new in sorted(plan.order_status.values())],
            "credit_holds": [{"order": n, "reason": why} for n, why in sorted(plan.holds.values())]}


def _allocate(args: argparse.Namespace) -> int:
    from app.cli.common import engine_for
    from app.services.allocation import runs
    from app.services.allocation.policy import set_policy
    from app.services.db import session_scope
    from app.services.errors import ValidationError

    rerank = True if args.rerank else False if args.keep else None
    engine = engine_for(args)
    try:
        with session_scope(engine, write=False) as s:
            actor = actor_of(s, args)
            plan = runs.simulate(s, actor, warehouse=args.warehouse, keys=args.policy, rerank=rerank)
        if args.simulate:
            if args.json:
                print_json(_plan_json(plan, args.all))
                return 0
            f = plan.figures()
            print(f"simulation ({plan.policy.describe()}): {f['lines']} lines, {f['changed']} would change "
                  f"(+{f['units_allocated']} / -{f['units_released']} units), {f['short_lines']} short, "
                  f"{f['orders_changing_status']} order status changes; nothing written")
            rows = plan.lines if args.all else plan.changes
            print_table([{"order": f"{ln.order_number}/{ln.line_no}", "customer": ln.customer, "sku": ln.sku,
                          "wh": ln.warehouse, "need": ln.need, "now": ln.current, "new": ln.target,
                          "change": f"{ln.delta:+d}" if ln.delta else "", "rule": ln.rule, "reason": ln.reason}
                         for ln in sorted(rows, key=lambda x: (x.warehouse, x.sku, x.rank))[:500]])
            if len(rows) > 500:
                print(f"... and {len(rows) - 500} more (use --json for all)")
            return 0
        with session_scope(engine) as s:
            actor = actor_of(s, args)
            if args.save_policy:
                if not args.warehouse:
                    raise ValidationError("--save-policy", "name the warehouse (--warehouse CODE)")
                wh = runs.scope(s, args.warehouse)[0]
                set_policy(s, actor, wh.id, args.policy or ",".join(plan.policy.keys), plan.policy.rerank)
            res = runs.run(s, actor, plan)
    finally:
        engine.dispose()
    if args.json:
        print_json({**res.as_dict(), "figures": plan.figures()})
    else:
        print(res.summary())
        for failure in res.failures[:50]:
            print(f"  failed {failure.text()}")
        for note in res.notes:
            print(f"  {note}")
    return 2 if res.failures and not res.numbers else 0



