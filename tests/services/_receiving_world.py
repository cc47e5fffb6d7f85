"""Expected receipts (with their PO) for receiving tests, built directly on the foundation models
so the receiving tests do not depend on the buying services being finished."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from tests.factories import World

_seq = itertools.count(1)


def make_expected(session: Session, w: World, lines: Sequence[tuple[str, int] | tuple[str, int, str, str, dt.date | None]],
                  *, po_status: str = "sent", dock: str = "D1", source: str = "po",
                  expected_at: dt.datetime | None = None) -> ExpectedReceipt:
    n = next(_seq)
    owner = w.dal.id
    po = PurchaseOrder(number=f"DAL-PO-9{n:05d}", supplier_id=w.supplier.id, warehouse_id=w.wh_dal.id, status=po_status,
                       order_date=dt.date(2026, 11, 20), owner_branch_id=owner)
    session.add(po)
    session.flush()
    er = ExpectedReceipt(number=f"DAL-ER-9{n:05d}", source=source, po_id=po.id, supplier_id=w.supplier.id,
                         warehouse_id=w.wh_dal.id, dock=dock, status="expected", owner_branch_id=owner,
                         expected_at=expected_at or dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    session.add(er)
    session.flush()
    for i, spec in enumerate(lines, 1):
        sku, qty = spec[0], spec[1]
        sscc, lot, exp = (spec[2], spec[3], spec[4]) if len(spec) == 5 else ("", "", None)
        item = w.items[sku]
        pol = PurchaseOrderLine(po_id=po.id, line_no=i, item_id=item.id, ship_to_warehouse_id=w.wh_dal.id,
                                qty_ordered=qty, unit_price=Decimal("1.0000"), owner_branch_id=owner)
        session.add(pol)
        session.flush()
        session.add(ExpectedReceiptLine(receipt_id=er.id, po_line_id=pol.id, item_id=item.id, qty_expected=qty,
                                        sscc=sscc, lot_code=lot, expiry_date=exp, owner_branch_id=owner))
    session.flush()
    return er
