"""`depot pack|rate|label|void|ship|manifest ...`: the packing station and the shipping desk from the
command line (a scanner script, a headless dock PC, support staff). The documents print through
`depot print packing-slip | carton-labels SHIPMENT` and `depot print manifest NUMBER` (the print
registry: app.services.billing.shipping_docs lists them).

    depot pack start ORDER [--carrier CODE]            -> the shipment being packed
    depot pack scan SHIPMENT CODE [--qty N] [--serial S] [--lot L]
    depot pack scans SHIPMENT FILE                     one scan a line: CODE, *N (quantity of the next),
                                                       SN:serial, LOT:code, OPEN [BOX], CLOSE WEIGHT [BOX],
                                                       LAST WEIGHT [BOX] (close the last carton)
    depot pack open SHIPMENT [--box CODE] | unpack SHIPMENT CODE [--qty N]
    depot pack close SHIPMENT --weight "1.2 kg" [--box CODE] [--last] [--short REASON]
    depot pack show SHIPMENT [--json] | reopen SHIPMENT
    depot rate SHIPMENT [--choose CARRIER:SERVICE --reason TEXT] [--json]
    depot label SHIPMENT [--out FILE]                   buy the label (and write it)
    depot void SHIPMENT --reason TEXT
    depot ship SHIPMENT                                 ship confirmation
    depot manifest build --carrier CODE [--warehouse W] [--date D] | close NUMBER | list [--date D]
    depot manifest print NUMBER [--pdf FILE] [--csv FILE]
    depot carton-types [--set CODE --dims 400x300x250 --max-weight "20 kg" [--tare "400 g"] [--name N]]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from app.cli.args import path_arg
from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    engine_for,
    output_path,
    print_json,
    session_for,
    write_output,
)
from app.services.errors import ValidationError


def _common(p: argparse.ArgumentParser, *, json: bool = False) -> None:
    add_db_option(p)
    add_user_option(p)
    if json:
        add_json_option(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("pack", help="the packing station: start, scan, open/close cartons, show")
    ps = p.add_subparsers(dest="pack_command", metavar="ACTION", required=True)
    a = ps.add_parser("start", help="open (or find) the shipment an order is packed into")
    a.add_argument("order")
    a.add_argument("--carrier", default=None)
    _common(a)
    a.set_defaults(func=_pack_start)
    a = ps.add_parser("scan", help="pack one scan: an item code (SKU, GTIN, GS1 label)")
    a.add_argument("shipment")
    a.add_argument("code")
    a.add_argument("--qty", type=int, default=1)
    a.add_argument("--serial", default="")
    a.add_argument("--lot", default="")
    _common(a)
    a.set_defaults(func=_pack_scan)
    a = ps.add_parser("scans", help="pack a file of scans, one a line (see depot pack --help)")
    a.add_argument("shipment")
    a.add_argument("file", type=path_arg)
    _common(a)
    a.set_defaults(func=_pack_scans)
    a = ps.add_parser("open", help="open a new carton (the suggested box unless --box)")
    a.add_argument("shipment")
    a.add_argument("--box", default=None)
    _common(a)
    a.set_defaults(func=_pack_open)
    a = ps.add_parser("unpack", help="take a mis-scan back out of an open carton")
    a.add_argument("shipment")
    a.add_argument("code")
    a.add_argument("--qty", type=int, default=1)
    _common(a)
    a.set_defaults(func=_pack_unpack)
    a = ps.add_parser("close", help="weigh and close the open carton")
    a.add_argument("shipment")
    a.add_argument("--weight", required=True, help="'1.25 kg', '1250 g', '2.75 lb' (what a scale types)")
    a.add_argument("--box", default=None)
    a.add_argument("--last", action="store_true", help="the last carton: the shipment is packed")
    a.add_argument("--short", default="", help="why it goes short (when picked items stay unpacked)")
    _common(a)
    a.set_defaults(func=_pack_close)
    a = ps.add_parser("show", help="the shipment's cartons and lines")
    a.add_argument("shipment")
    _common(a, json=True)
    a.set_defaults(func=_pack_show)
    a = ps.add_parser("reopen", help="a packed shipment without a label back to packing")
    a.add_argument("shipment")
    _common(a)
    a.set_defaults(func=_pack_reopen)

    r = sub.add_parser("rate", help="quotes from every enabled carrier account; choose or override")
    r.add_argument("shipment")
    r.add_argument("--choose", default=None, metavar="CARRIER:SERVICE")
    r.add_argument("--reason", default="", help="why the suggested service is overridden")
    _common(r, json=True)
    r.set_defaults(func=_rate)
    lb = sub.add_parser("label", help="buy the carrier label of a packed, rated shipment")
    lb.add_argument("shipment")
    lb.add_argument("--out", type=path_arg, default=None, help="write the label document here")
    _common(lb)
    lb.set_defaults(func=_label)
    v = sub.add_parser("void", help="void the shipment's label (at the carrier, then here)")
    v.add_argument("shipment")
    v.add_argument("--reason", required=True)
    _common(v)
    v.set_defaults(func=_void)
    sh = sub.add_parser("ship", help="ship confirmation: the packed, labelled shipment leaves")
    sh.add_argument("shipment")
    _common(sh, json=True)
    sh.set_defaults(func=_ship)

    ct = sub.add_parser("carton-types", help="the carton sizes cartonization chooses from: list, or add/change one")
    ct.add_argument("--set", default=None, metavar="CODE", help="add or change this carton type (admin)")
    ct.add_argument("--dims", default="", help="inside length x width x height in mm: 400x300x250")
    ct.add_argument("--max-weight", default="", help="the most it may weigh packed: '20 kg'")
    ct.add_argument("--tare", default="0 g", help="the empty box: '400 g'")
    ct.add_argument("--name", default="")
    _common(ct, json=True)
    ct.set_defaults(func=_carton_types)

    m = sub.add_parser("manifest", help="end-of-day manifests per carrier: build, close, list, print")
    ms = m.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    a = ms.add_parser("build", help="put the day's confirmed shipments of a carrier on its open manifest")
    a.add_argument("--carrier", required=True)
    a.add_argument("--warehouse", default=None)
    a.add_argument("--date", default=None, help="YYYY-MM-DD (default: today, the branch's calendar)")
    _common(a, json=True)
    a.set_defaults(func=_manifest_build)
    a = ms.add_parser("close", help="close a manifest (the truck has left)")
    a.add_argument("number")
    _common(a, json=True)
    a.set_defaults(func=_manifest_close)
    a = ms.add_parser("list", help="manifests, newest first")
    a.add_argument("--date", default=None)
    _common(a, json=True)
    a.set_defaults(func=_manifest_list)
    a = ms.add_parser("print", help="write a manifest as PDF and/or CSV")
    a.add_argument("number")
    a.add_argument("--pdf", type=path_arg, default=None)
    a.add_argument("--csv", type=path_arg, default=None)
    _common(a)
    a.set_defaults(func=_manifest_print)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError("--date", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _settings() -> Any:
    from app.services.settings import Settings

    return Settings()


# --- pack ------------------------------------------------------------------------------------
def _pack_start(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        sh = packing.start(s, actor_of(s, args), args.order, carrier=args.carrier)
        print(f"{sh.number} ({sh.status}): {packing.state(s, sh.id).suggestion}")
    return 0


def _pack_scan(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        print(packing.pack(s, actor_of(s, args), args.shipment, args.code, qty=args.qty, serial=args.serial,
                           lot=args.lot).message)
    return 0


def _pack_scans(args: argparse.Namespace) -> int:
    """Each line its own transaction (like a person at the station): a refused scan is reported and
    the rest go on; the exit code is 1 when any was refused."""
    from app.services.db import session_scope
    from app.services.dispatch import packing
    from app.services.errors import DomainError

    try:
        lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValidationError("FILE", f"cannot read {args.file}: {e.strerror or e}") from None
    engine = engine_for(args)
    bad = 0
    qty, serial, lot = 1, "", ""
    try:
        for n, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            word, _sp, rest = line.partition(" ")
            try:
                with session_scope(engine) as s:
                    actor = actor_of(s, args)
                    up = word.upper()
                    if up.startswith("*") and up[1:].isdigit():
                        qty = int(up[1:])
                        continue
                    if up.startswith("SN:"):
                        serial = line[3:].strip()
                        continue
                    if up.startswith("LOT:"):
                        lot = line[4:].strip()
                        continue
                    if up == "OPEN":
                        c = packing.open_carton(s, actor, args.shipment, rest.strip() or None)
                        msg = f"carton {c.seq} opened ({c.sscc})"
                    elif up in ("CLOSE", "LAST"):
                        tokens = rest.split()
                        box = tokens[-1] if len(tokens) > 1 and tokens[-1].isalpha() and \
                            tokens[-1].lower() not in ("kg", "g", "lb", "lbs", "oz") else None
                        weight = " ".join(tokens[:-1] if box else tokens)
                        msg = packing.close_carton(s, actor, args.shipment, packing.scale_reading(weight),
                                                   carton_type=box, last=up == "LAST").message
                    else:
                        msg = packing.pack(s, actor, args.shipment, line, qty=qty, serial=serial, lot=lot).message
                        qty, serial, lot = 1, "", ""
                print(f"{n}: {msg}")
            except DomainError as e:
                bad += 1
                qty, serial, lot = 1, "", ""
                print(f"{n}: refused: {e}")
    finally:
        engine.dispose()
    return 1 if bad else 0


def _pack_open(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        c = packing.open_carton(s, actor_of(s, args), args.shipment, args.box)
        print(f"carton {c.seq} opened: SSCC {c.sscc}")
    return 0


def _pack_unpack(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        print(packing.unpack(s, actor_of(s, args), args.shipment, args.code, qty=args.qty).message)
    return 0


def _pack_close(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        out = packing.close_carton(s, actor_of(s, args), args.shipment, packing.scale_reading(args.weight),
                                   carton_type=args.box, last=args.last, short_reason=args.short)
        print(out.message)
    return 0


def _pack_show(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        st = packing.state(s, args.shipment)
    if args.json:
        print_json({"shipment": st.shipment, "order": st.order, "status": st.status, "carrier": st.carrier,
                    "suggestion": st.suggestion, "cartons": st.cartons,
                    "lines": [{"line": ln.line_no, "sku": ln.sku, "ordered": ln.ordered, "packable": ln.packable,
                               "packed": ln.packed, "missing": ln.missing} for ln in st.lines]})
        return 0
    print(f"{st.shipment} for {st.order} ({st.customer}), {st.status}, {st.carrier}")
    if st.suggestion:
        print(f"  suggested: {st.suggestion}")
    for c in st.cartons:
        print(f"  carton {c['seq']} {c['sscc']} {c['type'] or '-'} {c['status']} {c['units']} units {c['weight_g']} g")
    for ln in st.lines:
        print(f"  {ln.line_no:>3} {ln.sku:<14} packed {ln.packed}/{ln.packable}" + (f"  missing {ln.missing}"
                                                                                     if ln.missing else ""))
    return 0


def _pack_reopen(args: argparse.Namespace) -> int:
    from app.services.dispatch import packing

    with session_for(args) as s:
        sh = packing.reopen(s, actor_of(s, args), args.shipment)
        print(f"{sh.number} is being packed again")
    return 0


# --- rate, label, void, ship --------------------------------------------------------------------
def _actor(args: argparse.Namespace) -> Any:
    with session_for(args) as s:
        return actor_of(s, args)


def _rate(args: argparse.Namespace) -> int:
    from app.services.dispatch import rating

    engine = engine_for(args)
    try:
        actor = _actor(args)
        if args.choose:
            from app.services.db import session_scope

            with session_scope(engine) as s:
                res = rating.choose(s, actor, args.shipment, args.choose, args.reason)
        else:
            res = rating.rate_shipment(engine, _settings(), actor, args.shipment)
    finally:
        engine.dispose()
    if args.json:
        print_json({"shipment": res.number, "promised": res.promised, "quotes": [q.to_dict() for q in res.quotes],
                    "suggested": res.suggested.key if res.suggested else None,
                    "chosen": res.chosen.key if res.chosen else None, "failures": res.failures,
                    "skipped": res.skipped, "note": res.note})
    else:
        print("\n".join(res.lines()))
    return 0 if res.quotes else 1


def _label(args: argparse.Namespace) -> int:
    from app.models.packing import ShipmentLabel
    from app.services.db import session_scope
    from app.services.dispatch import labels

    engine = engine_for(args)
    try:
        got = labels.buy_label(engine, _settings(), _actor(args), args.shipment)
        print(got.sentence())
        if args.out:
            with session_scope(engine, write=False) as s:
                row = s.get(ShipmentLabel, got.label_id)
                data = row.data if row else b""
            out = output_path(args.out, f"{got.tracking_number}.{got.format}")
            write_output(out, data)
            print(f"{out} ({len(data):,} bytes)")
    finally:
        engine.dispose()
    return 0


def _void(args: argparse.Namespace) -> int:
    from app.services.dispatch import labels

    engine = engine_for(args)
    try:
        print(labels.void_label(engine, _settings(), _actor(args), args.shipment, args.reason))
    finally:
        engine.dispose()
    return 0


def _ship(args: argparse.Namespace) -> int:
    from app.services.dispatch.confirm import confirm_shipment

    with session_for(args) as s:
        res = confirm_shipment(s, actor_of(s, args), args.shipment)
    if args.json:
        print_json({"shipment": res.shipment, "order": res.order, "tracking_number": res.tracking_number,
                    "lines": res.lines, "units": res.units, "order_status": res.order_status, "notes": res.notes})
    else:
        print(res.sentence())
        for n in res.notes:
            print(f"  {n}")
    return 0


def _carton_types(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models.packing import CartonType
    from app.services.dispatch import cartonize, packing

    with session_for(args) as s:
        if args.set:
            try:
                dims = [int(x) for x in args.dims.lower().replace(" ", "").split("x")]
            except ValueError:
                dims = []
            if len(dims) != 3:
                raise ValidationError("--dims", "length x width x height in mm, e.g. 400x300x250")
            if not args.max_weight:
                raise ValidationError("--max-weight", "is required: the most the box may weigh packed ('20 kg')")
            cartonize.save_carton_type(s, actor_of(s, args), args.set, length_mm=dims[0], width_mm=dims[1],
                                       height_mm=dims[2], max_weight_g=packing.scale_reading(args.max_weight),
                                       tare_g=packing.scale_reading(args.tare) if args.tare.strip() not in ("0", "0 g")
                                       else 0, name=args.name)
        rows: list[dict[str, Any]] = [{"code": t.code, "name": t.name, "inside_mm": f"{t.length_mm}x{t.width_mm}x{t.height_mm}",
                 "max_weight_g": t.max_weight_g, "tare_g": t.tare_g, "active": t.active}
                for t in s.scalars(select(CartonType).where(CartonType.deleted_at.is_(None)).order_by(CartonType.code))]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['code']:<8} {r['inside_mm']:<14} max {r['max_weight_g'] / 1000:.1f} kg  tare {r['tare_g']} g  "
                  f"{r['name']}{'' if r['active'] else '  (inactive)'}")
    return 0


# --- manifest ------------------------------------------------------------------------------------
def _show_manifest(args: argparse.Namespace, m: Any) -> None:
    if args.json:
        print_json({"number": m.number, "carrier": m.carrier, "warehouse": m.warehouse, "ship_date": m.ship_date,
                    "status": m.status, "shipments": m.shipments, "cartons": m.cartons, "weight_g": m.weight_g,
                    "close_ref": m.close_ref})
    else:
        print(m.sentence())


def _manifest_build(args: argparse.Namespace) -> int:
    from app.services.dispatch import manifest

    with session_for(args) as s:
        m = manifest.build(s, actor_of(s, args), args.carrier, warehouse=args.warehouse, day=_date(args.date))
    _show_manifest(args, m)
    return 0


def _manifest_close(args: argparse.Namespace) -> int:
    from app.services.dispatch import manifest

    with session_for(args) as s:
        m = manifest.close(s, actor_of(s, args), args.number)
    _show_manifest(args, m)
    return 0


def _manifest_list(args: argparse.Namespace) -> int:
    from app.services.dispatch import manifest

    with session_for(args) as s:
        rows = manifest.listing(s, day=_date(args.date))
    if args.json:
        print_json([{"number": m.number, "carrier": m.carrier, "ship_date": m.ship_date, "status": m.status,
                     "shipments": m.shipments} for m in rows])
    else:
        for m in rows:
            print(m.sentence())
    return 0


def _manifest_print(args: argparse.Namespace) -> int:
    from app.services.dispatch import manifest

    if not args.pdf and not args.csv:
        raise ValidationError("--pdf/--csv", "say where to write the manifest")
    with session_for(args) as s:
        pdf = manifest.manifest_pdf(s, args.number) if args.pdf else b""
        data = manifest.manifest_csv(s, args.number) if args.csv else b""
    for path, blob, ext in ((args.pdf, pdf, "pdf"), (args.csv, data, "csv")):
        if path:
            out = output_path(path, f"{args.number}.{ext}")
            write_output(out, blob)
            print(f"{out} ({len(blob):,} bytes)")
    return 0
