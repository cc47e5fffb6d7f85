"""`depot anomaly scan|evaluate`: unusual demand and supplier lead times into the exception inbox.

``scan`` raises one exception per new finding (each saying why and how unusual);
``evaluate`` measures precision and recall on injected anomalies: synthetic data for every
detector, and, with ``--db``, demand spikes, freight overcharges and pick error jumps injected
into that database's own history (rolled back: nothing is kept).
"""

from __future__ import annotations

import argparse
import datetime as dt

from app.cli.common import add_db_option, add_json_option, print_table
from app.cli.forecast import _date, dump


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("anomaly", help="anomaly alerts (demand spikes, supplier lead-time drift) and their accuracy")
    asub = p.add_subparsers(dest="anomaly_command", required=True, metavar="ACTION")
    s = asub.add_parser("scan", help="look for anomalies and raise them in the exception inbox")
    add_db_option(s)
    add_json_option(s)
    s.add_argument("--date", default=None, help="as of this date (YYYY-MM-DD, default today)")
    s.add_argument("--user", default=None, help="act as this user (default: a system run)")
    s.add_argument("--dry-run", action="store_true", help="list the findings; raise nothing")
    s.set_defaults(func=_scan)
    e = asub.add_parser("evaluate", help="precision and recall on injected anomalies")
    add_db_option(e)
    add_json_option(e)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--date", default=None)
    e.set_defaults(func=_evaluate)


def _scan(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.anomaly.scan import scan
    from app.services.auth import actor_by_name

    with session_for(args) as s:
        actor = actor_by_name(s, args.user) if args.user else None
        res = scan(s, actor, today=_date(args.date), raise_alerts=not args.dry_run)
    if args.json:
        dump(res.as_dict())
        return 0
    print_table([{"kind": f.kind, "branch": b, "title": t, "why": f.why} for f, t, b in res.findings])
    print(f"{len(res.findings)} findings, {res.raised} new exceptions raised")
    for n in res.notes:
        print(n)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.services.anomaly import injected

    out: dict[str, object] = {"synthetic": injected.synthetic(args.seed)}
    if getattr(args, "db", None):
        from sqlalchemy.orm import Session

        from app.cli.common import engine_for

        engine = engine_for(args)
        try:
            with Session(engine) as s:
                day = _date(args.date) or dt.date.today()
                out["seeded_demand_spikes"] = injected.seeded_spikes(s, day, seed=args.seed)
                s.rollback()
                out["seeded_freight_cost"] = injected.seeded_freight(s, day, seed=args.seed)
                s.rollback()
                out["seeded_pick_errors"] = injected.seeded_pick_errors(s, day, seed=args.seed)
                s.rollback()
        finally:
            engine.dispose()
    if args.json:
        dump(out)
        return 0
    rows = [{"detector": k, **v} for k, v in out["synthetic"].items()]  # type: ignore[attr-defined]
    for key, name in (("seeded_demand_spikes", "demand_spike"), ("seeded_freight_cost", "freight_cost"),
                      ("seeded_pick_errors", "pick_errors (pickers)")):
        if key in out:
            rows.append({"detector": f"{name} (seeded db)", **out[key]})  # type: ignore[dict-item]
    print_table(rows, ["detector", "injected", "found", "true", "precision", "recall"])
    return 0
