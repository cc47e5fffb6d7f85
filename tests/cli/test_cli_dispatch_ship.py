"""The shipping desk on the command line, end to end on a real database file against the carrier
sandbox: pack from a file of scans (a refused scan reported, the rest packed), rate, buy the label,
confirm, the packing slip and carton labels and the manifest (PDF parsed back, CSV read back), and
bulk slips that resume after a failure."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.cli import run
from app.services.carriers.sandbox.server import Sandbox
from app.services.dispatch.cartonize import save_carton_type
from app.services.dispatch.documents import print_slips
from app.services.settings import Settings
from tests.factories import World
from tests.services.ship_helpers import carrier_accounts, picked_by_wave, ship_world


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_pack_rate_label_ship_and_the_papers(capsys: pytest.CaptureFixture[str], db_path: Path, engine: Engine,
                                             session: Session, world: World, sandbox: Sandbox, settings: Settings,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    sw = ship_world(session, world)
    carrier_accounts(session, sw)
    save_carton_type(session, world.actors["root"], "M", length_mm=400, width_mm=300, height_mm=250,
                     max_weight_g=15000, tare_g=400)
    so = picked_by_wave(session, sw, {"WIDGET": 10, "BOLT": 6}, stock={"WIDGET": 10, "BOLT": 10})
    number = so.number
    session.commit()
    code, out, err = _run(capsys, db_path, "pack", "start", number, "--user", "dan")
    assert code == 0, err
    shipment = out.split()[0]
    scans = tmp_path / "scans.txt"
    scans.write_text("OPEN M\n*10\nWIDGET\nMILK\n*6\nBOLT\nBOLT\nLAST 2.4 kg\n", encoding="utf-8")
    code, out, err = _run(capsys, db_path, "pack", "scans", shipment, str(scans), "--user", "dan")
    assert code == 1, out  # two refusals reported, the rest packed
    assert "refused: scan: MILK is not on order" in out and "more than was picked" in out
    assert f"{shipment} packed in 1 carton" in out
    code, out, err = _run(capsys, db_path, "rate", shipment, "--user", "dan", "--json")
    assert code == 0, err
    rated = json.loads(out)
    assert {q["carrier_code"] for q in rated["quotes"]} == {"SANDBOX", "UPS"} and rated["chosen"]
    label_file = tmp_path / "label.pdf"
    code, out, err = _run(capsys, db_path, "label", shipment, "--user", "dan", "--out", str(label_file))
    assert code == 0, err
    assert label_file.read_bytes()[:4] == b"%PDF"  # the sandbox carrier issues PDF labels
    code, out, err = _run(capsys, db_path, "ship", shipment, "--user", "dan", "--json")
    assert code == 0, err
    shipped = json.loads(out)
    assert shipped["units"] == 16 and shipped["tracking_number"]
    # the packing slip: ordered, shipped, backordered, parsed back from the PDF
    slip = tmp_path / "slip.pdf"
    code, out, err = _run(capsys, db_path, "print", "packing-slip", shipment, "--out", str(slip))
    assert code == 0, err
    text = _text(slip.read_bytes())
    assert "PACKING SLIP" in text and shipment in text and number in text and "WIDGET" in text
    assert "16 units in this shipment" in text and "nothing backordered" in text
    assert shipped["tracking_number"] in text
    cartons = tmp_path / "cartons.pdf"
    code, out, err = _run(capsys, db_path, "print", "carton-labels", shipment, "--out", str(cartons))
    assert code == 0 and "(00)00614141" in _text(cartons.read_bytes())
    # the day's manifest for the carrier chosen, PDF and CSV, then closed
    carrier = rated["chosen"].split(":")[0]
    code, out, err = _run(capsys, db_path, "manifest", "build", "--carrier", carrier, "--user", "dan", "--json")
    assert code == 0, err
    man = json.loads(out)
    assert man["shipments"] == 1 and man["cartons"] == 1 and man["weight_g"] == 2400
    pdf, csv_file = tmp_path / "m.pdf", tmp_path / "m.csv"
    code, out, err = _run(capsys, db_path, "manifest", "print", man["number"], "--pdf", str(pdf), "--csv", str(csv_file))
    assert code == 0, err
    assert shipment in _text(pdf.read_bytes()) and "Driver" in _text(pdf.read_bytes())
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert [r["shipment"] for r in rows] == [shipment] and rows[0]["tracking_number"] == shipped["tracking_number"]
    code, out, err = _run(capsys, db_path, "manifest", "close", man["number"], "--user", "dan")
    assert code == 0 and "closed" in out
    code, out, err = _run(capsys, db_path, "manifest", "close", man["number"], "--user", "dan")
    assert code != 0 and "closed already" in err and "Traceback" not in err
    # bad input: one line, no traceback
    code, out, err = _run(capsys, db_path, "ship", "DAL-SH-999999", "--user", "dan")
    assert code != 0 and "Traceback" not in err and "DAL-SH-999999" in err
    # bulk slips: a slip that cannot be written is named, a second run resumes and skips the done ones
    out_dir = tmp_path / "slips"
    res = print_slips(engine, [shipment, "DAL-SH-404"], out_dir)
    assert [p.name for p in res.written] == [f"{shipment}.pdf"] and "DAL-SH-404" in res.failed
    stamp = (out_dir / f"{shipment}.pdf").stat().st_mtime_ns
    again = print_slips(engine, [shipment], out_dir)
    assert again.written and (out_dir / f"{shipment}.pdf").stat().st_mtime_ns == stamp
