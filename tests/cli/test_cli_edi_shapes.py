"""`depot edi check | import | poll` end to end on partner-shaped files: a byte-order mark,
UTF-16, several interchanges, wrapped lines, and files that are not EDI at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services.edi import x12
from tests.factories import World
from tests.services.test_edi_import import make_po, set_edi
from tests.services.test_edi_shapes_import import shape


@pytest.fixture
def ready(session: Session, world: World) -> World:
    set_edi(world, "ACMEEDI")
    i = world.items
    make_po(session, world, "DAL-PO-000501", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 60, "0.10"),
                                              (3, i["MILK"], 50, "0.80")])
    make_po(session, world, "DAL-PO-000502", [(1, i["BOLT"], 30, "0.10"), (2, i["MILK"], 12, "0.80")])
    make_po(session, world, "DAL-PO-000601", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 100, "0.10"),
                                              (3, i["MILK"], 50, "0.80")])
    session.commit()
    return world


def test_check_reads_bom_utf16_wrapped_and_batched_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, says in [
        ("x12_856_sopi_sscc_bom.x12", "x12 856 from ACMEEDI to DEPOTDAL, control 000002001, 1 message(s)"),
        ("edifact_ordrsp_bom.edi", "edifact ORDRSP from ACMEEDI to DEPOTDAL, control 5506, 1 message(s)"),
        ("x12_855_utf16.x12", "warning: the file came as UTF-16"),
        ("x12_856_wrapped_80_columns.x12", "warning: the file is wrapped at 80 columns"),
        ("x12_856_two_interchanges.x12", "interchange 2 of 2: x12 856 from ACMEEDI"),
    ]:
        f = tmp_path / name
        f.write_bytes(shape(name))
        assert run(["edi", "check", str(f)]) == 0, name
        out = capsys.readouterr()
        assert says in out.out and out.err == "", (name, out)


@pytest.mark.parametrize("name, reason", [
    ("x12_empty.x12", "the file is empty"),
    ("not_edi_pdf_by_mistake.x12", "not an EDI file"),
    ("x12_855_nul_in_segment_tag.x12", "is not a segment tag (damaged file?)"),
    ("edifact_ordrsp_unt_count_wrong.edi", "UNT01 says 21 segments"),
])
def test_check_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str) -> None:
    f = tmp_path / name
    f.write_bytes(shape(name))
    assert run(["edi", "check", str(f)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("depot: error: ") and reason in err[0]


def test_import_and_poll_bom_files_with_997s(ready: World, db_path: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "asn.x12"
    f.write_bytes(shape("x12_856_sopi_sscc_bom.x12"))
    assert run(["--db", str(db_path), "edi", "import", str(f), "--user", "alice"]) == 0
    assert "856 for PO DAL-PO-000501: processed -> expected receipt DAL-ASN-" in capsys.readouterr().out
    inbound = tmp_path / "in"
    inbound.mkdir()
    (inbound / "a_ordrsp_bom.edi").write_bytes(shape("edifact_ordrsp_bom.edi"))
    (inbound / "b_prf_items.x12").write_bytes(b"\xef\xbb\xbf" + shape("x12_856_prf_inside_each_item_two_pos.x12"))
    (inbound / "c_utf16.x12").write_bytes(shape("x12_855_utf16.x12"))
    assert run(["--db", str(db_path), "edi", "poll", "--inbound", str(inbound), "--user", "alice"]) == 0, \
        capsys.readouterr()
    out = capsys.readouterr().out
    assert "3 file(s) imported, 0 refused" in out
    acks = sorted((tmp_path / "outbound").iterdir())
    # the X12 files (BOM, UTF-16) are acknowledged; EDIFACT gets no 997
    assert sorted(x12.parse(p.read_bytes()).receiver_id for p in acks) == ["ACMEEDI", "ACMEEDI"]
