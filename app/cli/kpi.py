"""`depot kpi`: the dashboard's figures on the command line (the same service the screen calls).

    depot kpi [KEY ...] [--period 12m] [--by warehouse] [--branch DAL] [--json] [--csv FILE]
    depot kpi supplier_on_time --rows 2026-03 [--group ID] [--csv FILE]   the rows behind a point
    depot kpi --list                                                      what each KPI means
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import add_db_option, add_json_option, output_path, print_json, print_table, write_output


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("kpi", help="manager KPIs by period, branch, warehouse, supplier, customer or carrier")
    add_db_option(p)
    add_json_option(p)
    p.add_argument("keys", nargs="*", metavar="KEY", help="only these KPIs (see --list)")
    p.add_argument("--period", default="12m",
                   help="12m (default), 90d, 8w, ytd, 2026, 2026-03, 2026-01..2026-06")
    p.add_argument("--by", default="", help="split by branch, warehouse, supplier, customer or carrier")
    p.add_argument("--branch", action="append", default=None, help="branch code (repeat for several; default all)")
    p.add_argument("--warehouse", action="append", default=None, help="warehouse code (repeat for several)")
    p.add_argument("--supplier", default="", help="one supplier code")
    p.add_argument("--customer", default="", help="one customer code")
    p.add_argument("--carrier", default="", help="one carrier code")
    p.add_argument("--bucket", default="", choices=("", "month", "week"), help="trend by month or week")
    p.add_argument("--user", default=None, help="show only what this user's roles may see")
    p.add_argument("--rows", default=None, metavar="BUCKET",
                   help="the rows behind one KPI's figure: a bucket (2026-03, or a week's Monday) or 'all'")
    p.add_argument("--group", default="", help="with --rows and --by: one group's key")
    p.add_argument("--csv", type=Path, default=None, help="write the data (or the rows) as CSV to this file")
    p.add_argument("--list", action="store_true", help="list the KPIs and their definitions")
    p.set_defaults(func=_kpi)


def _kpi(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.auth import actor_by_name
    from app.services.errors import ValidationError
    from app.services.kpi.compute import compute, drill, kpis_for
    from app.services.kpi.export import figures_csv, format_value, rows_csv
    from app.services.kpi.scope import make_scope
    from app.services.kpi.targets import targets
    from app.services.settings import Settings

    if args.list:
        rows = [{"key": k.key, "area": k.area, "unit": k.unit, "definition": k.definition} for k in kpis_for()]
        print_json(rows) if args.json else print_table(rows)
        return 0
    try:
        out = output_path(args.csv, "kpi.csv") if args.csv else None
    except ValidationError as e:  # the shared check names --out; here the option is --csv
        raise ValidationError("--csv", e.rule) from None
    with session_for(args) as s:
        roles = None
        if args.user:
            actor = actor_by_name(s, args.user)
            actor.require("dashboard.view")
            roles = actor.roles
        scope = make_scope(s, period=args.period, branches=args.branch, warehouses=args.warehouse,
                           supplier=args.supplier, customer=args.customer, carrier=args.carrier, by=args.by,
                           bucket=args.bucket)
        if args.rows is not None:
            if len(args.keys) != 1:
                raise ValidationError("--rows", "name one KPI (depot kpi KEY --rows BUCKET)")
            kpis_for(roles, args.keys)
            rows, total = drill(s, args.keys[0], scope, "" if args.rows == "all" else args.rows, args.group)
            if out:
                write_output(out, rows_csv(rows).encode())
                print(f"wrote {len(rows)} of {total} rows to {out}")
            elif args.json:
                print_json({"total": total, "rows": rows})
            else:
                print_table(rows, ["doc", "at", "party", "warehouse", "detail", "value", "bad"])
                if total > len(rows):
                    print(f"({len(rows)} of {total} rows shown)")
            return 0
        figs = compute(s, scope, roles=roles, keys=args.keys or None, targets=targets(Settings()))
    if out:
        write_output(out, figures_csv(figs).encode())
        print(f"wrote {len(figs)} KPIs to {out}")
        return 0
    if args.json:
        print_json({"period": {"start": scope.start, "end": scope.end, "bucket": scope.bucket},
                    "by": scope.by, "kpis": [f.as_dict() for f in figs]})
        return 0
    rows = []
    for f in figs:
        trend = " ".join(format_value(f.unit, p.value).split()[0] for p in f.series[-4:]) if f.state == "ok" else ""
        rows.append({"kpi": f.title, "value": format_value(f.unit, f.value) if f.state == "ok" else f.note,
                     "target": format_value(f.unit, f.target) if f.target is not None else "",
                     "last buckets": trend})
        for g in f.groups:
            rows.append({"kpi": f"  {g.label}", "value": format_value(f.unit, g.value)})
    print(f"{scope.start} .. {scope.end} (by {scope.bucket})")
    print_table(rows, ["kpi", "value", "target", "last buckets"])
    return 0
