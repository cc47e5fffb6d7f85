"""The PO PDF, parsed back: number, lines, totals, ship-to per line, 'page x of y'."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.services import masterdata as md
from app.services.buying.po_documents import po_pdf
from app.services.buying.purchasing import LineInput, create_po
from tests.factories import World


def _text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def test_multi_page_po_has_every_line_totals_and_page_numbers(session: Session, world: World) -> None:
    for i in range(1, 81):
        it = md.create_item(session, f"P{i:03d}", f"Part number {i}", standard_cost="2.5000")
        md.link_item_supplier(session, it, world.supplier, contract_price="2.5000", supplier_part=f"AC-{i:03d}")
    po = create_po(session, world.actors["alice"], "ACME", "DAL1",
                   [LineInput(sku=f"P{i:03d}", qty=i) for i in range(1, 81)], notes="Dock 3 only")
    name, pdf = po_pdf(session, po.number)
    assert name == f"{po.number}.pdf" and pdf.startswith(b"%PDF")
    pages = _text(pdf)
    n = len(pages)
    assert n >= 2
    for i, page in enumerate(pages, 1):
        assert f"page {i} of {n}" in page
    everything = "\n".join(pages)
    assert po.number in pages[0] and "PURCHASE ORDER" in pages[0]
    assert "Acme Industrial Supply (ACME)" in pages[0] and "Dallas DC" in pages[0]
    for i in (1, 40, 80):
        assert f"P{i:03d}" in everything and f"AC-{i:03d}" in everything
    # the header row repeats on every page that carries lines
    assert all("Supplier part" in p for p in pages if re.search(r"\bP\d{3}\b", p))
    # total = 2.5 * (1 + ... + 80) = 8,100.00; total quantity 3,240
    assert re.search(r"Total \(USD\)\s*8,100\.00", everything)
    assert re.search(r"Total quantity\s*3,240", everything)
    assert "NET30" in everything and "Dock 3 only" in everything
    assert re.search(r"P080\s+Part number 80\s+AC-080\s+80\s+EA\s+2\.50\s+200\.00", everything)  # extension of line 80 = 80 x 2.50


def test_consolidated_po_shows_ship_to_per_line(session: Session, world: World) -> None:
    world.supplier.allows_consolidation = True
    po = create_po(session, world.actors["alice"], "ACME", "DAL1", [
        LineInput(sku="WIDGET", qty=24), LineInput(sku="BOLT", qty=100, price="0.1", ship_to_warehouse_id=world.wh_hou.id)])
    _name, pdf = po_pdf(session, po.id)
    page = _text(pdf)[0]
    assert "Ship to (per line)" in page
    assert "DAL1: Dallas DC" in page and "HOU1: Houston DC" in page
    assert re.search(r"BOLT.*\n?.*HOU1", page)
    assert re.search(r"Total \(USD\)\s*40\.00", page)  # 24 x 1.25 + 100 x 0.10
