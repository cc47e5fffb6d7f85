"""Every benchmark in bench/ runs with tiny arguments and gives a figure that means something.

No other test runs the benches, and storage changes (0022_binary_ids, 0023_numeric_times) broke
several silently: a set-up writing ids or times by raw SQL in a form the file no longer stores
made rows that matched nothing, so a bench crashed, or worse printed a figure over nothing (an
item list of 0 rows, a cold start whose first screen failed). Each test here runs the bench as
``depot bench NAME`` does (``bench.__main__.run``) and asserts what makes its figure a figure:
rows found, recommendations made, pages rendered, deliveries invoiced, rows synced.

Never the shared files: the large seed (/work/large.db) is hidden from every bench and the
benches' own cached files go to the test's folder. The benches that read a seeded file get a copy
of one demo seed, made once by the seed bench itself. PostgreSQL benches skip like tests/sync when
the server is down; sync_scale starts its own cluster. Whole file: ~60-90 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import names, run
from tests.sync.conftest import _pg_available

#: every bench has a test below (a new bench without one fails ``test_every_bench_has_a_smoke_test``)
COVERED = {"adopt_import", "ageing", "allocate", "atp", "carrier_parse", "carrier_track", "dashboard", "edi", "eta",
           "forecast", "gui_cold_start", "import_orders", "invoice_pdf", "item_list", "packing_slips", "picklist_pdf",
           "po_pdf", "receive", "replenish", "seed_large", "stock_query", "sync_first", "sync_latency", "sync_push",
           "sync_scale", "track_ingest", "track_poll", "wave_plan"}

needs_pg = pytest.mark.skipif(not _pg_available(), reason="PostgreSQL at 127.0.0.1:5432 is not running (.ci/run starts it)")
SHOWN = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform says this when a window shows


def number(pattern: str, text: str) -> float:
    """The first number the regex's group catches in ``text`` (commas allowed)."""
    m = re.search(pattern, text)
    assert m is not None, f"{pattern!r} not in the bench's output:\n{text}"
    return float(m.group(1).replace(",", ""))


def bench(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``depot bench ARGV`` in this process; its output (the bench must succeed)."""
    capsys.readouterr()
    code = run([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 0, f"bench {argv[0]} exited {code}:\n{out.out}\n{out.err}"
    return out.out


@pytest.fixture(autouse=True)
def _private_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared large seed is invisible, the benches' cached builds land in this test's folder."""
    import bench._gui_data
    import bench.replenish
    import bench.stock_query
    import bench.sync_first

    absent = tmp_path / "no-large.db"
    for mod in (bench._gui_data, bench.replenish, bench.stock_query, bench.sync_first):
        monkeypatch.setattr(mod, "LARGE", absent)
    monkeypatch.setattr(bench._gui_data, "OWN", tmp_path / "gui-own.db")
    monkeypatch.setattr(bench.stock_query, "OWN", str(tmp_path / "stock-own-{moves}.db"))
    monkeypatch.setenv("DEPOT_BENCH_DB", str(absent))
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    monkeypatch.setenv("DEPOT_CARRIER_SANDBOX", "")  # restored afterwards: the tracking benches set it


@pytest.fixture(autouse=True)
def _no_window_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """A GUI bench run in-process must close what it showed: a visible window left behind kept the
    next test's app from quitting on its last window (tests/views/test_shell hung in app.exec() and
    test_setup_assistant failed on a Qt warning about the leftover window, in the whole suite only)."""
    yield
    if "qapp" not in request.fixturenames:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.processEvents()
        left = [type(w).__name__ for w in QApplication.topLevelWidgets() if w.isVisible()]
        assert not left, f"the bench left {left} open"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's temporary folders inside this test's (not for a postgres-owned cluster folder)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture(scope="module")
def demo_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One demo seed for the module, made by ``bench seed_large --size demo --keep``; (file, output)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = run(["seed_large", "--size", "demo", "--keep", str(path)])
    assert code == 0, buf.getvalue()
    return path, buf.getvalue()


@pytest.fixture
def demo(demo_seed: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the demo seed (benches write to their file, or roll back)."""
    return Path(shutil.copyfile(demo_seed[0], tmp_path / "demo.db"))


@pytest.fixture
def seeds_by_copy(demo_seed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Benches that seed a demo file of their own get a copy of the module's (same function, same
    data: the seed itself is tested once, by test_seed_large)."""
    from app.services import seed

    def copy(path: Path, size: str = "demo", *_a: Any, **_k: Any) -> None:
        assert size == "demo"
        shutil.copyfile(demo_seed[0], path)

    monkeypatch.setattr(seed, "seed_database", copy)


def test_every_bench_has_a_smoke_test() -> None:
    assert set(names()) == COVERED


def test_seed_large(demo_seed: tuple[Path, str]) -> None:
    out = demo_seed[1]
    assert number(r"seed demo \(seed 1\): ([\d.]+) s wall", out) > 0
    assert number(r"stock_move\s+([\d,]+)", out) > 100_000
    assert number(r"sales_order\s+([\d,]+)", out) > 1000
    assert number(r"shipment\s+([\d,]+)", out) > 0


# --- benches that build their own small file ---------------------------------------------------

def test_adopt_import(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "adopt_import", "--items", 200, "--days", 10)
    history = number(r"sales_history ([\d,]+) rows", out)
    assert number(r"import items\s+([\d,]+) rows", out) == 200
    assert number(r"import locations\s+([\d,]+) rows", out) == 600
    assert number(r"import order-points\s+([\d,]+) rows", out) == 600
    assert history > 0 and number(r"import sales-history\s+([\d,]+) rows", out) == history
    assert number(r"generate bins\s+([\d,]+) rows", out) == 3000


def test_ageing(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "ageing", "--items", 600, "--customers", 30, "--repeat", 1)
    assert number(r"ageing: ([\d,]+) customers", out) == 30
    assert number(r"over 90 ([\d,]+)", out) > 0
    assert number(r"DSO \(([\d.]+) days\)", out) > 0


def test_carrier_parse(capsys: pytest.CaptureFixture[str]) -> None:
    out = bench(capsys, "carrier_parse", "--bodies", 100, "--repeat", 1)
    assert number(r"parsed ([\d,]+) bodies", out) == 100
    assert number(r"MB, ([\d,]+) shipments\)", out) > 0


def test_carrier_track(capsys: pytest.CaptureFixture[str]) -> None:
    out = bench(capsys, "carrier_track", "--shipments", 30)
    assert number(r"tracked ([\d,]+) shipments", out) == 30
    assert number(r"\bok ([\d,]+)", out) >= 20
    assert number(r"sandbox served ([\d,]+) requests", out) > 0


def test_edi(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "edi", "--lines", 10)
    assert re.search(r"10 lines, one transaction\): \d+ ms -> BEN-ASN-\d+", out), out
    assert number(r"850 export of 10 lines: \d+ ms, ([\d,]+) bytes", out) > 0


def test_eta_made_up_shipments(capsys: pytest.CaptureFixture[str]) -> None:
    out = bench(capsys, "eta", "--train", 1000, "--score", 50)
    assert number(r"train 1000 shipments: ([\d.]+) s", out) >= 0
    assert "score 50 shipments" in out


def test_forecast_synthetic(capsys: pytest.CaptureFixture[str]) -> None:
    out = bench(capsys, "forecast", "--synthetic", "--series", 300)
    assert number(r"synthetic (\d+) series x 104 weeks", out) == 300


def test_invoice_pdf(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "invoice_pdf", "--count", 3, "--preview-lines", 50)
    assert number(r"bulk print of ([\d,]+) invoices", out) == 3
    assert number(r"invoices \(([\d,]+) pages\)", out) >= 3
    assert number(r"preview of a (\d+)-page invoice", out) >= 2


def test_packing_slips(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "packing_slips", "--slips", 3)
    assert number(r"(?m)^(\d+) packing slips in", out) == 3


def test_picklist_pdf(capsys: pytest.CaptureFixture[str]) -> None:
    out = bench(capsys, "picklist_pdf", "--lines", 40, "--repeat", 1)
    assert number(r"40 lines, (\d+) pages", out) >= 1


def test_po_pdf(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "po_pdf", "--lines", 10, "--repeat", 1)
    assert number(r"10 lines, (\d+) pages", out) >= 1


def test_receive(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "receive", "--lines", 10, "--bins", 40, "--repeat", 1)
    assert "(DAL-GR-000001; 10 tasks; 0 line(s) without one bin)" in out
    assert number(r"ledger now ([\d,]+) moves", out) == 20 + 10  # the opening stock of half the bins, the receipt


def test_replenish_on_its_stand_in(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = bench(capsys, "replenish", "--make", tmp_path / "repl.db", "--items", 100, "--warehouses", 2,
                "--moves", 3000, "--repeat", 1)
    assert number(r"\(([\d,]+) sales\)", out) == 3000
    assert number(r"pairs ([\d,]+)", out) == 200
    assert number(r"recommendations ([\d,]+)", out) > 0


def test_stock_query_on_its_own_ledger(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = bench(capsys, "stock_query", "--moves", 3000, "--repeat", 2)
    assert str(tmp_path / "stock-own-3000.db") in out
    assert number(r": ([\d,]+) moves;", out) == 3000
    assert number(r"has ([\d,]+) moves", out) > 0
    assert number(r"moves, ([\d,]+) on hand", out) > 0
    out = bench(capsys, "stock_query", "--moves", 3000, "--repeat", 1)
    assert "built" not in out  # a file this code reads is reused


def test_a_cached_bench_file_in_a_stored_form_of_before_is_built_again(tmp_path: Path) -> None:
    """A reused /tmp file of an earlier Depot (ids written as text) is stale, not used for a figure."""
    import sqlite3

    from app.models.catalog import Item
    from app.models.stock import StockMove
    from bench import _gui_data
    from bench._built import stale

    path = tmp_path / "gui.db"
    _gui_data.build(path, 20)
    assert not stale(path, Item, StockMove)
    with sqlite3.connect(path) as c:  # its items' ids as hex text, as the benches wrote them before 0022
        c.execute("PRAGMA foreign_keys = OFF")
        c.execute("UPDATE sync_capture SET enabled = 0")
        c.execute("UPDATE item SET id = lower(hex(id))")
    assert stale(path, Item, StockMove)
    assert stale(tmp_path / "missing.db", Item)


# --- GUI benches (a small file of their own shape, built by bench._gui_data) -----------------------

@pytest.fixture(scope="module")
def gui_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bench import _gui_data

    path = tmp_path_factory.mktemp("gui") / "gui.db"
    _gui_data.build(path, 300)
    return path


def test_gui_cold_start(capsys: pytest.CaptureFixture[str], gui_db: Path, in_tmp: None) -> None:
    out = bench(capsys, "gui_cold_start", "--db", gui_db, "--repeat", 1)  # an internal error in the child raises
    assert number(r"process start -> first paint\s+([\d.]+) ms", out) > 0
    assert number(r"first screen with rows\s+([\d.]+) ms", out) > 0


@SHOWN
def test_item_list(capsys: pytest.CaptureFixture[str], gui_db: Path, qapp: Any, in_tmp: None) -> None:
    out = bench(capsys, "item_list", "--db", gui_db, "--repeat", 1)
    assert number(r"([\d,]+) items", out) == 300
    assert number(r"open \(first page, (\d+) rows\)", out) == 300  # 100 items x 3 warehouses
    after = [int(x) for x in re.search(r"rows after each keystroke: \[([\d, ]+)\]", out).group(1).split(",")]  # type: ignore[union-attr]
    assert after[0] > 0 and after == sorted(after, reverse=True)  # typing narrows the list
    assert number(r"rows loaded ([\d,]+)", out) > 300


@SHOWN
def test_item_list_says_so_when_its_page_fails(capsys: pytest.CaptureFixture[str], gui_db: Path, tmp_path: Path,
                                                 qapp: Any, in_tmp: None) -> None:
    """A file whose rows the screen cannot read gives no figure (it waited 30 s a keystroke for 0 rows)."""
    import sqlite3

    path = Path(shutil.copyfile(gui_db, tmp_path / "bad.db"))
    with sqlite3.connect(path) as c:  # the first item's warehouse rows as a pre-0022 writer left them
        c.execute("PRAGMA foreign_keys = OFF")
        c.execute("UPDATE sync_capture SET enabled = 0")
        c.execute("UPDATE item SET id = lower(hex(id)) WHERE sku = 'SKU-000000'")
    assert run(["item_list", "--db", str(path), "--repeat", "1"]) == 1
    out = capsys.readouterr().out
    assert "no rows in the first page" in out and "the page failed" in out


# --- benches over a seeded file (a copy of the demo seed) -------------------------------------------

def test_allocate(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    out = bench(capsys, "allocate", "--db", demo, "--repeat", 1)
    assert number(r"'lines': (\d+)", out) > 0
    assert number(r"'units_allocated': (\d+)", out) > 0


def test_atp(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    out = bench(capsys, "atp", "--db", demo, "--repeat", 20)
    assert number(r"of ([\d,]+) open ones", out) > 0
    assert number(r"found the line's item for (\d+)", out) > 0
    kinds = {k: int(n) for k, n in re.findall(r"(\w+) (\d+)", out.split("promises ", 1)[1].splitlines()[0])}
    assert kinds.get("now", 0) + kinds.get("on", 0) > 0, kinds  # stock or receipts seen, not the lead time only


@SHOWN
def test_dashboard(capsys: pytest.CaptureFixture[str], demo: Path, qapp: Any, in_tmp: None) -> None:
    out = bench(capsys, "dashboard", "--db", demo, "--repeat", 1)
    kpis, with_figures = number(r"compute: (\d+) KPIs", out), number(r"\((\d+) with figures\)", out)
    assert kpis > 10 and with_figures >= kpis - 4
    assert number(r"open to first chart painted \(no cache\): median (\d+) ms", out) > 0


def test_eta_on_a_seeded_file(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    out = bench(capsys, "eta", "--db", demo)
    assert number(r"trained on (\d+) delivered shipments", out) > 100
    assert number(r"scored (\d+) open shipments", out) > 0


def test_forecast_on_a_seeded_file(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    out = bench(capsys, "forecast", "--db", demo)
    assert number(r"(\d+) series:", out) > 100
    assert number(r"backtest MASE ([\d.]+)", out) > 0


def test_import_orders(capsys: pytest.CaptureFixture[str], demo: Path, in_tmp: None) -> None:
    out = bench(capsys, "import_orders", "--db", demo, "--lines", 100)
    assert number(r"import orders: ([\d,]+) lines", out) == 100
    assert number(r"([\d,]+) lines promised", out) == 100


def test_receive_on_a_seeded_file(capsys: pytest.CaptureFixture[str], demo: Path, in_tmp: None) -> None:
    out = bench(capsys, "receive", "--db", demo, "--lines", 10, "--repeat", 1)
    assert number(r"(\d+) items, \d+ bins in the warehouse", out) == 10
    assert "10 tasks; 0 line(s) without one bin" in out


def test_wave_plan(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    out = bench(capsys, "wave_plan", "--db", demo, "--lines", 100, "--repeat", 1)
    assert number(r"untimed: ([\d,]+) units topped up", out) > 0
    assert number(r"'lines': (\d+)", out) >= 100
    assert number(r"'waves': (\d+)", out) > 0
    assert number(r"'released_lines': (\d+)", out) == number(r"'lines': (\d+)", out)


def test_track_poll(capsys: pytest.CaptureFixture[str], seeds_by_copy: None, in_tmp: None) -> None:
    out = bench(capsys, "track_poll", "--shipments", 24, "--per-minute", 6000)
    assert number(r"([\d,]+) shipments due", out) >= 24  # the bench's own and the seed's in transit
    assert number(r"one poll cycle over ([\d,]+) shipments", out) >= 24
    assert number(r"([\d,]+) new events", out) > 0
    assert number(r"([\d,]+) status changes", out) > 0


def test_track_poll_delivery(capsys: pytest.CaptureFixture[str], seeds_by_copy: None, in_tmp: None) -> None:
    out = bench(capsys, "track_poll", "--delivery")
    assert "its invoice released by the billing job" in out
    assert number(r"accepted by SMTP (\d+) ms after", out) > 0


def test_track_ingest(capsys: pytest.CaptureFixture[str], seeds_by_copy: None, in_tmp: None) -> None:
    out = bench(capsys, "track_ingest", "--shipments", 24)
    assert number(r"ingested ([\d,]+) events", out) == 240
    assert number(r"([\d,]+) shipments delivered", out) == 24
    assert number(r"(\d+) invoices made", out) > 0
    assert number(r"the same answers again: (\d+) new events", out) == 0


# --- PostgreSQL --------------------------------------------------------------------------------------

@needs_pg
def test_sync_push(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "sync_push", "--rows", 100, "--batches", 50)
    assert number(r"push\s+([\d,]+) rows/s", out) > 0
    assert number(r"pull\s+[\d,]+ rows/s \(([\d,]+) rows", out) >= 100


@needs_pg
def test_sync_latency(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "sync_latency", "--interval", 0.3, "--trials", 2)
    assert number(r"change-to-visible: median ([\d.]+) s", out) < 10


@needs_pg
def test_sync_first(capsys: pytest.CaptureFixture[str], in_tmp: None) -> None:
    out = bench(capsys, "sync_first", "--moves", 300, "--compare")
    assert "generated head office with 300 moves" in out
    assert number(r"everything, workstation 1\): ([\d,]+) rows", out) > 300
    assert number(r"selective, workstation 2\): ([\d,]+) rows", out) > 300
    assert out.count("balances equal the ledger") == 2


def _cluster_binaries() -> bool:
    from bench import _cluster

    try:
        return Path(_cluster._bin("initdb")).exists()
    except SystemExit:  # no initdb here
        return False


needs_cluster = pytest.mark.skipif(not _cluster_binaries(), reason="no PostgreSQL server binaries (initdb) here")


@pytest.fixture
def keep_idle(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from app.services.replication import link

    monkeypatch.setattr(link, "KEEP_IDLE_S", link.KEEP_IDLE_S)  # sync_scale lengthens it for the process
    yield


@needs_cluster
def test_sync_scale(capsys: pytest.CaptureFixture[str], keep_idle: None) -> None:
    out = bench(capsys, "sync_scale", "--sites", 2, "--branches", 2, "--cycles", 1, "--rows", 2, "--history", 20,
                "--phases", "push,pull,idle")
    assert number(r"first sync of a workstation: ([\d,]+) rows", out) > 20
    assert number(r"push\s+(\d+) syncs", out) == 2
    assert number(r"push .* pushed\s+([\d.]+)", out) == 2.0
    assert number(r"pull .* pulled\s+([\d.]+) rows/sync", out) > 0


@pytest.mark.slow
@needs_cluster
def test_sync_scale_paced_replay(capsys: pytest.CaptureFixture[str], keep_idle: None) -> None:
    out = bench(capsys, "sync_scale", "--sites", 3, "--branches", 2, "--rows", 2, "--history", 20, "--phases", "paced",
                "--procs", 1, "--threads", 2, "--period", 1, "--rounds", 1, "--replay", "--selective")
    assert number(r"paced\s+(\d+) syncs, 0 refused or failed", out) == 3
    assert number(r"paced .* pushed ([\d.]+) rows/sync", out) == 2.0
