"""`depot print ...`: documents to a PDF file or a printer, one or a batch.

    depot print KIND NUMBER [--out FILE.pdf | --printer NAME] [--copies N] [--user U]
    depot print invoices --date YYYY-MM-DD --out DIR [--printer NAME]      (also credits, statements, pos)
    depot print resume BATCH-ID [--out DIR | --printer NAME]               a cancelled or failed batch
    depot print history [KIND] [NUMBER] [--json]                           who printed what, when

The kinds come from the print registry (``app.services.printing``), which every area fills with its
documents; ``register_kind`` still adds a renderer from the command line's side. Every output is
recorded (who, when, where); a second output of a document says COPY. ``--printer`` goes through
the window's printing path (QPrinter), so the same printers, trays and errors apply.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from app.cli.args import path_arg
from app.cli.common import (
    add_db_option,
    add_json_option,
    engine_for,
    output_path,
    print_json,
    print_table,
    session_for,
    write_output,
)
from app.services import print_batch, printing, wiring
from app.services.auth import Actor, actor_by_name
from app.services.errors import ValidationError

Renderer = Callable[[Session, str], tuple[str, bytes]]
#: batch kinds (plural) -> the document kind
BATCH = {"invoices": "invoice", "credits": "credit", "statements": "statement", "pos": "po"}


def register_kind(kind: str, help_: str, renderer: Renderer) -> None:
    """A printable kind added from the command line's side (prefer ``printing.register`` in the service)."""
    printing.register(printing.Printable(kind, help_, lambda s, ref, _again: renderer(s, ref)))


def _kinds() -> list[str]:
    wiring.load()  # the areas register their documents when loaded
    return [p.doc_type for p in printing.kinds()]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("print", help="print documents to PDF or a printer: one, a batch, or resume a batch")
    p.add_argument("kind", metavar="KIND", help="invoice, credit, statement, po, ... (one document); invoices, credits, "
                   "statements, pos (a batch with --date); resume (a batch by id); history")
    p.add_argument("ref", nargs="*", metavar="NUMBER", help="document number (a statement: CUSTOMER@YYYY-MM-DD)")
    p.add_argument("--out", type=path_arg, help="PDF file to write (a batch: the folder)")
    p.add_argument("--printer", metavar="NAME", help="print on this printer instead of writing a PDF")
    p.add_argument("--tray", default="", help="paper tray (printer)")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--date", help="a batch: the documents of this day (YYYY-MM-DD)")
    p.add_argument("--user", default=None, help="who prints (recorded; default $DEPOT_USER)")
    add_json_option(p)
    add_db_option(p)
    p.set_defaults(func=_print)


def _actor(s: Session, args: argparse.Namespace) -> Actor | None:
    name = args.user or os.environ.get("DEPOT_USER")
    return actor_by_name(s, name) if name else None


def _printer_sink(args: argparse.Namespace) -> print_batch.Sink:
    from app.views.printcentre.printer import ensure_app, printer_sink

    ensure_app()
    return printer_sink(args.printer, tray=args.tray)


def _print(args: argparse.Namespace) -> int:
    kinds = _kinds()
    if args.kind == "history":
        return _history(args)
    if args.kind in BATCH or args.kind == "resume":
        return _batch(args)
    if args.kind not in kinds:
        raise ValidationError("KIND", f"{args.kind!r} is not printable (kinds: {', '.join(kinds)}; batches: "
                              f"{', '.join(BATCH)}; resume; history)")
    if len(args.ref) != 1:
        raise ValidationError("NUMBER", "give one document number")
    ref = args.ref[0]
    if args.printer and args.out:
        raise ValidationError("--printer", "print on a printer or write a PDF (--out), not both")
    sink = _printer_sink(args) if args.printer else None  # a missing printer is refused before anything renders
    with session_for(args) as s:
        actor = _actor(s, args)
        if sink is not None:
            out = printing.produce(s, actor, args.kind, ref, channel="printer", target=args.printer,
                                   copies=args.copies)
            sink(out.name, out.pdf, args.copies)  # a failure raises here: the record is rolled back
            print(f"{out.name}: {args.copies} cop{'y' if args.copies == 1 else 'ies'} to {args.printer}"
                  + (" (COPY)" if out.reprint else ""))
            return 0
        name = printing.render(s, args.kind, ref).name
        path: Path = output_path(args.out or Path(name), name)
        out = printing.produce(s, actor, args.kind, ref, channel="pdf", target=str(path), copies=args.copies)
        write_output(path, out.pdf)
    print(f"{path} ({len(out.pdf):,} bytes)" + (" COPY" if out.reprint else ""))
    return 0


def _batch(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    try:
        with session_for(args) as s:
            actor = _actor(s, args)
            if actor is None:
                raise ValidationError("--user", "a batch records who printed it: give --user (or set DEPOT_USER)")
            if args.kind == "resume":
                if len(args.ref) != 1:
                    raise ValidationError("BATCH", "give the batch id (depot print history shows them)")
                b = print_batch.get(s, args.ref[0])
                channel, target = b.channel, b.target
            else:
                if not args.date:
                    raise ValidationError("--date", f"a batch of {args.kind} names its day: --date YYYY-MM-DD")
                try:
                    day = dt.date.fromisoformat(args.date)
                except ValueError:
                    raise ValidationError("--date", f"{args.date!r} is not a date (use YYYY-MM-DD)") from None
                kind = printing.kind(BATCH[args.kind])
                if kind.queue is None:
                    raise ValidationError("KIND", f"{kind.label.lower()} cannot be listed for a batch")
                refs = [r.ref for r in reversed(kind.queue(s, day, day, None, 100_000)) if r.status != "cancelled"]
                channel = "printer" if args.printer else "pdf"
                target = args.printer or str(args.out or "")
                if channel == "pdf" and not args.out:
                    raise ValidationError("--out", "a batch writes its PDFs into a folder: --out DIR")
                # the folder or printer is checked before the batch exists: a refusal leaves no batch behind
                _printer_sink(args) if channel == "printer" else print_batch.folder_sink(target)
                b = print_batch.start(s, actor, kind.doc_type, refs, channel=channel, target=target,
                                      copies=args.copies)
            batch_id = b.id
        sink = _printer_sink(args) if channel == "printer" else print_batch.folder_sink(target)

        def show(done: int, total: int, ref: str) -> None:
            if ref and (done % 50 == 0 or done == total - 1):
                print(f"  {done:,} of {total:,} ({ref})", flush=True)

        report = print_batch.run(engine, actor, batch_id, sink, progress=show)
    finally:
        engine.dispose()
    print(f"batch {report.batch_id}: {report.done:,} of {report.total:,} printed to {target} ({report.state})"
          + (f": {report.message}" if report.message else ""))
    if report.state != "done":
        print(f"resume with: depot print resume {report.batch_id} --user {actor.username}")
    return 0 if report.state == "done" else 1


def _history(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        rows = printing.history(s, doc_type=args.ref[0] if args.ref else None,
                                ref=args.ref[1] if len(args.ref) > 1 else None)
        data = [{"when": r.created_at, "kind": r.doc_type, "number": r.doc_ref, "channel": r.channel,
                 "target": r.target, "copies": r.copies, "pages": r.pages, "copy": r.reprint, "who": r.username}
                for r in rows]
    if args.json:
        print_json(data)
    else:
        print_table([{**d, "when": f"{d['when']:%Y-%m-%d %H:%M}", "copy": "COPY" if d["copy"] else ""}
                     for d in data])
    return 0
