"""The Dashboard as a manager uses it: tiles with the figures of the hand-made data set
(tests/services/kpi_world.py), a chart per KPI, a click on a point listing the documents behind
it, exports of the chart (PNG) and of its data and rows (CSV), branches side by side, what a
buyer may see, and the last figures shown at once on the next open."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.views.dashboard.screen import DashboardScreen
from tests.factories import World
from tests.services import kpi_world
from tests.views.conftest import MakeCtx

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen top-level windows say this on show
PERIOD = "2026"  # by month (a period of up to 13 weeks is shown by week)


def _open(qtbot: QtBot, make_ctx: MakeCtx, actor: object) -> DashboardScreen:
    screen = DashboardScreen(make_ctx(actor))  # type: ignore[arg-type]
    qtbot.addWidget(screen)
    screen.resize(1200, 700)
    screen.show()
    screen.set_period(PERIOD)
    qtbot.waitUntil(lambda: screen.scope is not None and screen.scope.start.isoformat() == "2026-01-01",
                    timeout=20000)
    return screen


def test_tiles_chart_drill_and_exports(qtbot: QtBot, make_ctx: MakeCtx, session: Session, world: World,
                                       tmp_path: Path) -> None:
    kpi_world.build(session, world)
    screen = _open(qtbot, make_ctx, world.actors["root"])  # head office: every branch
    tile = screen.tiles["supplier_on_time"]
    assert tile.value.text() == "66.7 %"
    assert screen.tiles["pick_accuracy"].value.text() == "50.0 %"
    # the world's shipments have no lines of their own: per unit over their orders' shipped units
    assert screen.tiles["freight_per_unit"].value.text() == "1.33"
    empty = dataclasses.replace(screen.figure("freight_per_unit"), state="no_data", value=None,  # type: ignore[type-var]
                                note="no data in this period")
    screen.tiles["freight_per_unit"].set_figure(empty)
    assert screen.tiles["freight_per_unit"].value.text() == "No data in this period"
    assert screen.tiles["dso"].value.text().endswith(" days")
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert screen.selected == "supplier_on_time"
    drawn = dict(screen.chart.drawn)
    assert drawn[""] == [("2026-01", 50.0), ("2026-02", 100.0)]
    assert screen.chart.plot.getPlotItem().titleLabel.text == "Supplier on time (%)"
    screen.select("freight_per_shipment")
    assert screen.chart.plot.getPlotItem().titleLabel.text == "Freight per shipment"  # not '(money)'
    screen.select("supplier_on_time")
    # a click on January's point lists the two PO lines behind it, the late one first
    screen.chart.point_clicked.emit("2026-01", "")
    qtbot.waitUntil(lambda: screen.rows_model.rowCount() == 2, timeout=10000)
    assert screen.rows_model.row(0)["doc"] == "DAL-PO-000001/2" and screen.rows_model.row(0)["bad"]
    assert "1 hurt the figure" in screen.rows_label.text()
    png, data, rows = tmp_path / "chart.png", tmp_path / "data.csv", tmp_path / "rows.csv"
    screen.export_png(png)
    screen.export_csv(data)
    screen.export_rows_csv(rows)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    assert "supplier_on_time,Supplier on time,%,2026-01,,50," in data.read_text()
    assert rows.read_text().splitlines()[1].startswith("DAL-PO-000001/2,")
    # head-office view: the branches side by side, one line each
    screen.side.setChecked(True)
    qtbot.waitUntil(lambda: screen.scope is not None and screen.scope.by == "branch", timeout=20000)
    labels = {g.label: g.value for g in screen.figure("supplier_on_time").groups}
    assert labels == {"DAL": 50.0, "HOU": 100.0}
    assert len(screen.chart.drawn) == 2


def test_buyer_sees_their_branch_and_no_receivables(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                    world: World) -> None:
    kpi_world.build(session, world)
    screen = _open(qtbot, make_ctx, world.actors["alice"])  # a Dallas buyer
    assert "dso" not in screen.tiles
    assert screen.branch.currentText() == "DAL"
    assert screen.tiles["supplier_on_time"].value.text() == "50.0 %"


def test_opens_with_the_last_figures_then_refreshes(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                    world: World) -> None:
    kpi_world.build(session, world)
    ctx = make_ctx(world.actors["root"])
    first = DashboardScreen(ctx)  # the default period, the user's default branches
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.scope is not None, timeout=20000)
    again = DashboardScreen(ctx)
    qtbot.addWidget(again)
    # before any computation ran, the tiles already show what was shown last time
    assert again.scope is None and again.tiles and again.status.text().startswith("Figures of")
    qtbot.waitUntil(lambda: again.scope is not None, timeout=20000)


def test_targets_in_settings(qtbot: QtBot, make_ctx: MakeCtx, session: Session, world: World) -> None:
    from app.views.settings.dashboard_page import DashboardSettingsPage

    ctx = make_ctx(world.actors["mike"])
    page = DashboardSettingsPage(ctx)
    qtbot.addWidget(page)
    assert page.fields["supplier_on_time"].text() == "95"
    page.fields["supplier_on_time"].setText("150")
    page.fields["exception_volume"].setText("0")  # a target of zero is a target
    assert not page.save()
    assert "at most 100" in page.status.text()
    assert ctx.settings.get("kpi.target.exception_volume") is None  # nothing saved
    page.fields["supplier_on_time"].setText("90 %")
    page.fields["otif"].setText("")  # no target at all
    assert page.save()
    from app.services.kpi.targets import targets

    saved = targets(ctx.settings)
    assert saved["supplier_on_time"] == 90 and saved["exception_volume"] == 0 and "otif" not in saved
