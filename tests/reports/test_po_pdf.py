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
    # extension of line 80 = 80 x 2.50, the price per EA
    assert re.search(r"P080\s+Part number 80\s+AC-080\s+80 EA\s+2\.50\s+EA\s+200\.00", everything)


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


def test_money_reads_as_the_supplier_adds_it_up(session: Session, world: World) -> None:
    """The issue's PO: 36.5760 beside 10.48, an extension of 1,755.6480 and a total with four decimals.
    Prices now share one number of decimals, extensions and the total have the currency's two, and the
    printed extensions add up to the printed total; the supplier's city, state and ZIP, the buyer's
    contact and who approved it are on the page."""
    from decimal import Decimal

    from app.models.parties import Supplier
    from app.models.users import User
    from app.services.buying import approvals
    from app.services.buying.purchasing import mark_approved, submit

    sup = session.get(Supplier, world.supplier.id)
    assert sup is not None
    sup.address = "7172 Industrial Way\nDenver, CO 80216"
    alice = session.get(User, world.actors["alice"].user_id)
    assert alice is not None
    alice.full_name, alice.email = "Alice Buyer", "alice@depot.example"
    po = create_po(session, world.actors["alice"], "ACME", "DAL1",
                   [LineInput(sku="DRILL", qty=48, price="36.576"), LineInput(sku="BOLT", qty=7, price="10.48"),
                    LineInput(sku="WIDGET", qty=3, price="0.3333")])
    (page,) = _text(po_pdf(session, po.number)[1])
    assert "NOT APPROVED (draft): not an order; do not ship against it" in page
    approvals.ensure_default_rules(session, world.ho.id)
    submit(session, world.actors["alice"], po.id)
    if po.status == "pending_approval":
        approvals.approve(session, world.actors["bob"], po.id)
    if po.status == "pending_approval":
        approvals.approve(session, world.actors["mike"], po.id)
    if po.status != "approved":
        mark_approved(session, world.actors["alice"], po)
    (page,) = _text(po_pdf(session, po.number)[1])
    pattern = r"\b(DRILL|BOLT|WIDGET)\b.*?([\d,]+) EA\s+([\d,.]+)\s+EA\s+([\d,.]+)"
    rows = {m[0]: m for m in re.findall(pattern, page, re.S)}
    assert rows["DRILL"][2:] == ("36.5760", "1,755.65")  # 48 x 36.576 = 1,755.648
    assert rows["BOLT"][2:] == ("10.4800", "73.36")
    assert rows["WIDGET"][2:] == ("0.3333", "1.00")  # 0.9999
    printed = sum(Decimal(r[3].replace(",", "")) for r in rows.values())
    total = re.search(r"Total \(USD\)\s*([\d,]+\.\d+)", page)
    assert total and total.group(1) == "1,830.01" and Decimal(total.group(1).replace(",", "")) == printed
    assert "Price (USD)" in page and "Per" in page
    assert "7172 Industrial Way" in page and "Denver, CO 80216" in page
    assert "Buyer: Alice Buyer · alice@depot.example" in page
    assert re.search(r"Approved by \w+ \(level 1, approver\)", page) or "Approved: within the buyer's authority" in page
