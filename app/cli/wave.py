"""`depot wave ...` and `depot pick ...`: waves and picking from the command line.

    depot wave plan [--warehouse CODE] [--orders SO,SO] [--mode batch|discrete] [--user NAME] [--json]
    depot wave release WAVE [WAVE ...] [--user NAME] [--json]
    depot wave unrelease WAVE [--user NAME]
    depot wave list [--warehouse CODE] [--all] [--older] [--json]
    depot wave lines WAVE [--json]
    depot wave cutoff WAREHOUSE CARRIER HH:MM [--default] [--user NAME]
    depot wave settings WAREHOUSE [--pick-rate N] [--pickers N] [--totes N] [--max-lines N] [--pack-minutes N]
    depot pick WAVE --scans FILE [--user NAME] [--json]

A scans file is what a scanner sends, one scan a line: a bin, the item (SKU or GTIN), then the
quantity (an empty line or ``+`` = all the line asks; a number; ``SHORT n reason``). Each pick is
its own transaction; a refused scan is reported with its line number and changes nothing. Exit
code 1 when any scan was refused.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.args import path_arg
from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    engine_for,
    print_json,
    print_table,
    session_for,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("wave", help="waves: plan by carrier cut-off, release, list, cut-offs and pick rate")
    wsub = p.add_subparsers(dest="wave_command", metavar="ACTION", required=True)
    plan = wsub.add_parser("plan", help="plan waves of the allocated orders (replaces the planned waves)")
    plan.add_argument("--warehouse", metavar="CODE", help="one warehouse (default: every warehouse of this branch)")
    plan.add_argument("--orders", metavar="SO,SO", help="only these orders (each must be allocated)")
    plan.add_argument("--mode", choices=("batch", "discrete"), default="batch",
                      help="batch: many orders into totes (default); discrete: order by order")
    rel = wsub.add_parser("release", help="release planned waves to the pickers")
    rel.add_argument("waves", nargs="+", metavar="WAVE")
    unrel = wsub.add_parser("unrelease", help="take a released wave back before anything is picked")
    unrel.add_argument("wave", metavar="WAVE")
    lst = wsub.add_parser("list", help="waves with cut-off and picking progress")
    lst.add_argument("--warehouse", metavar="CODE")
    lst.add_argument("--all", action="store_true", help="cancelled waves too")
    lst.add_argument("--older", action="store_true",
                     help="picked waves of any age (default: picked in the last 2 days)")
    lines = wsub.add_parser("lines", help="a wave's pick lines in walking order")
    lines.add_argument("wave", metavar="WAVE")
    cut = wsub.add_parser("cutoff", help="a carrier's cut-off at a warehouse (local time)")
    cut.add_argument("warehouse", metavar="WAREHOUSE")
    cut.add_argument("carrier", metavar="CARRIER")
    cut.add_argument("time", metavar="HH:MM")
    cut.add_argument("--default", action="store_true", help="orders without a carrier ship with this one")
    st = wsub.add_parser("settings", help="pick rate, pickers, cart size, wave size, packing time")
    st.add_argument("warehouse", metavar="WAREHOUSE")
    for flag, dest, what in (("--pick-rate", "pick_rate", "lines one picker confirms an hour"),
                             ("--pickers", "pickers", "pickers on shift"),
                             ("--totes", "totes_per_cart", "totes on a cart"),
                             ("--max-lines", "wave_max_lines", "lines in a wave at most"),
                             ("--pack-minutes", "pack_minutes", "minutes packing needs before the cut-off")):
        st.add_argument(flag, dest=dest, type=int, metavar="N", help=what)
    for sp in (plan, rel, unrel, lst, lines, cut, st):
        add_db_option(sp)
        add_user_option(sp)
        add_json_option(sp)
    p.set_defaults(func=_wave)

    pk = sub.add_parser("pick", help="confirm picks of a wave from a scans file (bin, item, quantity per pick)")
    pk.add_argument("wave", metavar="WAVE")
    pk.add_argument("--scans", type=path_arg, required=True, metavar="FILE", help="one scan a line")
    add_db_option(pk)
    add_user_option(pk)
    add_json_option(pk)
    pk.set_defaults(func=_pick)


def _wave(args: argparse.Namespace) -> int:
    from app.services.dispatch import queries, setup, waves

    cmd = args.wave_command
    if cmd in ("list", "lines"):
        with session_for(args) as s:
            if cmd == "lines":
                found = queries.wave_lines(s, args.wave)
                if args.json:
                    print_json([r.as_dict() for r in found])
                    return 0
                print_table([{"#": r.seq, "bin": r.bin, "sku": r.sku, "qty": r.qty, "picked": r.qty_picked,
                              "status": r.status, "tote": r.tote or "", "order": f"{r.order}/{r.line_no}",
                              "lot": r.lot, "short": r.short_reason} for r in found])
                return 0
            statuses = (*queries.SHOWN, "cancelled") if args.all else queries.SHOWN
            rows = queries.list_waves(s, warehouse=args.warehouse, statuses=statuses, older=args.older)
            hidden = 0 if args.older else queries.older_picked(s, warehouse=args.warehouse)
            if args.json:
                print_json([r.as_dict() for r in rows])
                return 0
            print_table([{"wave": r.number, "wh": r.warehouse, "carrier": r.carrier, "cut-off": r.local(r.cutoff_at),
                          "status": r.status, "orders": r.orders, "lines": f"{r.lines_done}/{r.lines}",
                          "short": r.lines_short or "", "units": r.units, "minutes": r.pick_minutes,
                          "in time": "yes" if r.in_time else "NO", "walk m": f"{r.walk_m} (vs {r.walk_line_order_m})"}
                         for r in rows])
            if not rows:
                print("no waves")
            if hidden:
                print(f"{hidden} older picked wave(s) not shown (--older)")
            return 0
    with session_for(args) as s:
        actor = actor_of(s, args)
        if cmd == "plan":
            orders = [o for o in (args.orders or "").split(",") if o.strip()] if args.orders is not None else None
            res = waves.plan_waves(s, actor, warehouse=args.warehouse, orders=orders, mode=args.mode)
            out: Any = res.as_dict()
            if not args.json:
                _print_plan(res)
        elif cmd == "release":
            rel = waves.release(s, actor, args.waves)
            out = rel.as_dict()
            if not args.json:
                print(f"released {', '.join(rel.waves)}: {rel.orders} order(s), {rel.lines} line(s) to pick")
        elif cmd == "unrelease":
            w = waves.unrelease(s, actor, args.wave)
            out = {"wave": w.number, "status": w.status}
            if not args.json:
                print(f"{w.number} is planned again; its orders are allocated")
        elif cmd == "cutoff":
            c = setup.set_cutoff(s, actor, args.warehouse, args.carrier, args.time, default=args.default)
            out = {"carrier": c.carrier, "cutoff": c.cutoff, "default": c.is_default}
            if not args.json:
                print(f"{c.carrier} collects from {args.warehouse.upper()} at {c.cutoff}"
                      + (" (the default carrier)" if c.is_default else ""))
        else:
            values = {k: getattr(args, k) for k in setup.LIMITS if getattr(args, k, None) is not None}
            got = (setup.set_settings(s, actor, args.warehouse, **values) if values
                   else setup.settings_for(s, setup.find_warehouse(s, args.warehouse).id))
            out = dict(got.__dict__)
            if not args.json:
                print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in out.items()))
    if args.json:
        print_json(out)
    return 0


def _print_plan(res: Any) -> None:
    if not res.waves:
        print("no allocated orders to plan" + (f" (replaced {', '.join(res.cancelled)})" if res.cancelled else ""))
    print_table([{"wave": w.number, "wh": w.warehouse, "carrier": w.carrier or "(none)", "cut-off": w.local(w.cutoff_at),
                  "orders": len(w.orders), "lines": len(w.stops), "units": w.units, "minutes": w.pick_minutes,
                  "done by": w.local(w.done_by), "in time": "yes" if w.in_time else "NO",
                  "walk m": f"{w.walk_m} (line order {w.walk_line_order_m})"} for w in res.waves])
    for w in res.waves:
        for n in w.notes:
            print(f"{w.number}: {n}")
    for n in res.notes:
        print(f"note: {n}")
    if res.cancelled:
        print(f"replaced the planned wave(s) {', '.join(res.cancelled)}")
    print(f"planned in {res.seconds:.2f} s; release with: depot wave release WAVE")


def _pick(args: argparse.Namespace) -> int:
    from app.services.db import session_scope
    from app.services.dispatch.scanflow import ScanFlow
    from app.services.errors import ValidationError

    try:
        text = args.scans.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError("--scans", f"cannot read {args.scans}: {e}") from None
    flow = ScanFlow(args.wave)
    engine = engine_for(args)
    refused = picks = 0
    log: list[dict[str, Any]] = []
    try:
        for n, raw in enumerate(text.splitlines(), 1):
            with session_scope(engine) as s:
                actor = actor_of(s, args)
                fb = flow.scan(s, actor, raw)
            picks += fb.outcome is not None
            refused += not fb.ok
            log.append({"line": n, "scan": raw.strip(), "ok": fb.ok, "message": fb.message,
                        **({"pick": fb.outcome.as_dict()} if fb.outcome else {})})
            if not args.json and (not fb.ok or fb.outcome is not None):
                print(f"line {n}: {'REFUSED ' if not fb.ok else ''}{fb.message}")
            if fb.expect == "done":
                break
    finally:
        engine.dispose()
    if args.json:
        print_json({"wave": args.wave, "picks": picks, "refused": refused, "scans": log})
    else:
        print(f"{picks} pick(s) confirmed, {refused} scan(s) refused")
    return 1 if refused else 0
