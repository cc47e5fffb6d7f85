"""Labels and the putaway list: real PDFs parsed back, and the barcodes decoded by an independent
reader (zxing-cpp) and fed back into our own scan field parser."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.services.errors import NotFound
from app.services.receiving.documents import (
    bin_labels,
    item_labels,
    labels_pdf,
    putaway_list_pdf,
    receipt_labels,
)
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.scan import parse_scan
from reports.labels import barcode_modules, gs1, receiving_label
from tests.factories import World
from tests.services._receiving_world import make_expected


def _decode(value: str) -> zxingcpp.Barcode:
    """Rasterise reportlab's bar pattern (3 px per module, quiet zones) and read it back."""
    row = [255] * 40
    for ch in barcode_modules(value):
        row += [0 if ch.isupper() else 255] * (" ABCD".index(ch.upper()) * 3)
    row += [255] * 40
    (found,) = zxingcpp.read_barcodes(np.tile(np.array(row, dtype=np.uint8), (50, 1)))
    return found


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_gs1_receiving_label_decodes_and_scans_back_to_the_same_data() -> None:
    lab = receiving_label("DAL-GR-000001", "MILK", "UHT milk", 24, gtin="4006381333931", lot="L-7",
                          expiry=dt.date(2027, 1, 31))
    assert lab.human == "(01)04006381333931(17)270131(10)L-7(37)24"
    found = _decode(lab.barcode)
    assert found.symbology_identifier == "]C1" and found.text == lab.human
    scan = parse_scan("]C1" + found.bytes.decode())  # exactly what a scanner sends
    assert (scan.gtin, scan.lot, scan.expiry, scan.count) == ("04006381333931", "L-7", dt.date(2027, 1, 31), 24)


def test_variable_fields_are_separated_by_fnc1_only_between_fields() -> None:
    value, human = gs1([("10", "A1"), ("01", "00012345678905"), ("21", "S9")])
    assert value == "\xf1" + "0100012345678905" + "10A1" + "\xf1" + "21S9"
    assert human == "(01)00012345678905(10)A1(21)S9"
    assert _decode(value).bytes == b"0100012345678905" + b"10A1\x1d21S9"


def test_bin_and_item_labels_pdf(session: Session, world: World) -> None:
    labels = bin_labels(session, "dal1")
    assert [lab.title for lab in labels] == ["A-01", "A-02", "A-03", "C-01"]
    assert _decode(labels[0].barcode).text == "A-01"
    items = item_labels(session, ["WIDGET", "BOLT"], copies=8)
    pdf = labels_pdf(items, "Item labels")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # 16 labels, 14 a sheet
    text = _text(pdf)
    assert "(01)00012345678905" in text and text.count("BOLT") >= 8
    with pytest.raises(NotFound, match="NOPE"):
        item_labels(session, ["WIDGET", "NOPE"])


def test_receipt_labels_and_putaway_list(session: Session, world: World) -> None:
    er = make_expected(session, world, [("WIDGET", 24), ("DRILL", 2)])
    posted = post_receipt(session, world.actors["rita"], er.id, [
        ReceiveLine(world.items["WIDGET"].id, 24), ReceiveLine(world.items["DRILL"].id, 2, serials=("X1", "X2"))])
    labels = receipt_labels(session, posted.number)
    assert [(lab.title, lab.lines[0]) for lab in labels] == [
        ("WIDGET", f"{posted.number}  qty 24"), ("DRILL", f"{posted.number}  qty 1"), ("DRILL", f"{posted.number}  qty 1")]
    assert "to A-01" in labels[0].lines[2] and "SN X2" in labels[2].lines[2]
    pdf = putaway_list_pdf(session, "DAL1", receipt_number=posted.number)
    text = _text(pdf)
    assert "Putaway list" in text and posted.number in text and "WIDGET" in text and "A-01" in text
    assert "page 1 of 1" in text


def _labels_read_from_pdf(pdf: bytes) -> list[str]:
    """Render every sheet as a printer would (200 dpi), cut it into its 2 x 7 label slots and decode
    the barcode of each slot, in print order (blank slots are skipped)."""
    import pypdfium2

    dpi = 200
    out: list[str] = []
    doc = pypdfium2.PdfDocument(pdf)
    for n in range(len(doc)):
        img = doc[n].render(scale=dpi / 72, grayscale=True).to_numpy().squeeze()
        h, w = img.shape
        lw, lh = round(99.1 / 25.4 * dpi), round(38.1 / 25.4 * dpi)
        x0, y0 = (w - 2 * lw) // 2, (h - 7 * lh) // 2
        for slot in range(14):
            r, c = divmod(slot, 2)
            cell = img[y0 + r * lh:y0 + (r + 1) * lh, x0 + c * lw:x0 + (c + 1) * lw]
            found = zxingcpp.read_barcodes(cell)
            if found:
                out.append(found[0].text)
    return out


def test_each_receiving_label_carries_its_own_putaway_tasks_quantity(session: Session, world: World) -> None:
    """168 units (7 cases of 24) put away as several tasks: every label says, and encodes in GS1 (37),
    the quantity of its own task, and together they add up to what was received."""
    from sqlalchemy import text

    from app.models.receiving import PutawayTask

    widget = world.items["WIDGET"]
    session.execute(text("UPDATE item_uom SET factor = 24 WHERE item_id = :i"), {"i": widget.id})
    for key in ("DAL1-A-01", "DAL1-A-02", "DAL1-A-03"):
        world.bins[key].capacity_volume_cm3 = 67 * 32
    session.flush()
    er = make_expected(session, world, [("WIDGET", 168)])
    posted = post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(widget.id, 168)])
    tasks = [session.get(PutawayTask, t) for t in posted.putaway_task_ids]
    assert len(tasks) > 1
    labels = receipt_labels(session, posted.number)
    assert [lab.human for lab in labels] == [f"(01)00012345678905(37){t.qty}" for t in tasks]  # type: ignore[union-attr]
    pdf = labels_pdf(labels, "labels")
    decoded = _labels_read_from_pdf(pdf)
    qtys = [int(t.split("(37)")[1]) for t in decoded]
    assert qtys == [t.qty for t in tasks] and sum(qtys) == 168  # type: ignore[union-attr]
    assert all(q % 24 == 0 for q in qtys)
    text_ = _text(pdf)
    for t in tasks:
        assert f"{posted.number}  qty {t.qty}" in text_  # type: ignore[union-attr]


def test_a_label_for_a_task_already_put_away_is_refused(session: Session, world: World) -> None:
    from app.models.receiving import PutawayTask
    from app.services.errors import Conflict
    from app.services.receiving.documents import task_labels
    from app.services.receiving.putaway import confirm_putaway

    er = make_expected(session, world, [("BOLT", 5)])
    posted = post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])
    (tid,) = posted.putaway_task_ids
    (lab,) = task_labels(session, [tid])
    assert "qty 5" in lab.lines[0]
    confirm_putaway(session, world.actors["rita"], [(tid, "A-02")])
    with pytest.raises(Conflict, match=r"task of 5 x BOLT is done \(put away in A-02\): there is nothing on the dock"):
        task_labels(session, [tid])
    assert session.get(PutawayTask, tid).status == "done"  # type: ignore[union-attr]
