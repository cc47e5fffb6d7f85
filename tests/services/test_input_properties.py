"""Input robustness as a property: every EDI reader and every importer, fed real files mutated
the ways files really get damaged (truncated, bytes flipped, delimiters swapped, re-encoded,
a byte-order mark, CRLF, huge fields, NUL bytes, lines lost or doubled), answers with a result
or a one-line refusal: never another exception, never a partial write.

The default run tries a few dozen files per test; DEPOT_SLOW=1 tries many more."""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.docs_common import AuditEntry
from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.exceptions import ExceptionItem
from app.models.parties import Customer, ItemSupplier, Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.sales import SalesOrder
from app.models.stock import StockMove
from app.services.edi import acks, edifact, x12
from app.services.edi.inbound import detect_type, import_bytes, read_messages, standard_of
from app.services.edi.readers import read_edifact, read_x12
from app.services.edi.text import decode
from app.services.errors import DomainError
from app.services.importer import KINDS, import_csv
from tests.factories import World
from tests.services.test_edi_import import make_po, set_edi

SLOW = os.environ.get("DEPOT_SLOW") == "1"
EXAMPLES = 400 if SLOW else 30
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parents[0].parent / "shared" / "fixtures" / "edi"
EDI_SEEDS = sorted(p for d in (ROOT / "fixtures" / "edi_shapes", SHARED / "x12", SHARED / "edifact") if d.is_dir()
                   for p in d.iterdir() if p.is_file() and p.suffix != ".md")
EDI_DATA = [p.read_bytes() for p in EDI_SEEDS]

CSV_SEEDS: dict[str, str] = {
    "items": "sku,description,standard_cost,list_price,gtin,case_qty,pallet_qty,track_lot,velocity_class\n"
             "NUT-10,Hex nut M10,0.0725,0.19,,100,4000,no,A\n\"SOAP-5L\",\"Hand soap, 5 l\",3.10,6,4006381333931,4,,yes,B\n",
    "suppliers": "code,name,edi_id,edi_format,over_receipt_pct\nS1,One Supply,ONEEDI,x12,5\nS2,Two & Co,,edifact,\n",
    "customers": "code,name,credit_limit,priority_tier,home_branch\nC1,Builder One,5000,gold,DAL\nC2,Builder Two,,bronze,\n",
    "item-suppliers": "sku,supplier,supplier_part,lead_time_days,pack_size,min_order_qty,contract_price\n"
                      "BOLT,ACME,AC-BOLT,5,10,20,0.09\nMILK,ACME,AC-MILK,2,1,1,0.75\n",
    "stock": "warehouse,bin,sku,qty,lot,expiry_date,serial\nDAL1,A-01,BOLT,500,,,\nDAL1,C-01,MILK,40,L2026-11,2026-12-20,\n"
             "DAL1,A-02,DRILL,1,,,SN-001\n",
    "orders": "order_number,customer,warehouse,sku,qty,unit_price,requested_date\n"
              "L-1001,BUILDCO,DAL1,WIDGET,24,2.75,2026-12-01\nL-1001,BUILDCO,DAL1,BOLT,100,0.30,\n",
}


def _seed_for(kind: str) -> str:
    """A seed for every kind, including ones added later: required columns, a plausible row."""
    if kind in CSV_SEEDS:
        return CSV_SEEDS[kind]
    fields = [f.name for f in KINDS[kind].fields if f.required] or [KINDS[kind].fields[0].name]
    return ",".join(fields) + "\n" + ",".join("X1" for _ in fields) + "\n"


# ------------------------------------------------------------------ mutations

@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes], delimiters: bytes) -> bytes:
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete_line", "double_line", "swap", "crlf",
                                   "lf", "bom", "utf16", "cp1252", "huge", "nul", "quote"]))
        n = len(data)
        at = draw(st.integers(0, max(n - 1, 0)))
        if op == "truncate":
            data = data[:at]
        elif op == "flip" and n:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif op in ("delete_line", "double_line"):
            lines = data.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines[i:i + 1] = [] if op == "delete_line" else [lines[i], lines[i]]
                data = b"".join(lines)
        elif op == "swap":
            a, b = draw(st.sampled_from(delimiters)), draw(st.sampled_from(delimiters))
            data = data.replace(bytes([a]), b"\x00SWAP").replace(bytes([b]), bytes([a])).replace(b"\x00SWAP", bytes([b]))
        elif op == "crlf":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif op == "lf":
            data = data.replace(b"\r\n", b"").replace(b"\n", b"")
        elif op == "bom":
            data = codecs.BOM_UTF8 + data
        elif op == "utf16":
            data = data.decode("latin-1").encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"])))
        elif op == "cp1252":
            data = data.replace(b"e", "é".encode("cp1252")).replace(b"a", "€".encode("cp1252"))
        elif op == "huge":
            data = data[:at] + b"A" * draw(st.sampled_from([5_000, 140_000])) + data[at:]
        elif op == "nul":
            data = data[:at] + b"\x00" + data[at:]
        elif op == "quote":
            data = data[:at] + b'"' + data[at:]
    return data


def _one_line(e: DomainError) -> None:
    text = str(e)
    assert text and "\n" not in text and "Traceback" not in text, repr(text[:500])


# ------------------------------------------------------------------ EDI readers (no database)

def _read_everything(data: bytes) -> None:
    """What `depot edi check` and the reading half of `depot edi import` do."""
    text = decode(data)
    kind = detect_type(text)
    standard = standard_of(text)
    if standard == "x12":
        for ic in x12.parse_all(text):
            ic.all_problems()
            for tx in ic.transactions:
                if tx.set_id in ("855", "856"):
                    read_x12(tx)
    else:
        for ie in edifact.parse_all(text):
            ie.all_problems()
            for m in ie.messages:
                if m.type in ("ORDRSP", "DESADV"):
                    read_edifact(m)
    if kind in ("997", "999", "TA1", "CONTRL"):
        acks.read(text, standard)
    else:
        read_messages(data)


def test_edi_seeds_are_there() -> None:
    assert len(EDI_SEEDS) >= 50, EDI_SEEDS


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(EDI_DATA, b"*~+:'|^>\n\r"))
def test_every_edi_reader_answers_or_refuses_in_one_line(data: bytes) -> None:
    try:
        _read_everything(data)
        event("read")
    except DomainError as e:
        event(f"refused: {type(e).__name__}")
        _one_line(e)


# ------------------------------------------------------------------ EDI import (database)

EDI_TABLES = (SupplierMessage, SupplierMessageLine, ExpectedReceipt, ExpectedReceiptLine, ExceptionItem, AuditEntry)


def _counts(session: Session, models: tuple[type, ...]) -> list[int]:
    return [int(session.scalar(select(func.count()).select_from(m)) or 0) for m in models]


@pytest.fixture
def edi_world(session: Session, world: World) -> World:
    set_edi(world, "ACMEEDI")
    i = world.items
    for number in ("DAL-PO-000501", "DAL-PO-000601", "DAL-PO-000602"):
        make_po(session, world, number, [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 100, "0.10"),
                                         (3, i["MILK"], 50, "0.80")])
    make_po(session, world, "DAL-PO-000502", [(1, i["BOLT"], 30, "0.10"), (2, i["MILK"], 12, "0.80")])
    session.commit()
    return world


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated(EDI_DATA, b"*~+:'\n"))
def test_edi_import_writes_everything_or_nothing(session: Session, edi_world: World, data: bytes) -> None:
    before = _counts(session, EDI_TABLES)
    try:
        result = import_bytes(session, edi_world.actors["alice"], data, "fuzz.edi")
    except DomainError as e:
        event(f"refused: {type(e).__name__}")
        _one_line(e)
        assert not session.new and not session.dirty and not session.deleted
        assert _counts(session, EDI_TABLES) == before, "a refused file left rows behind"
    else:
        event("imported")
        assert result.duplicate or result.messages or result.acknowledgements
    finally:
        session.rollback()


# ------------------------------------------------------------------ CSV importers (database)

IMPORT_TABLES = (Item, Supplier, Customer, ItemSupplier, StockMove, SalesOrder, AuditEntry)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_importer_answers_or_refuses_in_one_line(session: Session, world: World, tmp_path: Path,
                                                       kind: str) -> None:
    seeds = [_seed_for(kind).encode(), _seed_for(kind).replace(",", ";").encode("cp1252")]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=mutated(seeds, b",;\t\"\n"), skip_bad=st.booleans())
    def check(data: bytes, skip_bad: bool) -> None:
        path = tmp_path / "fuzz.csv"
        path.write_bytes(data)
        before = _counts(session, IMPORT_TABLES)
        try:
            result: Any = import_csv(session, world.actors["root"], kind, path, skip_bad=skip_bad)
        except DomainError as e:
            event(f"refused: {type(e).__name__}")
            _one_line(e)
            assert _counts(session, IMPORT_TABLES) == before, "a refused file left rows behind"
        else:
            event("imported" if result.imported else "nothing imported")
            assert 0 <= result.imported <= result.rows and (skip_bad or not result.skipped)
            for p in result.skipped:
                assert p.reason and "\n" not in p.reason
        finally:
            session.rollback()

    check()
