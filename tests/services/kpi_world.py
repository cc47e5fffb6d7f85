"""A small hand-made data set for the KPI tests: every figure in tests/services/test_kpi.py is
worked out by hand from the rows below (see the comments there). Today is pinned at 2026-03-20."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.dispatch import PickLine, Wave
from app.models.docs_common import AuditEntry
from app.models.exceptions import ExceptionItem
from app.models.forecasting import ForecastRun
from app.models.inventory import CountLine, CountTask
from app.models.org import Location, Warehouse
from app.models.parties import Carrier
from app.models.purchasing import ExpectedReceipt, PurchaseOrder, PurchaseOrderLine
from app.models.receivables import ReceivableEntry
from app.models.receiving import Receipt
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.models.stock import StockMove
from tests.factories import World

TODAY = dt.date(2026, 3, 20)


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def loc(session: Session, wh: Warehouse, kind: str) -> Location:
    return session.scalars(select(Location).where(Location.warehouse_id == wh.id, Location.kind == kind)).first()


def build(session: Session, w: World) -> None:
    _purchasing(session, w)
    _sales(session, w)
    _other(session, w)
    session.commit()


def _move(session: Session, w: World, wh: Warehouse, sku: str, qty: int, frm: Location, to: Location, reason: str,
          at: str, doc_type: str = "", doc_id=None, doc_line_id=None) -> None:
    session.add(StockMove(owner_branch_id=wh.branch_id, item_id=w.items[sku].id, from_location_id=frm.id,
                          to_location_id=to.id, qty=qty, reason=reason, doc_type=doc_type, doc_id=doc_id,
                          doc_line_id=doc_line_id, moved_at=t(at)))


def _po(session: Session, w: World, wh: Warehouse, number: str, order: str, expected: str | None, status: str,
        lines: list[tuple[str, int]]) -> tuple[PurchaseOrder, list[PurchaseOrderLine]]:
    po = PurchaseOrder(owner_branch_id=wh.branch_id, number=number, supplier_id=w.supplier.id, warehouse_id=wh.id,
                       status=status, order_date=dt.date.fromisoformat(order),
                       expected_date=dt.date.fromisoformat(expected) if expected else None)
    session.add(po)
    session.flush()
    out = []
    for n, (sku, qty) in enumerate(lines, 1):
        ln = PurchaseOrderLine(owner_branch_id=wh.branch_id, po_id=po.id, line_no=n, item_id=w.items[sku].id,
                               ship_to_warehouse_id=wh.id, qty_ordered=qty, unit_price=Decimal("1"))
        session.add(ln)
        out.append(ln)
    session.flush()
    return po, out


def _purchasing(session: Session, w: World) -> None:
    dal, hou = w.wh_dal, w.wh_hou
    bin_dal, bin_hou = w.bins["DAL1-A-02"], w.bins["HOU1-A-02"]
    # PO1 (DAL1, due 01-10): line 1 10 received 01-09 (on time, in full), line 2 20 -> 15 on 01-12 (late, short)
    po1, (a, b) = _po(session, w, dal, "DAL-PO-000001", "2026-01-02", "2026-01-10", "partially_received",
                      [("BOLT", 10), ("BOLT", 20)])
    _move(session, w, dal, "BOLT", 10, loc(session, dal, "supplier"), loc(session, dal, "dock"), "receipt",
          "2026-01-09T08:00:00", "PO", po1.id, a.id)
    _move(session, w, dal, "BOLT", 10, loc(session, dal, "dock"), bin_dal, "putaway", "2026-01-09T12:00:00",
          "PO", po1.id, a.id)
    _move(session, w, dal, "BOLT", 15, loc(session, dal, "supplier"), loc(session, dal, "dock"), "receipt",
          "2026-01-12T08:00:00", "PO", po1.id, b.id)
    # PO2 (HOU1, due 02-10): 5 drills received 02-10 10:00 (on the day: on time), put away 16:00
    po2, (c,) = _po(session, w, hou, "HOU-PO-000001", "2026-02-01", "2026-02-10", "closed", [("DRILL", 5)])
    _move(session, w, hou, "DRILL", 5, loc(session, hou, "supplier"), loc(session, hou, "dock"), "receipt",
          "2026-02-10T10:00:00", "PO", po2.id, c.id)
    _move(session, w, hou, "DRILL", 5, loc(session, hou, "dock"), bin_hou, "putaway", "2026-02-10T16:00:00",
          "PO", po2.id, c.id)
    # PO3 (DAL1, no expected date): 4 received 02-20 14:00
    po3, (d,) = _po(session, w, dal, "DAL-PO-000002", "2026-02-03", None, "closed", [("BOLT", 4)])
    _move(session, w, dal, "BOLT", 4, loc(session, dal, "supplier"), loc(session, dal, "dock"), "receipt",
          "2026-02-20T14:00:00", "PO", po3.id, d.id)
    # a receipt posted by Receiving: arrived 03-02 08:00, all put away 10:00
    er = ExpectedReceipt(owner_branch_id=w.dal.id, number="DAL-ER-000001", source="po", warehouse_id=dal.id)
    session.add(er)
    session.flush()
    session.add(Receipt(owner_branch_id=w.dal.id, number="DAL-GR-000001", expected_receipt_id=er.id,
                        supplier_id=w.supplier.id, warehouse_id=dal.id, arrived_at=t("2026-03-02T08:00:00"),
                        posted_at=t("2026-03-02T09:00:00"), stocked_at=t("2026-03-02T10:00:00")))
    # approvals: PO1 6 hours, PO2 24 hours
    for po, sub, ok in ((po1, "2026-01-02T08:00:00", "2026-01-02T14:00:00"),
                        (po2, "2026-02-01T09:00:00", "2026-02-02T09:00:00")):
        for action, at in (("po.pending_approval", sub), ("po.approved", ok)):
            session.add(AuditEntry(owner_branch_id=w.dal.id, action=action, entity="purchase_order",
                                   entity_id=po.id, username="bob", created_at=t(at)))


def _so(session: Session, w: World, number: str, order: str, requested: str, status: str,
        lines: list[tuple[int, int, int, str]]) -> SalesOrder:
    so = SalesOrder(owner_branch_id=w.dal.id, number=number, customer_id=w.customer.id, warehouse_id=w.wh_dal.id,
                    status=status, order_date=dt.date.fromisoformat(order),
                    requested_date=dt.date.fromisoformat(requested))
    session.add(so)
    session.flush()
    for n, (qty, shipped, allocated, lstatus) in enumerate(lines, 1):
        session.add(SalesOrderLine(owner_branch_id=w.dal.id, order_id=so.id, line_no=n, item_id=w.items["WIDGET"].id,
                                   qty_ordered=qty, qty_shipped=shipped, qty_allocated=allocated,
                                   unit_price=Decimal("5"), status=lstatus))
    session.flush()
    return so


def _sales(session: Session, w: World) -> None:
    so1 = _so(session, w, "DAL-SO-000001", "2026-01-05", "2026-01-07", "closed",
              [(10, 10, 0, "closed"), (4, 3, 0, "closed")])
    so1_lines = sorted(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == so1.id)),
                       key=lambda ln: ln.line_no)
    so2 = _so(session, w, "DAL-SO-000002", "2026-02-02", "2026-02-04", "backordered",
              [(6, 0, 2, "open"), (2, 2, 0, "shipped")])
    _so(session, w, "DAL-SO-000003", "2026-03-18", "2026-03-25", "open", [(5, 0, 0, "open")])
    _so(session, w, "DAL-SO-000004", "2026-01-20", "2026-01-20", "cancelled", [(9, 0, 0, "cancelled")])
    so5 = _so(session, w, "DAL-SO-000005", "2026-03-01", "2026-03-03", "closed", [(1, 1, 0, "closed")])
    ups = Carrier(owner_branch_id=w.ho.id, code="UPS", name="UPS")
    session.add(ups)
    session.flush()
    # freight: 12.50 billed on the first, 7.50 quoted on the second, none on the third (before Dispatch)
    for n, (so, delivered, promised, billed, quoted) in enumerate((
            (so1, "2026-01-09T12:00:00", "2026-01-09", "12.50", "11.00"),
            (so2, "2026-02-06T12:00:00", "2026-02-05", None, "7.50"),
            (so5, "2026-03-03T12:00:00", None, None, None)), 1):
        session.add(Shipment(owner_branch_id=w.dal.id, number=f"DAL-SH-00000{n}", sales_order_id=so.id,
                             warehouse_id=w.wh_dal.id, carrier_id=ups.id, status="delivered",
                             tracking_number=f"1Z{n}", delivered_at=t(delivered),
                             shipped_at=t(delivered) - dt.timedelta(days=1),
                             freight_billed=Decimal(billed) if billed else None,
                             freight_quoted=Decimal(quoted) if quoted else None,
                             promised_date=dt.date.fromisoformat(promised) if promised else None))
    # a wave of SO1's two lines on 01-08: line 1 picked in full, line 2 short (3 of 4) -> pick accuracy 50 %
    wave = Wave(owner_branch_id=w.dal.id, number="DAL-WV-000001", warehouse_id=w.wh_dal.id, status="done")
    session.add(wave)
    session.flush()
    for ln, picked, status in ((so1_lines[0], 10, "picked"), (so1_lines[1], 3, "short")):
        session.add(PickLine(owner_branch_id=w.dal.id, wave_id=wave.id, order_id=so1.id, order_line_id=ln.id,
                             item_id=ln.item_id, from_location_id=w.bins["DAL1-A-01"].id, qty=ln.qty_ordered,
                             qty_picked=picked, status=status, picked_at=t("2026-01-08T10:00:00")))
    # HOU sells 2 of its 5 drills on 03-05
    _move(session, w, w.wh_hou, "DRILL", 2, w.bins["HOU1-A-02"], loc(session, w.wh_hou, "customer"), "sale",
          "2026-03-05T10:00:00", "SO", so5.id)


def _other(session: Session, w: World) -> None:
    for br, created, resolved in ((w.dal, "2026-01-10", "2026-01-15"), (w.dal, "2026-02-10", None),
                                  (w.hou, "2026-03-10", None)):
        session.add(ExceptionItem(owner_branch_id=br.id, kind="test.case", title="look at this",
                                  created_at=t(created + "T00:00:00"),
                                  status="resolved" if resolved else "open",
                                  resolved_at=t(resolved + "T00:00:00") if resolved else None))
    task = CountTask(owner_branch_id=w.dal.id, number="DAL-CT-000001", warehouse_id=w.wh_dal.id,
                     location_id=w.bins["DAL1-A-03"].id, status="posted", scheduled_for=dt.date(2026, 2, 15),
                     posted_at=t("2026-02-15T11:00:00"))
    session.add(task)
    session.flush()
    for sku, variance in (("WIDGET", 0), ("BOLT", 0), ("MILK", 0), ("DRILL", -2)):
        session.add(CountLine(owner_branch_id=w.dal.id, task_id=task.id, item_id=w.items[sku].id,
                              expected_qty=5, counted_qty=5 + variance, variance=variance))
    for kind, doc, day, amount in (("invoice", "INV-1", "2026-01-01", "1000"), ("payment", "INV-1", "2026-01-31", "-1000"),
                                   ("invoice", "INV-2", "2026-02-01", "600")):
        session.add(ReceivableEntry(owner_branch_id=w.dal.id, customer_id=w.customer.id, kind=kind, doc_number=doc,
                                    doc_date=dt.date.fromisoformat(day), amount=Decimal(amount), source="depot"))
    # the run's backtest error is 35 % of mean demand (its detail); avg_rel_mae is the error against the
    # naive's, another figure, which the accuracy must not read
    session.add(ForecastRun(run_at=t("2026-03-01T06:00:00"), series=40, seconds=1.0, avg_rel_mae=0.8,
                            mase_median=0.9, mase_mean=1.0, detail='{"rel_mae_to_demand": 0.35}'))
