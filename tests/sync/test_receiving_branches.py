"""Receiving a consolidated PO across branches over real replication (three SQLite sites, real PostgreSQL).

DAL raises a PO under the approval threshold (it approves itself at DAL) with a line for DAL1 and one
for HOU1, and sends it. HOU's settler makes HOU's expected receipt; HOU receives its part writing only
its own rows; after ``quiesce`` DAL's PO line shows what HOU received, the PO status is right, nothing
was refused or lost anywhere and every site equals the server. A ship notice imported at DAL for both
warehouses becomes one ASN receipt per warehouse, each made by its own branch.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.services.auth import create_user
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.edi.inbound import import_bytes
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.scan import gs1_check_digit
from tests.factories import World, load_world
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes

OPEN = ("expected", "arrived")


def _sync(site: Site) -> None:
    res = site.sync()
    assert res.settle_errors == [] and res.rejected == 0 and res.lost == 0, res


def _setup(net: Net) -> None:
    """Head office: contracts (a small PO approves itself), a consolidating EDI supplier, the
    approval rules and a Houston receiver; every site pulls them."""
    with net.hq.session() as s:
        w = load_world(s)
        for link in s.scalars(select(ItemSupplier)):
            link.contracted = True
        sup = s.scalars(select(Supplier)).one()
        sup.allows_consolidation = True
        sup.edi_id, sup.edi_qualifier, sup.edi_format = "ACMEEDI", "ZZ", "edifact"
        approvals.ensure_default_rules(s, w.ho.id)
        create_user(s, "hugo", "secret-hugo", ["receiver"], owner_branch_id=w.ho.id, branch_id=w.hou.id)
        s.commit()
    for site in (net.hq, net.dal, net.hou):
        _sync(site)


def _dallas_po(net: Net) -> uuid.UUID:
    with net.dal.session() as s:
        w = load_world(s)
        po = purchasing.create_po(s, w.actors["alice"], "ACME", "DAL1", [
            LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24, ship_to_warehouse_id=w.wh_hou.id)])
        purchasing.submit(s, w.actors["alice"], po.id)
        assert po.status == "approved"  # below the threshold: settled at DAL, no approver involved
        purchasing.set_status(s, w.actors["alice"], po, "sent")
        s.commit()
        po_id = po.id
    _sync(net.dal)
    _sync(net.hou)  # Houston's purchasing settler makes its expected receipt for the HOU1 line
    return po_id


def _open_receipt(s: Session, po_id: uuid.UUID, wh_id: uuid.UUID, source: str = "po") -> ExpectedReceipt:
    return s.scalars(select(ExpectedReceipt).where(
        ExpectedReceipt.po_id == po_id, ExpectedReceipt.warehouse_id == wh_id, ExpectedReceipt.source == source,
        ExpectedReceipt.status.in_(OPEN))).one()


def _po_state(s: Session, po_id: uuid.UUID) -> tuple[str, dict[str, tuple[int, str]]]:
    status = s.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == po_id))
    lines = {sku: (int(q), st) for sku, q, st in s.execute(
        select(Item.sku, PurchaseOrderLine.qty_received, PurchaseOrderLine.status)
        .join(Item, Item.id == PurchaseOrderLine.item_id).where(PurchaseOrderLine.po_id == po_id))}
    return str(status), lines


def _converged(net: Net) -> None:
    for site in (net.hq, net.dal, net.hou):
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path.name
        assert site.scalar("SELECT count(*) FROM sync_outbox") == 0, site.path.name
    h = server_hashes(net.server)
    assert site_hashes(net.hq) == h and site_hashes(net.dal) == h and site_hashes(net.hou) == h


def _receive(site: Site, user: str, po_id: uuid.UUID, wh_code: str, sku: str, qty: int,
             source: str = "po", reason: str = "") -> list[str]:
    with site.session() as s:
        w: World = load_world(s)
        wh = w.wh_dal if wh_code == "DAL1" else w.wh_hou
        er = _open_receipt(s, po_id, wh.id, source)
        posted = post_receipt(s, w.actors[user], er.id, [ReceiveLine(w.items[sku].id, qty, reason=reason)])
        s.commit()
        return posted.notes


def test_houston_receives_its_line_of_a_dallas_po_and_dallas_po_follows(net: Net) -> None:
    _setup(net)
    po_id = _dallas_po(net)
    notes = _receive(net.hou, "hugo", po_id, "HOU1", "WIDGET", 24)
    assert any("its received quantities are updated when DAL next syncs" in n for n in notes)
    with net.hou.session() as s:  # Houston did not touch Dallas's PO
        assert _po_state(s, po_id) == ("sent", {"BOLT": (0, "open"), "WIDGET": (0, "open")})
    _sync(net.hou)

    quiesce(net.hq, net.dal, net.hou)
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            assert _po_state(s, po_id) == ("partially_received", {"BOLT": (0, "open"), "WIDGET": (24, "received")}), \
                site.path.name
    _converged(net)

    # Dallas receives its own line: the PO is complete everywhere
    _receive(net.dal, "rita", po_id, "DAL1", "BOLT", 100)
    _sync(net.dal)
    quiesce(net.hq, net.dal, net.hou)
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            assert _po_state(s, po_id) == ("received", {"BOLT": (100, "received"), "WIDGET": (24, "received")})
    _converged(net)


def _sscc(n: int) -> str:
    body = f"03541073{n:09d}"
    return body + str(gs1_check_digit(body))


def _desadv(po: str) -> bytes:
    segs = ["UNH+1+DESADV:D:96A:UN:EAN005", "BGM+351+ASN-9+9", "DTM+137:20261126:102", "DTM+17:20261128:102",
            f"RFF+ON:{po}", "RFF+CN:PRO99", "TDT+20++30+31+ODFL", "CPS+1",
            "CPS+2+1", "PAC+1++201", f"GIN+BJ+{_sscc(1)}", "LIN+1", "PIA+5+BOLT:BP", "QTY+12:100",
            "CPS+3+1", "PAC+1++201", f"GIN+BJ+{_sscc(2)}", "LIN+2", "PIA+5+WIDGET:BP", "QTY+12:20"]
    segs.append(f"UNT+{len(segs) + 1}+1")
    return ("UNA:+.? '\nUNB+UNOA:2+ACMEEDI:ZZ+DEPOTDAL:ZZ+261126:1200+9001'\n" + "'\n".join(segs)
            + "'\nUNZ+1+9001'\n").encode()


def test_an_asn_for_both_warehouses_becomes_each_branchs_own_asn_receipt(net: Net) -> None:
    _setup(net)
    po_id = _dallas_po(net)
    with net.dal.session() as s:
        w = load_world(s)
        number = s.scalar(select(PurchaseOrder.number).where(PurchaseOrder.id == po_id))
        res = import_bytes(s, w.actors["alice"], _desadv(str(number)), "desadv.edi")
        s.commit()
        assert "HOU1: expected when HOU next syncs" in res.messages[0].expected_receipt
    _sync(net.dal)
    quiesce(net.hq, net.dal, net.hou)
    w = net.world
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            rows = s.execute(select(ExpectedReceipt.source, ExpectedReceipt.number, ExpectedReceipt.owner_branch_id,
                                    ExpectedReceipt.warehouse_id, ExpectedReceipt.status, Item.sku,
                                    ExpectedReceiptLine.qty_expected)
                             .join(ExpectedReceiptLine, ExpectedReceiptLine.receipt_id == ExpectedReceipt.id)
                             .join(Item, Item.id == ExpectedReceiptLine.item_id)
                             .where(ExpectedReceipt.po_id == po_id, ExpectedReceiptLine.deleted_at.is_(None))).all()
            got = sorted((src, num[:8], owner == w.hou.id, wh == w.wh_hou.id, st, sku, q)
                         for src, num, owner, wh, st, sku, q in rows)
            assert got == sorted([
                ("asn", "DAL-ASN-", False, False, "expected", "BOLT", 100),
                ("asn", "HOU-ASN-", True, True, "expected", "WIDGET", 20),
                ("po", "DAL-ER-0", False, False, "cancelled", "BOLT", 100),  # fully announced
                ("po", "HOU-ER-0", True, True, "expected", "WIDGET", 4),  # 20 of 24 announced
            ]), site.path.name
    _converged(net)

    # Houston receives the cartons, 2 short: the PO owner's figures follow, and Houston still
    # expects the 2 (a follow-up of its own) beside the 4 the ASN did not announce
    notes = _receive(net.hou, "hugo", po_id, "HOU1", "WIDGET", 18, source="asn", reason="short")
    assert any(n.startswith("2 unit(s) still owed: expected on HOU-ER-") for n in notes), notes
    _sync(net.hou)
    quiesce(net.hq, net.dal, net.hou)
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            assert _po_state(s, po_id) == ("partially_received", {"BOLT": (0, "open"), "WIDGET": (18, "partially_received")})
            open_hou = s.execute(select(ExpectedReceipt.number, ExpectedReceiptLine.qty_expected)
                                 .join(ExpectedReceiptLine, ExpectedReceiptLine.receipt_id == ExpectedReceipt.id)
                                 .where(ExpectedReceipt.po_id == po_id, ExpectedReceipt.warehouse_id == w.wh_hou.id,
                                        ExpectedReceipt.status.in_(OPEN), ExpectedReceiptLine.deleted_at.is_(None))).all()
            assert sorted(q for _n, q in open_hou) == [2, 4] and all(n.startswith("HOU-ER-") for n, _q in open_hou)
    _converged(net)
