"""`depot company|branch|warehouse|zone|locations ...`: the organisation, from the command line.

On a new file (no users yet) these run without ``--user``: the file is being set up
(``app.services.org.setup``). Once it has users, name an admin with ``--user``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.common import add_db_option, add_json_option, print_json, print_table


def _actor_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default=None, help="acting admin (not needed while the file has no users)")


def _sub(group: Any, name: str, help_text: str, func: Any, *, json: bool = False,
         actor: bool = True) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = group.add_parser(name, help=help_text)
    add_db_option(p)
    if json:
        add_json_option(p)
    if actor:
        _actor_opt(p)
    p.set_defaults(func=func)
    return p


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = sub.add_parser("company", help="the company profile: name, address, tax id, logo (the letterhead)")
    cs = c.add_subparsers(dest="company_command", required=True, metavar="ACTION")
    _sub(cs, "show", "print the company profile and what the file holds", _company_show, json=True, actor=False)
    st = _sub(cs, "set", "create or change the company profile (only the options given)", _company_set, json=True)
    for opt in ("name", "address", "phone", "email", "website", "tax-id", "currency", "timezone"):
        st.add_argument(f"--{opt}", default=None)
    st.add_argument("--logo", type=Path, default=None, help="PNG or JPEG file for the letterhead")
    st.add_argument("--no-logo", action="store_true", help="remove the logo")

    b = sub.add_parser("branch", help="branches (the head office first)")
    bs = b.add_subparsers(dest="branch_command", required=True, metavar="ACTION")
    _sub(bs, "list", "list branches", _branch_list, json=True, actor=False)
    ba = _sub(bs, "add", "add a branch (or the head office)", _branch_add, json=True)
    ba.add_argument("code")
    ba.add_argument("--name", required=True)
    ba.add_argument("--head-office", action="store_true")
    ba.add_argument("--address", default="")
    ba.add_argument("--timezone", default="UTC")
    bu = _sub(bs, "set", "change a branch's name, address, time zone or GS1 company prefix", _branch_set, json=True)
    bu.add_argument("code")
    for opt in ("name", "address", "timezone"):
        bu.add_argument(f"--{opt}", default=None)
    bu.add_argument("--gs1-prefix", default=None, metavar="DIGITS",
                    help="the GS1 company prefix of the branch's carton SSCCs (7-10 digits; '' = GS1's example "
                         "prefix, for the demo only)")
    bh = _sub(bs, "use", "make this file work for a branch (before its first sync)", _branch_use)
    bh.add_argument("code")

    w = sub.add_parser("warehouse", help="warehouses of the branches")
    ws = w.add_subparsers(dest="warehouse_command", required=True, metavar="ACTION")
    wl = _sub(ws, "list", "list warehouses", _wh_list, json=True, actor=False)
    wl.add_argument("--branch", default=None)
    wa = _sub(ws, "add", "add a warehouse (with its dock, QA cage and virtual locations)", _wh_add, json=True)
    wa.add_argument("code")
    wa.add_argument("--branch", required=True)
    wa.add_argument("--name", required=True)
    wa.add_argument("--address", default="")

    z = sub.add_parser("zone", help="zones of a warehouse (temperature, hazmat)")
    zs = z.add_subparsers(dest="zone_command", required=True, metavar="ACTION")
    zl = _sub(zs, "list", "list a warehouse's zones", _zone_list, json=True, actor=False)
    zl.add_argument("--warehouse", required=True)
    za = _sub(zs, "add", "add a zone", _zone_add, json=True)
    za.add_argument("code")
    za.add_argument("--warehouse", required=True)
    za.add_argument("--name", default="")
    za.add_argument("--temperature", default="ambient", help="ambient, chilled or frozen")
    za.add_argument("--hazmat", default="", help="hazmat class the zone is approved for (3, 8, ...)")

    lo = sub.add_parser("locations", help="bins, docks and QA cages of a warehouse")
    ls = lo.add_subparsers(dest="locations_command", required=True, metavar="ACTION")
    gen = _sub(ls, "generate", "bins by pattern, numbered in serpentine walk order", _generate, json=True)
    gen.add_argument("--warehouse", required=True)
    gen.add_argument("--aisles", required=True, help="e.g. A01-A20")
    gen.add_argument("--bays", required=True, help="e.g. 01-30")
    gen.add_argument("--levels", required=True, help="e.g. 1-5")
    gen.add_argument("--role", default="reserve", choices=("pick", "reserve"))
    gen.add_argument("--zone", default=None)
    gen.add_argument("--pattern", default="{aisle}-{bay}-{level}",
                     help="bin code pattern: {aisle} {bay} {level} {zone} {warehouse}")
    gen.add_argument("--volume-cm3", type=int, default=1_000_000)
    gen.add_argument("--weight-g", type=int, default=1_000_000)
    gen.add_argument("--dry-run", action="store_true", help="say what would be made, make nothing")
    add = _sub(ls, "add", "add one bin, dock door or QA cage", _loc_add, json=True)
    add.add_argument("code")
    add.add_argument("--warehouse", required=True)
    add.add_argument("--kind", default="storage", choices=("storage", "dock", "qa"))
    add.add_argument("--role", default="reserve", choices=("pick", "reserve"))
    add.add_argument("--zone", default=None)
    add.add_argument("--walk-seq", type=int, default=None)
    lst = _sub(ls, "list", "list a warehouse's locations in walk order", _loc_list, json=True, actor=False)
    lst.add_argument("--warehouse", required=True)
    lst.add_argument("--kind", default=None)
    lst.add_argument("--limit", type=int, default=50)


def _session(args: argparse.Namespace) -> Any:
    from app.cli.common import session_for

    return session_for(args)


def _actor(s: Any, args: argparse.Namespace) -> Any:
    from app.services.auth import actor_by_name

    return actor_by_name(s, args.user) if getattr(args, "user", None) else None


def _out(args: argparse.Namespace, data: Any, text: str) -> int:
    if getattr(args, "json", False):
        print_json(data)
    else:
        print(text)
    return 0


# --------------------------------------------------------------------------- company


def _company_show(args: argparse.Namespace) -> int:
    from app.services.org.company import get_company
    from app.services.org.setup import setup_state

    with _session(args) as s:
        c = get_company(s)
        state = setup_state(s)
    data = {"company": c.as_dict() if c else None, "file": state.__dict__ | {"needs_setup": state.needs_setup}}
    if args.json:
        print_json(data)
        return 0
    if c is None:
        print("no company profile yet (depot company set --name ...)")
    else:
        for k, v in c.as_dict().items():
            print(f"{k:14s} {str(v).replace(chr(10), ', ')}")
    print(f"head office {state.head_office or '-'}; {state.branches} branches, {state.warehouses} warehouses, "
          f"{state.bins} bins, {state.users} users; this file works for {state.this_branch or '-'}")
    if state.needs_setup:
        print("this file has no users yet: add the first admin with depot user add NAME --roles admin")
    return 0


def _company_set(args: argparse.Namespace) -> int:
    from app.services.errors import ValidationError
    from app.services.org.company import set_company

    values = {k: getattr(args, k.replace("-", "_")) for k in ("name", "address", "phone", "email", "website")}
    values |= {"tax_id": args.tax_id, "base_currency": args.currency, "timezone": args.timezone}
    given = {k: v for k, v in values.items() if v is not None}
    logo = None
    if args.logo is not None:
        try:
            logo = args.logo.read_bytes()
        except OSError as e:
            raise ValidationError("--logo", f"cannot read {args.logo}: {e.strerror or e}") from None
    with _session(args) as s:
        c = set_company(s, _actor(s, args), logo=logo, remove_logo=args.no_logo, **given)
    return _out(args, c.as_dict(), f"company profile saved: {c.name}")


# --------------------------------------------------------------------------- branches and warehouses


def _branch_rows(rows: list[Any]) -> list[dict[str, Any]]:
    from app.services.org.sites import GS1_EXAMPLE_PREFIX

    return [{"code": b.code, "name": b.name, "head_office": "yes" if b.head_office else "",
             "timezone": b.timezone, "warehouses": b.warehouses, "this_file": "yes" if b.this_file else "",
             "gs1_prefix": b.gs1_prefix or f"{GS1_EXAMPLE_PREFIX} (GS1 example: demo only)",
             "address": b.address.replace("\n", ", ")} for b in rows]


def _branch_list(args: argparse.Namespace) -> int:
    from app.services.org.sites import list_branches

    with _session(args) as s:
        rows = _branch_rows(list_branches(s))
    if args.json:
        print_json(rows)
    else:
        print_table(rows)
    return 0


def _branch_add(args: argparse.Namespace) -> int:
    from app.services.org.sites import add_branch

    with _session(args) as s:
        b = add_branch(s, _actor(s, args), args.code, args.name, head_office=args.head_office, address=args.address,
                       timezone=args.timezone)
    return _out(args, _branch_rows([b])[0], f"branch {b.code} added" + (" (head office)" if b.head_office else ""))


def _branch_set(args: argparse.Namespace) -> int:
    from app.services.org.sites import update_branch

    with _session(args) as s:
        b = update_branch(s, _actor(s, args), args.code, name=args.name, address=args.address, timezone=args.timezone,
                          gs1_prefix=args.gs1_prefix)
    return _out(args, _branch_rows([b])[0], f"branch {b.code} saved")


def _branch_use(args: argparse.Namespace) -> int:
    from app.services.org.sites import set_this_branch

    with _session(args) as s:
        b = set_this_branch(s, _actor(s, args), args.code)
    print(f"this file now works for branch {b.code}")
    return 0


def _wh_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"code": w.code, "name": w.name, "branch": w.branch, "bins": w.bins, "docks": w.docks,
             "address": w.address.replace("\n", ", ")} for w in rows]


def _wh_list(args: argparse.Namespace) -> int:
    from app.services.org.sites import list_warehouses

    with _session(args) as s:
        rows = _wh_rows(list_warehouses(s, args.branch))
    if args.json:
        print_json(rows)
    else:
        print_table(rows)
    return 0


def _wh_add(args: argparse.Namespace) -> int:
    from app.services.org.sites import add_warehouse

    with _session(args) as s:
        w = add_warehouse(s, _actor(s, args), args.code, args.branch, args.name, address=args.address)
    return _out(args, _wh_rows([w])[0], f"warehouse {w.code} added to {w.branch}")


def _zone_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"warehouse": z.warehouse, "code": z.code, "name": z.name, "temperature": z.temperature_class,
             "hazmat": z.hazmat_class, "bins": z.bins} for z in rows]


def _zone_list(args: argparse.Namespace) -> int:
    from app.services.org.sites import list_zones

    with _session(args) as s:
        rows = _zone_rows(list_zones(s, args.warehouse))
    if args.json:
        print_json(rows)
    else:
        print_table(rows)
    return 0


def _zone_add(args: argparse.Namespace) -> int:
    from app.services.org.sites import add_zone

    with _session(args) as s:
        z = add_zone(s, _actor(s, args), args.warehouse, args.code, name=args.name,
                     temperature_class=args.temperature, hazmat_class=args.hazmat)
    return _out(args, _zone_rows([z])[0], f"zone {z.code} added to {z.warehouse}")


# --------------------------------------------------------------------------- locations


def _generate(args: argparse.Namespace) -> int:
    from app.services.org.locations import generate_bins

    with _session(args) as s:
        r = generate_bins(s, _actor(s, args), args.warehouse, aisles=args.aisles, bays=args.bays, levels=args.levels,
                          role=args.role, zone=args.zone, pattern=args.pattern, capacity_volume_cm3=args.volume_cm3,
                          capacity_weight_g=args.weight_g, dry_run=args.dry_run)
    first = ", ".join(c for c, _w in r.sample[:4])
    verb = "would make" if args.dry_run else "made"
    bins = "bin" if r.count == 1 else "bins"
    return _out(args, r.as_dict(), f"{verb} {r.count:,} {bins} in {r.warehouse}, walk sequence {r.first_walk} to "
                                   f"{r.last_walk} (first: {first}{' ...' if r.count > 4 else ''})")


def _loc_add(args: argparse.Namespace) -> int:
    from app.services.org.sites import add_location

    with _session(args) as s:
        add_location(s, _actor(s, args), args.warehouse, args.code, kind=args.kind, role=args.role, zone=args.zone,
                     walk_seq=args.walk_seq)
    return _out(args, {"warehouse": args.warehouse.upper(), "code": args.code.upper(), "kind": args.kind},
                f"{args.kind} {args.code.upper()} added to {args.warehouse.upper()}")


def _loc_list(args: argparse.Namespace) -> int:
    from app.services.org.sites import list_locations

    with _session(args) as s:
        rows = list_locations(s, args.warehouse, kind=args.kind, limit=args.limit)
    data = [r.__dict__ for r in rows]
    if args.json:
        print_json(data)
    else:
        print_table(data)
    return 0
