"""`depot eta train|evaluate|risk`: predictive ETA from the branch's delivered shipments.

``evaluate`` trains on the older delivered shipments and reports, on the newest it held back,
the error of its median arrival against the carrier's own promise, the 90th percentile's
coverage and how well it flags late shipments in advance. ``risk`` scores the open shipments
(the Tracking screen's risk column). The model file sits next to the database.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import add_db_option, add_json_option, print_table
from app.cli.forecast import dump


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eta", help="predictive ETA: train on delivered shipments, evaluate, score open ones")
    esub = p.add_subparsers(dest="eta_command", required=True, metavar="ACTION")
    t = esub.add_parser("train", help="learn lateness against the carrier's promise from delivered shipments")
    add_db_option(t)
    add_json_option(t)
    t.add_argument("--model", type=Path, default=None, help="model file (default: next to the database)")
    t.set_defaults(func=_train)
    e = esub.add_parser("evaluate", help="error against the carrier's promise on held-back shipments")
    add_db_option(e)
    add_json_option(e)
    e.add_argument("--holdout", type=float, default=0.2, help="share of the newest shipments held back (0.2)")
    e.set_defaults(func=_evaluate)
    r = esub.add_parser("risk", help="median and 90th-percentile arrival of open shipments, and which are at risk")
    add_db_option(r)
    add_json_option(r)
    r.add_argument("--model", type=Path, default=None)
    r.add_argument("--at-risk", action="store_true", help="only the shipments at risk")
    r.set_defaults(func=_risk)


def _model(args: argparse.Namespace) -> Path:
    from app.cli import db_path
    from app.services.eta.service import model_path

    return Path(args.model) if getattr(args, "model", None) else model_path(db_path(args))


def _train(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.eta.service import train

    with session_for(args) as s:
        res = train(s, None, _model(args))
    if args.json:
        dump(res.__dict__)
    else:
        print(f"trained on {res.shipments} delivered shipments in {res.seconds} s; cells per level "
              f"{res.cells}; model {res.path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.eta.service import evaluate

    with session_for(args) as s:
        rep = evaluate(s, holdout=args.holdout)
    if args.json:
        dump(rep)
        return 0
    if "note" in rep:
        print(rep["note"])
        return 0
    print(f"held back the newest {rep['held_back']} of {rep['shipments']} delivered shipments")
    print(f"median arrival error {rep['mae_days']} days (carrier's promise {rep['carrier_mae_days']} days); "
          f"bias {rep['bias_days']} (carrier {rep['carrier_bias_days']})")
    print(f"90th percentile covered {100 * rep['p90_coverage']:.0f}% of arrivals; {100 * rep['late_share']:.0f}% "
          f"arrived after the carrier's promise")
    print(f"flagged at risk in advance: {rep['at_risk_flagged']} (precision {rep['at_risk_precision']}, "
          f"recall {rep['at_risk_recall']}); {rep['no_lane_history']} without lane history")
    return 0


def _risk(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.eta.service import risks

    with session_for(args) as s:
        out, note = risks(s, _model(args))
    if args.at_risk:
        out = [r for r in out if r.at_risk]
    if args.json:
        dump({"note": note, "shipments": [r.as_dict() for r in out]})
        return 0
    if note:
        print(note)
    print_table([{"shipment": r.number, "carrier promise": f"{r.promised:%Y-%m-%d}", "median": f"{r.median:%Y-%m-%d}",
                  "p90": f"{r.p90:%Y-%m-%d}", "risk": r.label} for r in out])
    return 0
