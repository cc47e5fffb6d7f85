"""`depot labels bins|items|receipt ... --out FILE.pdf`: label sheets with Code 128 / GS1-128 barcodes."""

from __future__ import annotations

import argparse

from app.cli.args import path_arg
from app.cli.common import add_db_option, output_path, session_for, write_output


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("labels", help="print bin, item or receiving labels to a PDF")
    lsub = p.add_subparsers(dest="labels_command", required=True, metavar="KIND")
    b = lsub.add_parser("bins", help="a label per storage bin (Code 128 of the bin code)")
    b.add_argument("--warehouse", required=True)
    b.add_argument("--prefix", default="", help="only bins whose code starts with this")
    i = lsub.add_parser("items", help="item labels (GS1-128 of the GTIN, else Code 128 of the SKU)")
    i.add_argument("skus", nargs="+")
    i.add_argument("--copies", type=int, default=1)
    r = lsub.add_parser("receipt", help="a label per received line (per unit for serial items)")
    r.add_argument("number", help="receipt number, e.g. DAL-GR-000001")
    for c, kind in ((b, "bins"), (i, "items"), (r, "receipt")):
        c.add_argument("--out", type=path_arg, required=True, help="PDF file to write")
        add_db_option(c)
        c.set_defaults(func=_labels, kind=kind)


def _labels(args: argparse.Namespace) -> int:
    from app.services.receiving import documents as d

    with session_for(args) as s:
        if args.kind == "bins":
            labels = d.bin_labels(s, args.warehouse, prefix=args.prefix)
        elif args.kind == "items":
            labels = d.item_labels(s, args.skus, copies=args.copies)
        else:
            labels = d.receipt_labels(s, args.number)
    out = output_path(args.out, f"{args.kind}-labels.pdf")
    data = d.labels_pdf(labels, f"{args.kind} labels")
    write_output(out, data)
    args.out = out
    print(f"wrote {len(labels)} label(s) to {args.out}")
    return 0
