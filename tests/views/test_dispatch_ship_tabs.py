"""The Packing, Shipping and Manifest tabs driven like a dispatcher at the station: the scan field
keeps the focus, a wrong item is red with the reason and a beep, the carton closes from a scale's
weight; then rate against the carrier sandbox, buy the label, confirm, and the day's manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.models.parties import Carrier
from app.models.shipping import Shipment
from app.services.carriers.sandbox.server import Sandbox
from app.services.dispatch.cartonize import save_carton_type
from app.services.settings import Settings
from app.views.context import make_test_context
from app.views.dispatch.manifest_tab import ManifestTab
from app.views.dispatch.packing_tab import PackingTab
from app.views.dispatch.shipping_tab import ShippingTab
from app.views.widgets.scan_station import BAD_CSS, OK_CSS
from tests.factories import World
from tests.services.ship_helpers import carrier_accounts, picked_by_wave, ship_world


def _scan(qtbot: QtBot, tab: PackingTab, text: str) -> tuple[bool, str]:
    with qtbot.waitSignal(tab.answered, timeout=10_000) as blocker:
        qtbot.keyClicks(tab.scan, text)
        qtbot.keyClick(tab.scan, Qt.Key.Key_Return)
    ok, message = blocker.args  # type: ignore[misc]
    return ok, message


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_pack_ship_and_manifest_in_the_window(qtbot: QtBot, engine: Engine, session: Session, world: World,
                                              sandbox: Sandbox, settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    sw = ship_world(session, world)
    carrier_accounts(session, sw)
    save_carton_type(session, world.actors["root"], "M", length_mm=400, width_mm=300, height_mm=250,
                     max_weight_g=15000, tare_g=400)
    so = picked_by_wave(session, sw, {"WIDGET": 3})
    session.commit()
    beeps: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    ctx = make_test_context(engine, sw.dan, settings)
    tab = PackingTab(ctx)
    tab.open_url = staticmethod(lambda _u: False)  # type: ignore[method-assign]
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    tab.show()
    qtbot.waitUntil(lambda: tab.order.count() == 1, timeout=10_000)
    assert so.number in tab.order.itemText(0)
    # scanning the order number off the pick list starts packing it
    qtbot.keyClicks(tab.scan, so.number)
    qtbot.keyClick(tab.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.shipment is not None and tab.lines.rowCount() == 1, timeout=10_000)
    # the field keeps the focus: a click on the table gives it back
    qtbot.mouseClick(tab.lines_view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.scan.hasFocus(), timeout=5_000)
    ok, msg = _scan(qtbot, tab, "MILK")
    assert not ok and "MILK is not on order" in msg and tab.feedback.styleSheet() == BAD_CSS and beeps
    qtbot.keyClicks(tab.scan, "*3")  # the quantity of the next item
    qtbot.keyClick(tab.scan, Qt.Key.Key_Return)
    assert tab.qty == 3 and "Quantity 3" in tab.feedback.text()
    ok, msg = _scan(qtbot, tab, "WIDGET")
    assert ok and "3 x WIDGET into carton 1" in msg and tab.feedback.styleSheet() == OK_CSS
    ok, msg = _scan(qtbot, tab, "LAST 0.75 kg")
    assert ok and "packed in 1 carton" in msg, msg
    tab.print_doc("slip")
    qtbot.waitUntil(lambda: tab.last_pdf.endswith("-slip.pdf"), timeout=10_000)
    assert Path(tab.last_pdf).read_bytes()[:4] == b"%PDF"
    # the Shipping tab: rate against the sandbox, buy the label, confirm
    ship = ShippingTab(ctx)
    qtbot.addWidget(ship)
    ship.resize(1300, 700)
    ship.show()
    qtbot.waitUntil(lambda: ship.ships.rowCount() == 1, timeout=10_000)
    ship.select(tab.shipment or "")
    with qtbot.waitSignal(ship.done, timeout=30_000) as b:
        ship.rate()
    assert b.args[0], b.args
    qtbot.waitUntil(lambda: ship.quotes.rowCount() >= 4, timeout=10_000)
    assert any(ship.is_suggested(q) for q in ship.quotes.rows())
    with qtbot.waitSignal(ship.done, timeout=30_000) as b:
        ship.buy_label()
    assert b.args[0] and "label" in b.args[1], b.args
    with qtbot.waitSignal(ship.done, timeout=10_000) as b:
        ship.confirm()
    assert b.args[0] and "confirmed" in b.args[1], b.args
    session.expire_all()
    row = session.query(Shipment).filter_by(number=tab.shipment).one()
    assert row.status == "label_created" and row.tracking_number
    # the Manifest tab: today's manifest for the carrier chosen
    man = ManifestTab(ctx)
    man.open_url = staticmethod(lambda _u: False)  # type: ignore[method-assign]
    qtbot.addWidget(man)
    man.resize(1300, 700)
    man.show()
    qtbot.waitUntil(lambda: man.carrier.count() >= 2 and man.confirmed.rowCount() == 1, timeout=10_000)
    carrier = session.get(Carrier, row.carrier_id)
    assert carrier is not None
    man.carrier.setCurrentIndex(man.carrier.findData(carrier.code))
    with qtbot.waitSignal(man.done, timeout=10_000) as b:
        man.build()
    assert b.args[0] and "1 shipments" in b.args[1] or "1 shipment" in b.args[1], b.args
    qtbot.waitUntil(lambda: man.manifests.rowCount() == 1, timeout=10_000)
    man.manifests_view.selectRow(0)
    with qtbot.waitSignal(man.done, timeout=10_000) as b:
        man.write("csv")
    assert Path(man.last_file).read_text(encoding="utf-8").count(row.tracking_number) == 1

    # every slip of the day, in the background (progress, then the sentence); a second run resumes
    with qtbot.waitSignal(man.done, timeout=20_000) as b:
        man.print_slips(tmp_path / "slips")
    assert b.args[0] and "1 packing slips written" in b.args[1], b.args
    assert (tmp_path / "slips" / f"{row.number}.pdf").read_bytes()[:4] == b"%PDF"
    assert not man.progress.isVisible() and man.last_run is not None and not man.last_run.failed
    # no op of this window outlives the test (make_ctx's contexts are drained the same way)
    assert ctx.runner.wait_idle(10_000)
    ctx.runner.shutdown()
