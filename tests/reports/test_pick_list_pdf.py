"""The pick list PDF from plain data, parsed back: page x of y over many pages, a discrete list
starting each order on its own page, quantities in the picking unit."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from app.services.dispatch.picklist import units_text
from reports.pick_list import PickListDoc, PickListRow, ToteRow, render_pick_list


def _rows(n: int, orders: list[str]) -> list[PickListRow]:
    return [PickListRow(i + 1, f"A-{i // 40 + 1:03d}-{i % 40 + 1:02d}-1", f"SKU-{i:04d}", f"Thing number {i}",
                        f"0001234567{i:04d}", f"{i + 1} EA", i + 1, "", None, 0, orders[i % len(orders)])
            for i in range(n)]


def test_discrete_list_puts_each_order_on_its_own_pages_with_page_x_of_y() -> None:
    orders = ["DAL-SO-000001", "DAL-SO-000002"]
    doc = PickListDoc("DAL-WV-000009", "DAL1", "UPS", "Sat 16:00", "discrete", dt.datetime(2026, 12, 5, 9, 0),
                      _rows(60, orders), [ToteRow(0, o, f"Customer {o[-1]}", 30) for o in orders])
    reader = PdfReader(io.BytesIO(render_pick_list(doc)))
    pages = [p.extract_text() for p in reader.pages]
    total = len(pages)
    assert total >= 4
    assert all(f"page {n} of {total}" in t for n, t in enumerate(pages, 1))
    firsts = [n for n, t in enumerate(pages) if "(1 of 2)" in t]
    seconds = [n for n, t in enumerate(pages) if "(2 of 2)" in t]
    assert firsts and seconds and max(firsts) < min(seconds)
    # no page mixes the two orders
    assert not any("DAL-SO-000001" in t and "DAL-SO-000002" in t for t in pages)


def test_quantities_read_in_the_picking_unit() -> None:
    assert units_text(27, "EA", [("CS", 12), ("PL", 240)]) == "2 CS + 3 EA"
    assert units_text(480, "EA", [("CS", 12), ("PL", 240)]) == "2 PL"
    assert units_text(5, "EA", [("CS", 12)]) == "5 EA"
    assert units_text(0, "EA", []) == "0 EA"


def test_barcodes_draw_the_bars_of_reportlabs_code128() -> None:
    from reportlab.graphics.barcode.code128 import Code128

    from reports.pick_list import _Barcode

    for value in ("AMB-001-06-2", "00012345678905", "FAS-00015"):
        ref = Code128(value, humanReadable=False, quiet=False, barWidth=1)
        bars: list[tuple[float, float]] = []
        ref.rect = lambda x, _y, w, _h, bars=bars: bars.append((float(x), float(w)))  # type: ignore[method-assign]
        ref.draw()
        ours, x = [], 0
        for n, bar in _Barcode(value, 10.0)._runs:
            if bar:
                ours.append((float(x), float(n)))
            x += n
        assert ours == bars and len(bars) > 20
