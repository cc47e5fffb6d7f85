"""The EDIFACT side (pydifact underneath) on every real partner file, and our own ORDERS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.services.edi import edifact
from app.services.edi.inbound import detect_type
from app.services.edi.readers import read_edifact

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "edi"
EDI_DIR = FIXTURES / "edifact"
pytestmark = pytest.mark.skipif(not EDI_DIR.is_dir(), reason=f"shared EDI fixtures not found at {FIXTURES}")

#: file -> (message type, UNH ref, segments UNH..UNT, problems exactly as reported)
EXPECTED = {
    "desadv_d01b_ean007_emagiz.edi": ("DESADV", "ME000001", 40, ["UNZ01 says 2 messages but the interchange holds 1"]),
    "invoic_d97a_pydifact.edi": ("INVOIC", "1", 24, []),
    "orders_d96a_ean008_oca_amazon_sample1.edi": ("ORDERS", "1", 24, []),
    "orders_d96a_ean008_pydifact.edi": ("ORDERS", "1", 16, ["truncated EDIFACT file: no UNZ trailer"]),
}


def test_every_edifact_fixture_is_covered() -> None:
    assert sorted(p.name for p in EDI_DIR.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_edifact_files_parse_and_their_count_errors_are_reported_exactly(name: str) -> None:
    msg_type, ref, n, problems = EXPECTED[name]
    data = (EDI_DIR / name).read_bytes()
    ic = edifact.parse(data)
    (msg,) = ic.messages
    assert (msg.type, msg.ref, len(msg.segments)) == (msg_type, ref, n)
    assert ic.all_problems() == problems
    if problems:
        with pytest.raises(edifact.EdifactError, match=problems[0]):
            ic.check()
    assert detect_type(data) == msg_type


def test_desadv_fixture_content_and_its_misleading_application_reference() -> None:
    ic = edifact.parse((EDI_DIR / "desadv_d01b_ean007_emagiz.edi").read_bytes())
    assert any("'INVOIC'" in w for w in ic.warnings)
    doc = read_edifact(ic.messages[0])
    assert (doc.po_number, doc.doc_ref, doc.ship_date) == ("12332", "DES587441", dt.date(2002, 4, 3))
    assert [(ln.refs[0][1], ln.qty, ln.sscc) for ln in doc.lines] == [
        ("5410738000152", 20, "354107380000001051"),
        ("5410738000169", 5, "354107380000001068"),
        ("5410738000176", 3, "354107380000001068"),
        ("5410738000183", 12, "354107380000001068"),
    ]


def test_una_with_comma_decimal_mark_is_honoured() -> None:
    ic = edifact.parse((EDI_DIR / "orders_d96a_ean008_pydifact.edi").read_bytes())
    assert ic.sender == "12345678" and ic.control == "807"


def test_writer_counts_and_escapes() -> None:
    text = edifact.write_interchange(
        sender=("DEPOTDAL", "ZZ"), recipient=("ACME", "ZZ"), control=12, when=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        messages=[("ORDERS", "D:96A:UN", [edifact.seg("BGM", "220", "PO+1'?", "9"), edifact.seg("UNS", "S")])])
    assert text.startswith("UNA:+.? '")
    ic = edifact.parse(text)
    assert ic.all_problems() == []
    assert ic.messages[0].segments[1].get(1) == "PO+1'?"
    assert ic.messages[0].segments[-1].get(0) == "4"


def test_truncated_message_is_refused() -> None:
    with pytest.raises(edifact.EdifactError, match="has no UNT"):
        edifact.parse("UNB+UNOA:2+A+B+260101:0000+1'UNH+1+DESADV:D:96A:UN'BGM+351+X+9'UNZ+1+1'")
