"""Invoices from shipped lines: numbers, tax and its rounding, release on delivery or shipment,
refusals (unshipped, already invoiced, no tax rate) that take no number, credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.docs_common import NumberSeries
from app.models.receivables import ReceivableEntry
from app.services.billing import credits, invoices, tax
from app.services.billing import receivables as ar
from app.services.billing.shipped import Billable
from app.services.errors import Conflict, PermissionDenied, ValidationError
from app.services.events import ShipmentDelivered, ShipmentPickedUp, emit
from tests.factories import World
from tests.services.billing_helpers import TODAY, billed_customer, deliver, people, rates, settled, ship


def _lines(session: Session, inv: Invoice) -> list[tuple[str, int, Decimal, Decimal, Decimal]]:
    return [(ln.sku, ln.qty, ln.unit_price, ln.extension, ln.tax_amount) for ln in session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.line_no))]


def _ledger(session: Session, doc: str) -> list[tuple[str, Decimal]]:
    return [(e.kind, e.amount) for e in session.scalars(select(ReceivableEntry).where(ReceivableEntry.doc_number == doc)
                                                          .order_by(ReceivableEntry.created_at))]


def _taken(session: Session, key: str) -> int:
    return session.scalar(select(NumberSeries.next_value).where(NumberSeries.doc_type == key)) or 1


def test_a_shipment_is_invoiced_pending_then_released_on_proof_of_delivery(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    tax.set_item_tax_class(session, world.items["BOLT"].id, "reduced")
    cust = billed_customer(session, "PODCO")
    sh = ship(session, world, p["clara"], cust, {"WIDGET": 7, "BOLT": 3})
    inv = invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    assert (inv.number, inv.status, inv.tracking_number, inv.terms) == ("DAL-INV-000001", "pending", "1Z999", "NET30")
    assert inv.bill_to.startswith("Podco Ltd\nAccounts payable")
    lines = _lines(session, inv)
    assert [(sku, q) for sku, q, *_ in lines] == [("WIDGET", 7), ("BOLT", 3)]
    # each extension is qty x price rounded to cents; each line's tax is rounded on its own
    for _sku, q, price, ext, _tax in lines:
        assert ext == (q * price).quantize(Decimal("0.01"))
    assert [t for *_x, t in lines] == [(lines[0][3] * Decimal("0.0825")).quantize(Decimal("0.01")),
                                       (lines[1][3] * Decimal("0.05")).quantize(Decimal("0.01"))]
    taxes = list(session.scalars(select(InvoiceTax).where(InvoiceTax.invoice_id == inv.id)
                                 .order_by(InvoiceTax.rate_pct.desc())))
    assert [(t.name, t.rate_pct) for t in taxes] == [("Sales tax 8.25%", Decimal("8.2500")), ("Reduced 5%", Decimal("5.0000"))]
    assert inv.subtotal == lines[0][3] + lines[1][3] and inv.tax_total == lines[0][4] + lines[1][4]
    assert inv.total == inv.subtotal + inv.tax_total
    assert _ledger(session, inv.number) == []  # pending: not owed yet
    # a second invoice of the same shipment is refused, and takes no number
    with pytest.raises(Conflict, match=r"shipment DAL-SH-\d+ has nothing left to invoice"):
        invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    assert _taken(session, "INV") == 2
    # delivered with proof: released with the POD reference, into the ledger, due by the terms
    deliver(session, sh)
    emit(session, ShipmentDelivered(None, shipment=sh, event=None, at=sh.pod_at, pod=True))
    settled(session)
    assert inv.status == "released" and inv.invoice_date == dt.date(2026, 12, 3)
    assert inv.due_date == dt.date(2027, 1, 2)
    assert inv.pod_ref == "signed by J. SMITH; delivered 2026-12-03 14:05 UTC; ref POD-7781"
    assert _ledger(session, inv.number) == [("invoice", inv.total)]
    with pytest.raises(Conflict, match="invoice DAL-INV-000001 is released; only a pending invoice can be released"):
        invoices.release(session, p["clara"], inv.number)


def test_refusals_unshipped_already_invoiced_no_rate_and_no_right_take_no_number(session: Session, world: World) -> None:
    p = people(session, world)
    cust = billed_customer(session, "REFUSE")
    sh = ship(session, world, p["clara"], cust, {"WIDGET": 5, "BOLT": 2}, shipped={"WIDGET": 2})
    with pytest.raises(Conflict, match="no tax rate for zone STD and tax class standard .customer REFUSE."):
        invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    rates(session)
    bolt = session.scalars(select(invoices.SalesOrderLine).where(invoices.SalesOrderLine.order_id == sh.sales_order_id,
                                                                  invoices.SalesOrderLine.item_id == world.items["BOLT"].id)).one()
    widget = session.scalars(select(invoices.SalesOrderLine).where(invoices.SalesOrderLine.order_id == sh.sales_order_id,
                                                                    invoices.SalesOrderLine.item_id == world.items["WIDGET"].id)).one()
    with pytest.raises(Conflict, match=r"line 2 of DAL-SO-\d+ has not shipped: it cannot be invoiced"):
        invoices.invoice_shipment(session, p["clara"], sh.number, billables=[Billable(bolt.id, None, bolt.item_id, 2)])
    with pytest.raises(Conflict, match=r"line 1 of DAL-SO-\d+ is already invoiced \(0 of 2 shipped units billed; 3 more asked\)"):
        invoices.invoice_shipment(session, p["clara"], sh.number, billables=[Billable(widget.id, None, widget.item_id, 3)])
    with pytest.raises(PermissionDenied):
        invoices.invoice_shipment(session, world.actors["wes"], sh.number)
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0 and _taken(session, "INV") == 1
    inv = invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    assert [(s, q) for s, q, *_ in _lines(session, inv)] == [("WIDGET", 2)]
    # the rest ships later: only the new units are billed, on the next number
    widget.qty_shipped, bolt.qty_shipped = 5, 2
    session.flush()
    inv2 = invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    assert inv2.number == "DAL-INV-000002"
    assert [(s, q) for s, q, *_ in _lines(session, inv2)] == [("WIDGET", 3), ("BOLT", 2)]
    # a cancelled pending invoice keeps its number; its lines may be billed again
    invoices.cancel(session, p["clara"], inv2.number, "wrong price list")
    assert inv2.status == "cancelled"
    assert invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY).number == "DAL-INV-000003"


def test_customers_billed_on_shipment_and_rounding_per_invoice(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "SHIPCO", on="shipment", rounding="invoice", terms="NET15")
    sh = ship(session, world, p["clara"], cust, {"BOLT": 1, "WIDGET": 1})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
    assert inv.status == "released" and inv.due_date == inv.invoice_date + dt.timedelta(days=15)
    (t,) = session.scalars(select(InvoiceTax).where(InvoiceTax.invoice_id == inv.id))
    per_line = sum((x for *_r, x in _lines(session, inv)), Decimal(0))
    assert t.amount == (inv.subtotal * Decimal("0.0825")).quantize(Decimal("0.01"))
    assert t.rounding_diff == per_line - t.amount
    # a second pickup event (another workstation saw it too) makes nothing new
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_credit_notes_for_a_price_correction_are_bounded_and_reduce_what_is_open(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "CREDCO", on="shipment")
    sh = ship(session, world, p["clara"], cust, {"WIDGET": 10})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
    price = _lines(session, inv)[0][2]
    cn = credits.credit_price_correction(session, p["clara"], inv.number, {1: price - Decimal("0.50")},
                                         "agreed discount", today=TODAY)
    assert (cn.number, cn.kind, cn.status, cn.credits_number) == ("DAL-CN-000001", "credit", "released", inv.number)
    assert cn.subtotal == Decimal("5.00") and cn.tax_total == Decimal("0.41")
    assert _ledger(session, inv.number) == [("invoice", inv.total), ("credit", -Decimal("5.41"))]
    with pytest.raises(ValidationError, match="is not below the billed"):
        credits.credit_price_correction(session, p["clara"], inv.number, {1: price}, "x")
    with pytest.raises(ValidationError, match="invoice DAL-INV-000001 has no line 9"):
        credits.credit_price_correction(session, p["clara"], inv.number, {9: "0"}, "x")
    with pytest.raises(Conflict, match="more than is left to credit on invoice DAL-INV-000001"):
        credits.credit_price_correction(session, p["clara"], inv.number, {1: "0"}, "everything again")
    assert _taken(session, "CN") == 2
    open_ = ar.open_items(session, cust.id, today=TODAY)
    assert [(o.doc_number, o.open) for o in open_] == [(inv.number, inv.total - Decimal("5.41"))]


def test_a_returns_credit_request_becomes_a_credit_note_once(session: Session, world: World) -> None:
    from app.services.inventory.rma import (
        Disposition,
        Inspection,
        RmaLineSpec,
        authorise_rma,
        dispose_rma,
        inspect_rma,
        receive_rma,
        rma_lines,
    )

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "RETCO", on="shipment")
    sh = ship(session, world, p["clara"], cust, {"BOLT": 100})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
    rita = world.actors["rita"]
    rma = authorise_rma(session, rita, cust.id, world.wh_dal.id,
                        [RmaLineSpec(world.items["BOLT"].id, 10)], sales_order_id=sh.sales_order_id)
    (ln,) = rma_lines(session, rma.id)
    receive_rma(session, rita, rma.id)
    inspect_rma(session, rita, rma.id, {ln.id: Inspection("defective")})
    dispose_rma(session, rita, rma.id, {ln.id: Disposition("rtv")})
    cn = credits.credit_from_return(session, p["clara"], rma.number, today=TODAY)
    price = _lines(session, inv)[0][2]
    assert cn.credits_number == inv.number and cn.subtotal == (10 * price).quantize(Decimal("0.01"))
    assert cn.tax_total == (cn.subtotal * Decimal("0.0825")).quantize(Decimal("0.01"))
    assert cn.reason.startswith(f"Return {rma.number}")
    assert _ledger(session, inv.number)[-1] == ("credit", -cn.total)
    with pytest.raises(Conflict, match="is already credited by DAL-CN-000001"):
        credits.credit_from_return(session, p["clara"], rma.number, today=TODAY)


def test_edi_customers_get_an_810_or_invoic_written_last(session: Session, world: World, tmp_path: object) -> None:
    from pathlib import Path

    from app.services.billing import edi_out

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "EDICO", on="shipment")
    cust.edi_format, cust.edi_qualifier, cust.edi_id = "x12", "ZZ", "EDICO01"
    euro = billed_customer(session, "EURO", on="shipment")
    euro.edi_format, euro.edi_qualifier, euro.edi_id = "edifact", "14", "4012345000009"
    for c in (cust, euro):
        emit(session, ShipmentPickedUp(None, shipment=ship(session, world, p["clara"], c, {"WIDGET": 3}), event=None))
        settled(session)
    assert [i.number for i in edi_out.pending(session)] == ["DAL-INV-000001", "DAL-INV-000002"]
    out = Path(str(tmp_path)) / "edi"
    with pytest.raises(ValidationError, match="is not a folder"):
        edi_out.send_pending(session, p["clara"], out)
    out.mkdir()
    run = edi_out.send_pending(session, p["clara"], out)
    assert run.numbers == ["DAL-INV-000001", "DAL-INV-000002"] and edi_out.pending(session) == []
    x = next(f for f in run.written if f.suffix == ".x12")
    text = x.read_text()
    assert "ST*810*" in text and "BIG*" in text and "*DAL-INV-000001*" in text and "TDS*" in text and "EDICO01" in text
    e = next(f for f in run.written if f.suffix == ".edi").read_text()
    assert "UNH+" in e and "INVOIC:D:96A:UN" in e and "BGM+380+DAL-INV-000002" in e and "MOA+77:" in e


def test_dispatch_ship_confirmation_invoices_its_shipment_lines(session: Session, world: World) -> None:
    """Through Dispatch's real confirmation: the invoice bills the shipment's own lines (at the price
    they shipped at), pending for a customer billed on delivery; a second confirmation of the rest
    of the order bills only its own lines."""
    from app.services.billing.profile import set_billing
    from app.services.dispatch.confirm import confirm_shipment
    from tests.services.ship_helpers import packed_shipment, picked_order, ship_world

    sw = ship_world(session, world)
    rates(session)
    set_billing(session, None, ar.customer_by(session, "SHIPCO"), invoice_on="delivery")
    so = picked_order(session, sw, {"WIDGET": 10, "BOLT": 20})
    first = packed_shipment(session, sw, so, {"WIDGET": 6})
    confirm_shipment(session, sw.people["dan"], first.id)
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == first.id)).one()
    lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).all()
    assert inv.status == "pending" and [(ln.sku, ln.qty) for ln in lines] == [("WIDGET", 6)]
    assert all(ln.shipment_line_id is not None for ln in lines)
    assert inv.tracking_number == first.tracking_number != ""
    second = packed_shipment(session, sw, so, {"WIDGET": 4, "BOLT": 20})
    confirm_shipment(session, sw.people["dan"], second.id)
    inv2 = session.scalars(select(Invoice).where(Invoice.shipment_id == second.id)).one()
    assert sorted((ln.sku, ln.qty) for ln in session.scalars(select(InvoiceLine).where(
        InvoiceLine.invoice_id == inv2.id))) == [("BOLT", 20), ("WIDGET", 4)]
    with pytest.raises(Conflict, match="has nothing left to invoice"):
        invoices.invoice_shipment(session, sw.people["clara"], first.number)


def test_a_logo_that_is_not_an_image_stops_the_pdf_with_where_to_fix_it(session: Session, world: World) -> None:
    import base64

    from app.models.org import COMPANY_ID, Company
    from app.services.billing.documents import invoice_pdf
    from app.services.org.company import set_company

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "LOGOCO", on="shipment")
    sh = ship(session, world, p["clara"], cust, {"BOLT": 1})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
    set_company(session, world.actors["root"], name="Depot Wholesale", address="1 Main St")
    assert invoice_pdf(session, inv.number)[1].startswith(b"%PDF")
    company = session.get(Company, COMPANY_ID)
    assert company is not None
    company.logo_b64 = base64.b64encode(b"GIF89a this is not a picture").decode()  # as a damaged replica could
    session.flush()
    with pytest.raises(ValidationError, match=r"company logo: is not a readable PNG or JPEG image: replace it in "
                                              r"Settings > Organisation \(nothing was printed\)"):
        invoice_pdf(session, inv.number)


def test_dispatch_documents_are_in_the_print_queue_beside_the_invoices(session: Session, world: World) -> None:
    from app.services import printing
    from app.services.dispatch.confirm import confirm_shipment
    from tests.services.ship_helpers import packed_shipment, picked_order, ship_world

    sw = ship_world(session, world)
    rates(session)
    so = picked_order(session, sw, {"WIDGET": 3})
    sh = packed_shipment(session, sw, so, {"WIDGET": 3})
    confirm_shipment(session, sw.people["dan"], sh.id)
    today = dt.date.today()
    queue = printing.queue(session, since=today - dt.timedelta(days=1), until=today + dt.timedelta(days=1))
    kinds = {(e.row.doc_type, e.row.ref) for e in queue}
    assert {("packing-slip", sh.number), ("carton-labels", sh.number)} <= kinds
    assert any(k == "invoice" for k, _r in kinds)  # pending (billed on delivery): nothing owed, no statement yet
    out = printing.produce(session, sw.people["clara"], "packing-slip", sh.number, channel="pdf", target="slip.pdf")
    assert out.pdf.startswith(b"%PDF") and not out.reprint
    assert printing.render(session, "packing-slip", sh.number).reprint


def test_a_released_invoice_moves_the_order_value_into_receivables_not_twice(session: Session, world: World) -> None:
    from app.services.sales import credit

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "EXPCO")
    sh = ship(session, world, p["clara"], cust, {"WIDGET": 10})
    before = credit.exposure(session, cust.id, today=TODAY)
    inv = invoices.invoice_shipment(session, p["clara"], sh.number, today=TODAY)
    assert credit.exposure(session, cust.id, today=TODAY).total == before.total  # pending: still an open order
    invoices.release(session, p["clara"], inv.id, today=TODAY)
    after = credit.exposure(session, cust.id, today=TODAY)
    assert after.open_orders == before.open_orders - inv.subtotal == 0
    assert after.receivables == inv.total and after.total == before.total + inv.tax_total


def test_the_edi_job_sends_waiting_invoices_only_when_a_folder_is_set(session: Session, world: World, engine: object,
                                                                      tmp_path: object) -> None:
    from pathlib import Path

    from app.services import jobs
    from app.services.billing import edi_out

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "JOBCO", on="shipment")
    cust.edi_format, cust.edi_qualifier, cust.edi_id = "x12", "ZZ", "JOBCO01"
    emit(session, ShipmentPickedUp(None, shipment=ship(session, world, p["clara"], cust, {"BOLT": 2}), event=None))
    settled(session)
    session.commit()
    job = jobs.get("billing.edi")
    assert not job.ready({}) and job.ready({"edi.outbound_dir": str(tmp_path)})
    run = job.run(engine, {"edi.outbound_dir": str(tmp_path)})  # type: ignore[arg-type]
    assert run.ok and run.changed and [f.name.split("-810-")[0] for f in run.written] == ["DAL-INV-000001"]
    assert Path(str(tmp_path)).joinpath(run.written[0].name).read_text().count("ST*810*") == 1
    again = job.run(engine, {"edi.outbound_dir": str(tmp_path)})  # type: ignore[arg-type]
    assert not again.changed  # sent once
    session.expire_all()
    assert edi_out.pending(session) == []
