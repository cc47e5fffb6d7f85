"""The X12 reader on every real partner file, the envelope checks, the writer and the 997."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.services.edi import edifact, x12
from app.services.edi.inbound import detect_type
from app.services.edi.readers import read_x12

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "edi"
X12_DIR = FIXTURES / "x12"
pytestmark = pytest.mark.skipif(not X12_DIR.is_dir(), reason=f"shared EDI fixtures not found at {FIXTURES}")

#: file -> (element sep, component sep, set id, ST02, segments ST..SE, ISA13)
EXPECTED = {
    "810_4010_adobe.txt": ("*", ">", "810", "166061414", 45, "810000263"),
    "850_4010_adobe_shrinkwrapped.txt": ("*", ">", "850", "891325", 18, "638504569"),
    "855_4010_adobe.txt": ("*", ">", "855", "852281220", 43, "855336885"),
    "856_4010_example1_tilde_sep.txt": ("~", "`", "856", "0001", 25, "000000001"),
    "856_4010_example4.txt": ("*", "|", "856", "0414", 39, "000001054"),
}


def _read(name: str) -> bytes:
    return (X12_DIR / name).read_bytes()


def test_every_x12_fixture_is_covered() -> None:
    assert sorted(p.name for p in X12_DIR.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_x12_files_parse_with_their_own_delimiters_and_correct_counts(name: str) -> None:
    elem, comp, set_id, st02, n, isa13 = EXPECTED[name]
    ic = x12.parse(_read(name))
    assert (ic.delimiters.element, ic.delimiters.component) == (elem, comp)
    assert ic.control == isa13
    (tx,) = ic.transactions
    assert (tx.set_id, tx.control, len(tx.segments)) == (set_id, st02, n)
    assert tx.segments[-1][0] == "SE"
    assert ic.all_problems() == []  # these real files' counts are right
    ic.check()
    assert detect_type(_read(name)) == set_id


def test_quirks_of_real_files_are_reported_as_warnings() -> None:
    assert any("not fixed-width" in w for w in x12.parse(_read("850_4010_adobe_shrinkwrapped.txt")).warnings)
    assert any("'00040'" in w for w in x12.parse(_read("810_4010_adobe.txt")).warnings)
    assert any("'00400'" in w for w in x12.parse(_read("855_4010_adobe.txt")).warnings)


def test_space_terminated_850_keeps_spaces_inside_elements() -> None:
    ic = x12.parse(_read("850_4010_adobe_shrinkwrapped.txt"))
    n1 = [s for s in ic.transactions[0].segments if s[0] == "N1"][0]
    assert n1 == ["N1", "BY", "SOLD TO Org Name", "ZZ", "038181483"]
    po1 = [s for s in ic.transactions[0].segments if s[0] == "PO1"][0]
    assert po1[1:5] == ["1", "11", "EA", "1499.95"]


def test_855_and_856_content_is_read() -> None:
    doc = read_x12(x12.parse(_read("855_4010_adobe.txt")).transactions[0])
    assert (doc.po_number, doc.header_status) == ("0132710645", "accepted")
    (line,) = doc.lines
    assert (line.line_no, line.qty, str(line.price), ("BP", "T05249") in line.refs) == (10, 1, "369.0000", True)
    asn = read_x12(x12.parse(_read("856_4010_example4.txt")).transactions[0])
    assert (asn.doc_ref, asn.carrier, asn.pro_number) == ("DELIVERYNUMBER", "CHR", "620940")
    assert (asn.ship_date, asn.delivery_date) == (dt.date(2011, 9, 9), dt.date(2011, 9, 13))
    assert [ln.qty for ln in asn.lines] == [10, 5, 10, 20, 5, 3, 12]
    assert {ln.po_number for ln in asn.lines} == {"PO NUMBER"}
    tilde = read_x12(x12.parse(_read("856_4010_example1_tilde_sep.txt")).transactions[0])
    assert [(ln.line_no, ln.refs[0], ln.qty) for ln in tilde.lines] == [
        (1, ("CB", "1234-123456"), 16), (2, ("CB", "1234-654321"), 23), (4, ("CB", "1234-223456"), 16)]
    assert tilde.po_number == "123456"


# ------------------------------------------------------------ variants of a good file

def _good() -> str:
    return _read("856_4010_example4.txt").decode()


def test_crlf_only_without_terminators_is_read() -> None:
    text = _read("856_4010_example4.txt").decode()
    # keep the ISA's terminator so delimiters are known, drop it everywhere else
    isa_end = text.index("~") + 1
    crlf = text[:isa_end] + text[isa_end:].replace("~", "")
    ic = x12.parse(crlf)
    assert len(ic.transactions[0].segments) == 39 and ic.all_problems() == []


def test_missing_final_terminator_is_tolerated() -> None:
    text = _good().rstrip()
    assert text.endswith("~")
    ic = x12.parse(text[:-1])
    assert ic.all_problems() == []


def test_truncated_file_is_refused_with_a_clear_message() -> None:
    text = _good()
    cut = text[: text.index("CTT")]
    with pytest.raises(x12.X12Error, match="truncated.*856 0414 has no SE"):
        x12.parse(cut)
    with pytest.raises(x12.X12Error, match="no IEA"):
        x12.parse(text[: text.index("IEA")])
    with pytest.raises(x12.X12Error, match="does not start with an ISA"):
        x12.parse(b"hello")


def test_wrong_counts_are_reported_exactly() -> None:
    bad = _good().replace("SE*39*0414", "SE*38*0414").replace("GE*1*414", "GE*2*415")
    ic = x12.parse(bad)
    assert ic.all_problems() == [
        "GE02 control number '415' does not match GS06 '414'",
        "GE01 says 2 transaction sets but group 414 holds 1",
        "SE01 says 38 segments but transaction 856 0414 has 39",
    ]
    with pytest.raises(x12.X12Error, match="SE01 says 38"):
        ic.check()
    bad2 = _good().replace("IEA*1*000001054", "IEA*1*000001055")
    assert x12.parse(bad2).all_problems() == ["IEA02 control number '000001055' does not match ISA13 '000001054'"]


# ------------------------------------------------------------ writer and 997

def test_writer_output_reads_back_with_counts_computed() -> None:
    when = dt.datetime(2026, 11, 26, 15, 4, tzinfo=dt.UTC)
    text = x12.write_interchange(sender=("ZZ", "DEPOTDAL"), receiver=("12", "5551234567"), control=42,
                                 functional_id="PO", when=when,
                                 transactions=[("850", [["BEG", "00", "SA", "DAL-PO-000001", "", "20261126"],
                                                        ["PO1", "1", "10", "EA", "1.25", "PE", "BP", "WID*GET~"]])])
    isa = text.split("~")[0]
    assert len(isa) == 105 and isa.endswith("*>")  # fixed width ISA: 106 with the terminator
    ic = x12.parse(text)
    assert ic.all_problems() == [] and ic.control == "000000042"
    (tx,) = ic.transactions
    assert len(tx.segments) == 4 and tx.segments[2][7] == "WID GET"  # delimiters in data are blanked


def test_997_accepts_a_good_file_and_rejects_bad_counts() -> None:
    ic = x12.parse(_read("855_4010_adobe.txt"))
    when = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    ack = x12.parse(x12.build_997(ic, our_id=("ZZ", "DEPOTDAL"), control=7, when=when))
    assert ack.all_problems() == []
    assert (ack.receiver_id, ack.groups[0].functional_id) == ("102096559PROD", "FA")
    body = ack.transactions[0].body
    assert body == [["AK1", "PR", "855336885"], ["AK2", "855", "852281220"], ["AK5", "A"], ["AK9", "A", "1", "1", "1"]]
    bad = x12.parse(_good().replace("SE*39*0414", "SE*40*0414"))
    body = x12.parse(x12.build_997(bad, our_id=("ZZ", "DEPOTDAL"), control=8, when=when)).transactions[0].body
    assert ["AK5", "R", "4"] in body and body[-1] == ["AK9", "R", "1", "1", "0", "2"]


def test_edifact_detection_does_not_need_counts_right() -> None:
    assert detect_type(b"UNB+UNOA:2+A+B+260101:0000+1'UNH+1+ORDRSP:D:96A:UN'") == "ORDRSP"
    with pytest.raises(edifact.EdifactError):
        edifact.parse(b"UNB+UNOA:2+A+B+260101:0000+1'UNH+1+ORDRSP:D:96A:UN'BGM+231+X+29'")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_byte_order_mark_or_utf16_save_reads_like_the_plain_file(name: str) -> None:
    """Real partner files start with EF BB BF; Notepad's "Unicode" save gives UTF-16."""
    raw = _read(name)
    plain = raw.removeprefix(b"\xef\xbb\xbf")
    assert raw.startswith(b"\xef\xbb\xbf"), "the shared fixtures keep their originals' BOM"
    expected = x12.parse(plain)
    for variant in (raw, b"\xef\xbb\xbf" + plain, plain.decode("latin-1").encode("utf-16")):
        ic = x12.parse(variant)
        assert (ic.control, [t.control for t in ic.transactions]) == (
            expected.control, [t.control for t in expected.transactions])
        assert detect_type(variant) == EXPECTED[name][2]


def test_empty_and_blank_files_say_why() -> None:
    from app.services.edi.text import EdiTextError
    with pytest.raises(EdiTextError, match="empty"):
        detect_type(b"")
    with pytest.raises(EdiTextError, match="only white space"):
        detect_type(b" \r\n\t")
