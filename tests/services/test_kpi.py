"""KPIs on a hand-made data set (tests/services/kpi_world.py), each answer worked out by hand.

Period: January to March 2026 by month, today 2026-03-20 (so March counts up to the 20th)."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy.orm import Session

from app.services.errors import ValidationError
from app.services.kpi.compute import compute, drill
from app.services.kpi.export import figures_csv, rows_csv
from app.services.kpi.scope import make_scope
from tests.factories import World
from tests.services import kpi_world
from tests.services.kpi_world import TODAY


@pytest.fixture
def kw(session: Session, world: World) -> World:
    kpi_world.build(session, world)
    return world


def figs(session: Session, **kw: object) -> dict[str, object]:
    scope = make_scope(session, period=str(kw.pop("period", "2026-01..2026-03")), today=TODAY,
                       bucket=str(kw.pop("bucket", "month")), **kw)  # type: ignore[arg-type]
    return {f.key: f for f in compute(session, scope)}


def series(f: object) -> list[float | None]:
    return [None if p.value is None else round(p.value, 4) for p in f.series]  # type: ignore[attr-defined]


def test_purchasing_figures(session: Session, kw: World) -> None:
    f = figs(session)
    # lines with a due date: PO1/1 on time, PO1/2 late (01-12 > 01-10), PO2/1 on the day -> 2 of 3
    assert f["supplier_on_time"].value == pytest.approx(200 / 3)
    assert series(f["supplier_on_time"]) == [50.0, 100.0, None]
    # in full: PO1/2 got 15 of 20; the other three in full -> 3 of 4
    assert f["supplier_in_full"].value == pytest.approx(75.0)
    # PO1 is not complete; PO2 9 days 10 h, PO3 17 days 14 h -> 27 days / 2
    assert f["po_cycle_time"].value == pytest.approx(13.5)
    # approvals: 6 h and 24 h
    assert f["approval_time"].value == pytest.approx(15.0)
    assert series(f["approval_time"]) == [6.0, 24.0, None]
    # dock to stock: 4 h (ledger history), 6 h (ledger history), 2 h (a posted receipt) -> 4 h
    assert f["dock_to_stock"].value == pytest.approx(4.0)
    assert series(f["dock_to_stock"]) == [4.0, 6.0, 2.0]


def test_sales_and_delivery_figures(session: Session, kw: World) -> None:
    f = figs(session)
    # due lines: SO1 10/10 and 3/4, SO2 0/6 and 2/2, SO5 1/1 (SO3 is due after today, SO4 cancelled)
    assert f["fill_rate_lines"].value == pytest.approx(60.0)
    assert f["fill_rate_units"].value == pytest.approx(1600 / 23)
    # OTIF: SO1 on time but short, SO2 late, SO5 on its requested date and full -> 1 of 3
    assert f["otif"].value == pytest.approx(100 / 3)
    # shipments: on the promised day, a day late, on the order's requested date -> 2 of 3
    assert f["on_time_delivery"].value == pytest.approx(200 / 3)
    # cycle: 4.5, 4.5 and 2.5 days
    assert f["order_cycle_time"].value == pytest.approx(11.5 / 3)
    # picks: SO1's line 1 in full, line 2 short -> 1 of 2
    assert f["pick_accuracy"].value == pytest.approx(50.0)
    # freight: 12.50 (billed) and 7.50 (only quoted) -> 10.00 a shipment; no shipment lines, so per unit
    # over their orders' shipped units: SO1 10 + 3, SO2 0 + 2 -> 20.00 / 15
    assert f["freight_per_shipment"].value == pytest.approx(10.0)
    assert f["freight_per_unit"].value == pytest.approx(20 / 15)
    # backorder: SO2 line 1 needs 6, has 2 reserved: 4 x 5.00; only now (March), not in the past
    assert f["backorder_value"].value == pytest.approx(20.0)
    assert series(f["backorder_value"]) == [None, None, 20.0]


def test_inventory_figures(session: Session, kw: World) -> None:
    f = figs(session, warehouses=["HOU1"])
    # HOU1: 5 drills (45.00) in on 02-10, 2 sold 03-05. Feb: 0 -> 225 (avg 112.5 x 28 days); March to
    # the 20th: 225 -> 135 (avg 180 x 20 days); January empty. COGS 90.
    assert f["inventory_turns"].value == pytest.approx(90 * 365 / (112.5 * 28 + 180 * 20))
    assert f["days_of_supply"].value == pytest.approx((112.5 * 28 + 180 * 20) / 90)
    # one count of 4 lines, one with a variance
    d = figs(session, branches=["DAL"])
    assert d["inventory_accuracy"].value == pytest.approx(75.0)
    assert d["inventory_accuracy"].state == "ok"


def test_exceptions_receivables_forecast(session: Session, kw: World) -> None:
    f = figs(session)
    assert f["exception_volume"].value == 3
    assert series(f["exception_volume"]) == [1, 1, 1]
    # open at the end of February (03-01): the 02-10 one, 19 days; at the period's end (03-21):
    # 39 and 11 days -> 25 (the January one was resolved on 01-15)
    assert series(f["exception_age"]) == [None, 19.0, 25.0]
    assert f["exception_age"].value == pytest.approx(25.0)
    # DSO: Jan 0 x 31 / 1000; Feb 600 x 28 / 600; Mar 600 x 20 / 0 -> (16800 + 12000) / 1600
    assert f["dso"].value == pytest.approx(18.0)
    assert series(f["dso"]) == [0.0, 28.0, None]
    assert f["forecast_accuracy"].value == pytest.approx(65.0)


def test_split_by_warehouse_and_branch(session: Session, kw: World) -> None:
    f = figs(session, by="warehouse")
    groups = {g.label: g.value for g in f["supplier_on_time"].groups}
    assert groups == {"DAL1": pytest.approx(50.0), "HOU1": pytest.approx(100.0)}
    hou = figs(session, branches=["HOU"])
    assert hou["supplier_on_time"].value == pytest.approx(100.0)
    assert hou["exception_volume"].value == 1  # exceptions follow the branch that raised them
    # a figure the slice does not keep says so instead of a wrong number
    sup = figs(session, supplier="ACME")
    assert sup["fill_rate_lines"].state == "no_data" and "not kept per supplier" in sup["fill_rate_lines"].note
    assert sup["supplier_on_time"].value == pytest.approx(200 / 3)


def test_not_in_use_and_bad_periods_never_give_nan(session: Session, world: World) -> None:
    # an empty database: capabilities not in use say which; nothing is zero, NaN or infinite
    f = figs(session)
    assert f["pick_accuracy"].note == "no data: dispatch picking not in use"
    assert f["freight_per_shipment"].note == "no data: dispatch not in use"
    assert f["inventory_accuracy"].note == "no data: cycle counting not in use"
    assert f["dso"].note == "no data: invoicing not in use"
    assert f["fill_rate_lines"].state == "no_data" and f["fill_rate_lines"].value is None
    future = figs(session, period="2027")
    assert all(x.state != "ok" for x in future.values())
    assert future["otif"].note == "no data: the period has not started"
    for fig in list(f.values()) + list(future.values()):
        for v in [fig.value] + [p.value for p in fig.series]:
            assert v is None or (math.isfinite(v) and (fig.unit != "%" or v <= 100))
    with pytest.raises(ValidationError, match="not a period"):
        make_scope(session, period="2026-13", today=TODAY)
    with pytest.raises(ValidationError, match="no branch with code 'XX'"):
        make_scope(session, branches=["XX"], today=TODAY)
    with pytest.raises(ValidationError, match="cannot split by"):
        make_scope(session, by="colour", today=TODAY)


def test_branch_with_no_data(session: Session, kw: World) -> None:
    f = figs(session, branches=["HQ"])  # head office has no warehouse and no documents
    for fig in f.values():
        if fig.key == "forecast_accuracy":  # forecasts are the site's, not kept per branch: it says so
            assert fig.note.startswith("for every branch of this database")
            continue
        assert fig.value is None or fig.value == 0, fig.key
    assert f["otif"].note == "no data in this period"


def test_drill_down_lists_the_rows_behind_a_point(session: Session, kw: World) -> None:
    scope = make_scope(session, period="2026-01..2026-03", today=TODAY, bucket="month")
    rows, total = drill(session, "supplier_on_time", scope, "2026-01")
    assert total == 2
    assert [r["doc"] for r in rows] == ["DAL-PO-000001/2", "DAL-PO-000001/1"]  # the late line first
    assert rows[0]["bad"] and "due 2026-01-10, first received 2026-01-12" in rows[0]["detail"]
    rows, total = drill(session, "fill_rate_lines", scope)
    assert [r["doc"] for r in rows if r["bad"]] == ["DAL-SO-000002/1", "DAL-SO-000001/2"]
    with pytest.raises(ValidationError, match="not a month of the period"):
        drill(session, "otif", scope, "2025-12")
    text = rows_csv(rows)
    assert text.splitlines()[0] == "doc,at,party,detail,warehouse,value,bad"


def test_csv_export_and_cli_agree(session: Session, kw: World, db_path, capsys) -> None:
    from app.cli import run

    scope = make_scope(session, period="2026-01..2026-03", today=TODAY, bucket="month")
    figures = compute(session, scope)
    text = figures_csv(figures)
    assert "supplier_on_time,Supplier on time,%,2026-01,,50," in text
    session.commit()
    # the command line (today is the real today, so give a period that has ended)
    assert run(["--db", str(db_path), "kpi", "supplier_on_time", "po_cycle_time", "--period", "2026-01..2026-02",
                "--bucket", "month", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    values = {k["key"]: k["value"] for k in out["kpis"]}
    assert values == {"supplier_on_time": pytest.approx(200 / 3), "po_cycle_time": pytest.approx(13.5)}
    assert run(["--db", str(db_path), "kpi", "--period", "someday"]) == 1
    assert "is not a period" in capsys.readouterr().err
    missing = db_path.parent / "no-such-folder" / "kpi.csv"
    assert run(["--db", str(db_path), "kpi", "--csv", str(missing)]) == 1
    assert "--csv: the folder" in capsys.readouterr().err and not missing.parent.exists()


def test_split_keys_are_the_ids_as_hex_and_drill_back(session: Session, kw: World) -> None:
    # SQLite stores ids as 16 bytes: the KPI layer keeps them as hex (exports and the JSON cache
    # take them) and binds them as stored, so a group drills back into its own rows, not into none
    scope = make_scope(session, period="2026-01..2026-03", today=TODAY, bucket="month", by="warehouse")
    f = {x.key: x for x in compute(session, scope)}["supplier_on_time"]
    keys = {g.label: g.key for g in f.groups}
    assert keys == {"DAL1": kw.wh_dal.id.hex, "HOU1": kw.wh_hou.id.hex}
    json.dumps([g.key for g in f.groups])
    rows, total = drill(session, "supplier_on_time", scope, "", keys["DAL1"])
    assert total == 3 and {r["warehouse"] for r in rows} == {"DAL1"}  # DAL-PO-000001's two lines, DAL-PO-000002's one
    rows, total = drill(session, "supplier_on_time", scope, "", keys["HOU1"])
    assert total == 1 and rows[0]["doc"].startswith("HOU-PO-000001")
    one = make_scope(session, period="2026-01..2026-03", today=TODAY, warehouses=["HOU1"])
    assert one.warehouses == (kw.wh_hou.id.hex,)
