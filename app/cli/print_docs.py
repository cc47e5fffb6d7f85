"""`depot print KIND REF --out FILE.pdf`: print a document to a PDF file.

A small registry of printable kinds: a later issue adds its own with ``register_kind``
(pick lists, packing slips, invoices) and the command line picks it up. Each renderer takes
a Session and a reference (the document number) and returns (file name, PDF bytes).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from app.cli.args import path_arg
from app.cli.common import add_db_option, output_path, session_for, write_output

Renderer = Callable[[Session, str], tuple[str, bytes]]
_KINDS: dict[str, tuple[str, Renderer]] = {}


def register_kind(kind: str, help_: str, renderer: Renderer) -> None:
    _KINDS[kind] = (help_, renderer)


def _po(session: Session, ref: str) -> tuple[str, bytes]:
    from app.services.buying.po_documents import po_pdf

    return po_pdf(session, ref)


register_kind("po", "purchase order by number (DAL-PO-000123)", _po)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("print", help="print a document to PDF: " + ", ".join(sorted(_KINDS)))
    p.add_argument("kind", choices=sorted(_KINDS), help="; ".join(f"{k}: {h}" for k, (h, _r) in sorted(_KINDS.items())))
    p.add_argument("ref", help="document number")
    p.add_argument("--out", type=path_arg, help="PDF file to write (default: <number>.pdf here)")
    add_db_option(p)
    p.set_defaults(func=_print)


def _print(args: argparse.Namespace) -> int:
    _help, renderer = _KINDS[args.kind]
    with session_for(args) as s:
        name, pdf = renderer(s, args.ref)
    out: Path = output_path(args.out or Path(name), name)
    write_output(out, pdf)
    print(f"{out} ({len(pdf):,} bytes)")
    return 0
