"""`depot replenish` (recommendations with their figures) and `depot requisition list|cancel`.

A scheduled run needs no user (it only reads); with ``--user`` the user's permission and
branch apply. Output is a table, or one JSON document with ``--json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from app.cli.common import actor_of, add_db_option, add_json_option, add_user_option, print_json, print_table
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
    p.add_argument("--accept", action="store_true",
                   help="accept recommendations as requisitions (with --all or --sku; needs --user)")
    p.add_argument("--all", action="store_true", help="with --accept: every recommendation listed")
    p.add_argument("--sku", action="append", default=[], metavar="SKU", help="with --accept: this SKU (repeatable)")
    p.set_defaults(func=_replenish)

    c = sub.add_parser("replenish-config", help="service levels per velocity class and transfer lanes")
    csub = c.add_subparsers(dest="cfg_command", required=True, metavar="ACTION")
    show = csub.add_parser("show", help="print the settings in force (defaults filled in)")
    add_db_option(show)
    add_json_option(show)
    show.set_defaults(func=_cfg_show)
    cl = csub.add_parser("class", help="set the service level / review days of a velocity class")
    add_db_option(cl)
    cl.add_argument("velocity_class", metavar="CLASS")
    cl.add_argument("--service-level", default=None, help="percent, e.g. 97.5")
    cl.add_argument("--review-days", default=None)
    add_user_option(cl, required=True)
    cl.set_defaults(func=_cfg_class)
    ln = csub.add_parser("lane", help="set the transit days and cost of a transfer lane")
    add_db_option(ln)
    ln.add_argument("from_code", metavar="FROM")
    ln.add_argument("to_code", metavar="TO")
    ln.add_argument("--days", required=True)
    ln.add_argument("--per-unit", required=True)
    ln.add_argument("--per-shipment", required=True)
    add_user_option(ln, required=True)
    ln.set_defaults(func=_cfg_lane)

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
    add_user_option(cx, required=True)
    cx.set_defaults(func=_cancel)
    cv = rsub.add_parser("convert", help="turn open purchase requisitions into purchase orders (one per supplier "
                         "when it consolidates, else per supplier and ship-to)")
    add_db_option(cv)
    add_json_option(cv)
    cv.add_argument("numbers", nargs="*", metavar="NUMBER", help="requisition numbers (or --all / --supplier)")
    cv.add_argument("--all", action="store_true", help="every open purchase requisition")
    cv.add_argument("--supplier", help="every open purchase requisition of this supplier code")
    cv.add_argument("--preview", action="store_true", help="show the POs it would make; create nothing")
    cv.add_argument("--submit", action="store_true", help="submit the new POs for approval")
    cv.add_argument("--rush", action="store_true")
    add_user_option(cv, required=True)
    cv.set_defaults(func=_convert)
    cw = rsub.add_parser("close-with-po", help="mark open requisitions converted into a PO made by hand")
    add_db_option(cw)
    cw.add_argument("po", metavar="PO", help="the purchase order number that covers them")
    cw.add_argument("numbers", nargs="+", metavar="NUMBER")
    add_user_option(cw, required=True)
    cw.set_defaults(func=_close_with_po)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("--date", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _replenish(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.replenishment import run

    if (args.all or args.sku) and not args.accept:
        raise ValidationError("--all/--sku", "go with --accept")
    if args.accept:
        if not args.user:
            raise ValidationError("--user", "is required with --accept (who accepts)")
        if args.all == bool(args.sku):
            raise ValidationError("--accept", "give either --all or one or more --sku")
    with session_for(args) as s:
        actor = actor_of(s, args) if args.user else None
        res = run(s, actor, branch_code=args.branch, warehouse_code=args.warehouse, today=_date(args.date),
                  history_weeks=args.weeks)
        if args.accept:
            assert actor is not None
            return _accept(s, actor, res.recommendations, [k.strip().upper() for k in args.sku], args.json)
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
                     "policy": w.policy_label,
                     "position": w.position, "rop": f"{w.rop:.1f}", "oul": f"{w.oul:.1f}", "ss": f"{w.ss:.1f}",
                     "d/day": f"{w.d:.2f}",
                     "rounding": w.rounding if r.preferred == "purchase" else "none (transfer of the raw need)"})
    print_table(rows)
    print(f"{len(res.recommendations)} recommendations over {res.pairs} item x warehouse pairs"
          f" ({res.suppressed} snoozed/rejected)")
    return 0


def _accept(s: Any, actor: Any, recs: list[Any], skus: list[str], as_json: bool) -> int:
    from app.services.buying import requisitions as rq

    chosen = [r for r in recs if not skus or r.sku in skus]
    missing = sorted(set(skus) - {r.sku for r in chosen})
    if missing:
        raise ValidationError("--sku", f"{', '.join(missing)} has no recommendation now (nothing accepted)")
    if not chosen:
        raise ValidationError("--accept", "there is nothing to accept: no recommendation")
    made = rq.accept(s, actor, rq.lines_from_recommendations(chosen))
    rows = [{"number": r.number, "kind": r.kind, "sku": rec.sku, "warehouse": rec.warehouse_code, "qty": r.qty,
             "from": (rec.purchase.source_code if r.kind == "purchase" and rec.purchase else
                      rec.transfer.source_code if rec.transfer else "")}
            for r, rec in zip(made, chosen, strict=True)]
    if as_json:
        print_json(rows)
    else:
        print_table(rows)
        print(f"accepted {len(made)} recommendation(s) as requisitions; "
              "turn them into POs with `depot requisition convert --all --user NAME`")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.buying import conversion as cv
    from app.services.money import fmt_money, fmt_price, price_places

    if sum(bool(x) for x in (args.numbers, args.all, args.supplier)) != 1:
        raise ValidationError("requisitions", "give requisition numbers, --all or --supplier CODE (one of them)")
    with session_for(args) as s:
        actor = actor_of(s, args)
        ids = cv.ids_by_number(s, args.numbers) if args.numbers else cv.open_purchase_ids(s, args.supplier)
        if not ids:
            raise ValidationError("requisitions", "no open purchase requisition" +
                                  (f" of {args.supplier.upper()}" if args.supplier else "") + " to convert")
        if args.preview:
            plans = cv.plan(s, actor, ids)
            s.rollback()
        else:
            made = cv.summary(s, cv.convert(s, actor, ids, rush=args.rush, submit_now=args.submit))
    if args.preview:
        if args.json:
            print_json([{**{k: getattr(p, k) for k in ("supplier_code", "warehouse_code", "consolidated", "currency",
                                                       "requisition_numbers", "problem")},
                         "ship_tos": p.ship_tos, "total": p.total, "lines": list(p.lines)} for p in plans])
            return 0
        for p in plans:
            head = f"PO for {p.supplier_code} ({p.supplier_name}), header {p.warehouse_code}"
            head += f", ship-to per line {'/'.join(p.ship_tos)}" if p.consolidated else ""
            print(f"{head}: {len(p.lines)} line(s), total {fmt_money(p.total, p.currency, code=True)}")
            places = price_places([ln.unit_price for ln in p.lines], p.currency)
            print_table([{"sku": ln.sku, "ship_to": ln.ship_to, "qty": f"{ln.qty:,}",
                          "unit_price": fmt_price(ln.unit_price, places) if ln.price_source else "-",
                          "price_from": ln.price_source or "NO PRICE", "extension": fmt_money(ln.extension, p.currency),
                          "requisitions": ", ".join(ln.requisitions)} for ln in p.lines])
            if p.problem:
                print(f"  cannot be made: {p.problem}")
        bad = sum(1 for p in plans if p.problem)
        print(f"{len(plans)} purchase order(s) would be made" + (f"; {bad} cannot be made as they stand" if bad else ""))
        return 1 if bad else 0
    if args.json:
        print_json(made)
        return 0
    for c in made:
        print(f"{c.number} created ({c.status.replace('_', ' ')}): {c.supplier_code}, {c.lines} line(s), "
              f"{fmt_money(c.total, c.currency, code=True)}, from {', '.join(c.requisitions)}")
    return 0


def _close_with_po(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.buying import conversion as cv
    from app.services.buying.purchasing import get_po

    with session_for(args) as s:
        actor = actor_of(s, args)
        po = get_po(s, args.po)
        done = cv.close_with_po(s, actor, po.id, cv.ids_by_number(s, args.numbers))
        print(f"{', '.join(r.number for r in done)} converted into {po.number}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.buying.requisitions import list_requisitions

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
    from app.services.buying.requisitions import cancel
    from app.services.errors import NotFound

    with session_for(args) as s:
        actor = actor_of(s, args)
        ids = []
        for n in args.numbers:
            rid = s.scalars(select(Requisition.id).where(Requisition.number == n.strip().upper())).first()
            if rid is None:
                raise NotFound("requisition", n)
            ids.append(rid)
        done = cancel(s, actor, ids, args.reason)
    print(f"cancelled {', '.join(r.number for r in done)}")
    return 0


def _cfg_show(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.buying import TransferLane
    from app.models.org import Warehouse
    from app.services.replenishment.config import class_settings

    with session_for(args) as s:
        classes = class_settings(s)
        codes = {w.id: w.code for w in s.scalars(select(Warehouse))}
        lanes = [{"from": codes.get(x.from_warehouse_id, "?"), "to": codes.get(x.to_warehouse_id, "?"),
                  "transit_days": x.transit_days, "cost_per_unit": x.cost_per_unit,
                  "cost_per_shipment": x.cost_per_shipment}
                 for x in s.scalars(select(TransferLane).where(TransferLane.deleted_at.is_(None)))]
    cls = [{"class": k, "service_level_pct": v[0], "review_days": v[1]} for k, v in sorted(classes.items())]
    if args.json:
        print_json({"classes": cls, "lanes": lanes})
    else:
        print_table(cls)
        print_table(lanes)
    return 0


def _cfg_class(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.replenishment.config import set_class

    with session_for(args) as s:
        row = set_class(s, actor_of(s, args), args.velocity_class, service_level_pct=args.service_level,
                        review_days=args.review_days)
        print(f"class {row.velocity_class}: service level {row.service_level_pct}%, review {row.review_days} days")
    return 0


def _cfg_lane(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.replenishment.config import set_lane

    with session_for(args) as s:
        row = set_lane(s, actor_of(s, args), args.from_code, args.to_code, transit_days=args.days,
                       cost_per_unit=args.per_unit, cost_per_shipment=args.per_shipment)
        print(f"lane {args.from_code.upper()} -> {args.to_code.upper()}: {row.transit_days} days,"
              f" {row.cost_per_shipment} + {row.cost_per_unit}/unit")
    return 0
