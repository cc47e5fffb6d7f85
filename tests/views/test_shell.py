"""The application shell: op runner, login, navigation by role, status bar, settings, start-up errors."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.models.users import User
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.settings import Settings
from app.views import main_window as mw
from app.views.context import AppContext, make_test_context
from app.views.login import LoginDialog
from app.views.ops import Progress
from app.views.placeholder import ErrorPage, NotBuiltPage
from app.views.screens import NavEntry
from tests.factories import World

MakeCtx = Callable[[Actor], AppContext]
#: the offscreen platform says this whenever a window is shown; it is not our warning
SHOWN = pytest.mark.qt_log_ignore("propagateSizeHints")


# op runner ----------------------------------------------------------------------------------
def _make_table(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS scratch (v INTEGER)"))


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM scratch")).scalar_one())


def test_runner_delivers_result_on_gui_thread_after_commit(qtbot: Any, world: World, make_ctx: MakeCtx,
                                                           engine: Engine) -> None:
    _make_table(engine)
    ctx = make_ctx(world.actors["mike"])
    gui = threading.get_ident()
    seen: dict[str, Any] = {}

    def op(s: Session) -> int:
        seen["worker"] = threading.get_ident()
        s.execute(text("INSERT INTO scratch VALUES (7)"))
        return 42

    def on_changed(kinds: frozenset[str]) -> None:
        seen["kinds"] = kinds
        seen["rows_at_signal"] = _count(engine)  # a fresh connection sees the row: committed before emit
        seen["changed_thread"] = threading.get_ident()

    ctx.signals.data_changed.connect(on_changed)
    with qtbot.waitSignal(ctx.signals.data_changed, timeout=5000):
        ctx.runner.submit(op, lambda r: seen.update(result=r, done_thread=threading.get_ident()), kinds={"item"})
    qtbot.waitUntil(lambda: "result" in seen)
    assert seen["result"] == 42 and seen["done_thread"] == gui == seen["changed_thread"]
    assert seen["worker"] != gui
    assert seen["kinds"] == frozenset({"item"}) and seen["rows_at_signal"] == 1


def test_runner_rolls_back_and_reports_errors(qtbot: Any, world: World, make_ctx: MakeCtx, engine: Engine) -> None:
    _make_table(engine)
    ctx = make_ctx(world.actors["mike"])
    errors: list[tuple[BaseException, int]] = []
    changed: list[Any] = []
    ctx.signals.data_changed.connect(changed.append)

    def op(s: Session) -> None:
        s.execute(text("INSERT INTO scratch VALUES (1)"))
        raise ValidationError("qty", "must be positive")

    ctx.runner.submit(op, on_error=lambda e: errors.append((e, threading.get_ident())), kinds={"stock"})
    qtbot.waitUntil(lambda: bool(errors))
    assert str(errors[0][0]) == "qty: must be positive" and errors[0][1] == threading.get_ident()
    assert _count(engine) == 0 and changed == []
    # without on_error the text goes to the window's message area via op_failed
    with qtbot.waitSignal(ctx.signals.op_failed, timeout=5000) as blocker:
        ctx.runner.submit(op, label="post count")
    assert blocker.args == ["post count", "qty: must be positive"]


def test_qt_binding_keeps_the_reference_counts_of_none_and_bools(qtbot: Any) -> None:
    """PySide6 6.12 on Python 3.11 dropped one reference to None per void call (and to True per
    bool emitted): after a few thousand calls the interpreter aborted, mostly at the end of a
    busy test run where waiting loops make the most calls. pyproject pins a good version."""
    from PySide6.QtCore import QCoreApplication, QObject, Signal
    from PySide6.QtWidgets import QLabel

    class Flag(QObject):
        changed = Signal(bool)

    label, flag = QLabel(), Flag()
    flag.changed.connect(label.setVisible)
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        label.setText("x")
        QCoreApplication.processEvents()
        flag.changed.emit(True)
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert after[0] >= before[0] - 50 and after[1] >= before[1] - 50, \
        f"the Qt binding loses references to None/True ({before} -> {after}): use another PySide6 version"


def test_result_for_a_closed_service_is_dropped_quietly(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """A background service or screen closed while its op runs (the window closing during an
    e-mail run): the late result finds its signal gone; nothing may blow up in the event loop."""
    import shiboken6
    from PySide6.QtCore import QObject, Signal

    class Service(QObject):
        delivered = Signal(object)

    ctx = make_ctx(world.actors["mike"])
    service = Service()
    started, release = threading.Event(), threading.Event()

    def op(_s: Session) -> str:
        started.set()
        release.wait(5)
        return "report"

    handle = ctx.runner.submit(op, service.delivered.emit, label="deliver e-mail")
    assert started.wait(5)
    shiboken6.delete(service)  # closed while the op runs
    release.set()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert ctx.runner.wait_idle(5000) and handle.result == "report"


def test_an_older_read_landing_last_is_dropped_when_asked(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """Reads run three at a time: a list refreshed twice must show the newer answer even when
    the older read finishes last (``latest=``); without a key both answers are delivered."""
    ctx = make_ctx(world.actors["mike"])
    entered, release = threading.Event(), threading.Event()
    shown: list[str] = []

    def slow(_s: Session) -> str:
        entered.set()
        release.wait(5)
        return "before the write"

    def failing(_s: Session) -> str:
        entered.set()
        release.wait(5)
        raise ValidationError("list", "old query failed")

    key = ("expected receipts", 1)
    old = ctx.runner.submit(slow, shown.append, write=False, latest=key)
    assert entered.wait(5)
    new = ctx.runner.submit(lambda _s: "after the write", shown.append, write=False, latest=key)
    with qtbot.waitSignal(new.finished, timeout=5000):
        pass
    release.set()
    assert ctx.runner.wait_idle(5000)
    assert shown == ["after the write"] and old.superseded and not new.superseded
    # a superseded read's error is not shown either
    entered.clear()
    release.clear()
    errors: list[str] = []
    ctx.signals.op_failed.connect(lambda _label, text: errors.append(text))
    ctx.runner.submit(failing, shown.append, write=False, latest=key)
    assert entered.wait(5)
    ctx.runner.submit(lambda _s: "newest", shown.append, write=False, latest=key)
    qtbot.waitUntil(lambda: shown[-1] == "newest")
    release.set()
    assert ctx.runner.wait_idle(5000) and errors == []
    # no key: both land, in whatever order they finish
    entered.clear()
    release.clear()
    ctx.runner.submit(slow, shown.append, write=False)
    assert entered.wait(5)
    ctx.runner.submit(lambda _s: "unkeyed", shown.append, write=False)
    qtbot.waitUntil(lambda: shown[-1] == "unkeyed")
    release.set()
    assert ctx.runner.wait_idle(5000) and shown[-2:] == ["unkeyed", "before the write"]


def test_write_ops_run_one_at_a_time(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["mike"])
    active, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()

    def op(_s: Session) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        gate.wait(0.05)
        with lock:
            active[0] -= 1

    for _ in range(4):
        ctx.runner.submit(op)
    assert ctx.runner.busy
    assert ctx.runner.wait_idle(5000)
    assert peak[0] == 1 and not ctx.runner.busy


def test_progress_is_reported_and_cancel_stops_and_rolls_back(qtbot: Any, world: World, make_ctx: MakeCtx,
                                                               engine: Engine) -> None:
    _make_table(engine)
    ctx = make_ctx(world.actors["mike"])
    started = threading.Event()
    release = threading.Event()
    reports: list[tuple[int, int, str]] = []

    def long_job(s: Session, progress: Progress) -> int:
        done = 0
        for i in range(10_000):
            s.execute(text("INSERT INTO scratch VALUES (:v)"), {"v": i})
            progress.report(i + 1, 10_000, f"row {i + 1}")
            if i == 10:
                started.set()
                release.wait(5)
            if progress.cancelled:
                progress.check()
            done += 1
        return done

    handle = ctx.runner.submit(long_job, progress=True, label="long job")
    handle.progressed.connect(lambda d, t, s: reports.append((d, t, s)))
    assert started.wait(5)
    handle.cancel()
    release.set()
    with qtbot.waitSignal(handle.failed, timeout=5000):
        pass
    assert handle.cancelled and handle.done
    assert _count(engine) == 0  # rolled back
    assert reports and reports[0][:2] == (1, 10_000)
    assert len(reports) < 50  # throttled, not 10,000 signals

    finished = ctx.runner.submit(lambda s, p: [p.report(i, 3, "") for i in range(4)] and "ok", progress=True)
    got: list[tuple[int, int, str]] = []
    finished.progressed.connect(lambda d, t, s: got.append((d, t, s)))
    with qtbot.waitSignal(finished.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == ["ok"]
    assert got[0] == (0, 3, "") and got[-1] == (3, 3, "")  # first and last always reach the GUI


# login --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "password", "message"), [
    ("alice", "wrong", "unknown user or wrong password"),
    ("nobody", "secret-alice", "unknown user or wrong password"),
    ("", "x", "enter your user name"),
])
def test_login_refusals(qtbot: Any, world: World, engine: Engine, user: str, password: str, message: str) -> None:
    dlg = LoginDialog(engine, user)
    qtbot.addWidget(dlg)
    dlg.password_edit.setText(password)
    assert dlg.try_login() is False
    assert dlg.error_label.text() == message and dlg.actor is None
    assert dlg.password_edit.text() == "" or not user


def test_login_ok_and_disabled_user(qtbot: Any, world: World, engine: Engine, session: Session) -> None:
    dlg = LoginDialog(engine, "Alice ")
    qtbot.addWidget(dlg)
    dlg.password_edit.setText("secret-alice")
    assert dlg.try_login() is True
    assert dlg.actor is not None and dlg.actor.username == "alice" and dlg.actor.roles == {"buyer"}
    session.scalars(select(User).where(User.username == "bob")).one().active = False
    session.commit()
    dlg2 = LoginDialog(engine, "bob")
    qtbot.addWidget(dlg2)
    dlg2.password_edit.setText("secret-bob")
    assert dlg2.try_login() is False and dlg2.error_label.text() == "user bob is disabled"


# main window --------------------------------------------------------------------------------
def test_status_bar_names_the_workstations_branch_and_a_visiting_users_own(
        qtbot: Any, world: World, make_ctx: MakeCtx, engine: Any) -> None:
    """A Dallas user signed in at a Houston workstation works on Houston's data: the status bar said
    'branch: DAL Dallas' above Houston's waves (seen walking). It names the workstation's branch, and
    the user's beside it."""
    from tests.factories import become_branch_site

    become_branch_site(engine, world.hou)
    win = mw.MainWindow(make_ctx(world.actors["alice"]))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.branch_label.text() == "branch: HOU Houston (user of DAL)")


def test_status_bar_and_nav(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["alice"])
    win = mw.MainWindow(ctx)
    qtbot.addWidget(win)
    assert win.user_label.text() == "user: alice (buyer)"
    qtbot.waitUntil(lambda: win.branch_label.text() == "branch: DAL Dallas")
    try:
        import app.views.sync.controller  # noqa: F401
    except ModuleNotFoundError:
        assert win.sync_label.text() == "sync: not configured"
    assert win.nav.count() == len(mw.NAV)
    assert isinstance(win.current_screen(), win.pages["buying"].__class__)  # a buyer starts on Buying
    for entry in mw.NAV:
        assert win.actions_by_key[entry.key].shortcut().toString() != ""


def test_roles_decide_enabled_entries(qtbot: Any, world: World, make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch) -> None:
    nav = (
        NavEntry("master", "Master data", "app.views.items.screen:ItemsScreen", "Ctrl+8", "item.view"),
        NavEntry("settings", "Settings", "app.views.settings.screen:SettingsScreen", "Ctrl+0", "settings.edit"),
        NavEntry("dashboard", "Dashboard", "app.views.no_such_area.screen:X", "Ctrl+6", "dashboard.view"),
    )
    monkeypatch.setattr(mw, "NAV", nav)
    buyer = mw.MainWindow(make_ctx(world.actors["alice"]))
    qtbot.addWidget(buyer)
    wes = mw.MainWindow(make_ctx(world.actors["wes"]))
    qtbot.addWidget(wes)

    def flags(w: mw.MainWindow) -> list[bool]:
        return [bool(w.nav.item(i).flags() & Qt.ItemFlag.ItemIsEnabled) for i in range(3)]

    assert flags(buyer) == [True, False, True]  # buyers see the dashboard, not settings
    assert flags(wes) == [True, False, False]
    assert not wes.actions_by_key["dashboard"].isEnabled()
    assert wes.open_screen("settings") is None  # a disabled entry cannot be opened by shortcut either
    root = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(root)
    assert flags(root) == [True, True, True]


def test_unbuilt_screens_say_so_and_import_errors_are_shown(
    qtbot: Any, world: World, make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    pkg = tmp_path / "brokenarea"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "screen.py").write_text("import a_dependency_that_is_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    nav = (
        NavEntry("master", "Master data", "app.views.items.screen:ItemsScreen", "Ctrl+8", "item.view"),
        NavEntry("buying", "Buying", "app.views.no_such_area_yet.screen:BuyingScreen", "Ctrl+1", "item.view"),
        NavEntry("broken", "Broken", "brokenarea.screen:BrokenScreen", "Ctrl+2", "item.view"),
        NavEntry("noclass", "No class", "app.views.placeholder:NoSuchScreen", "Ctrl+3", "item.view"),
    )
    monkeypatch.setattr(mw, "NAV", nav)
    win = mw.MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(win)
    page = win.open_screen("buying")
    assert isinstance(page, NotBuiltPage)
    assert page.message == "Buying is not built yet" and "issue 4" in page.detail
    broken = win.open_screen("broken")
    assert isinstance(broken, ErrorPage) and "a_dependency_that_is_not_installed_xyz" in broken.message
    noclass = win.open_screen("noclass")
    assert isinstance(noclass, ErrorPage) and "has no class NoSuchScreen" in noclass.message
    sys.modules.pop("brokenarea", None)


@SHOWN
def test_op_errors_show_in_the_message_area_and_busy_indicator_follows(
    qtbot: Any, world: World, make_ctx: MakeCtx,
) -> None:
    ctx = make_ctx(world.actors["mike"])
    win = mw.MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    assert ctx.runner.wait_idle(5000)
    assert not win.busy.isVisible()

    def op(_s: Session) -> None:
        raise ValidationError("warehouse", "is required")

    # another op still running when the error arrives, as the window's own background reads are
    # (the sync status after a sync run, a screen's list): the indicator stays on until both are done
    release = threading.Event()
    ctx.runner.submit(lambda _s: release.wait(5), write=False, label="sync status")
    ctx.runner.submit(op, label="save")
    assert win.busy.isVisible()
    qtbot.waitUntil(lambda: win.message_label.text() == "save: warehouse: is required")
    assert win.busy.isVisible()
    release.set()
    qtbot.waitUntil(lambda: not win.busy.isVisible())
    assert not ctx.runner.busy


def test_a_note_clears_itself_and_a_closed_window_drops_the_timer(
    qtbot: Any, world: World, make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shiboken6
    from PySide6.QtCore import QCoreApplication

    monkeypatch.setattr(mw.MainWindow, "MESSAGE_MS", 0)
    ctx = make_ctx(world.actors["mike"])
    win = mw.MainWindow(ctx)
    qtbot.addWidget(win)
    ctx.signals.message.emit("saved")
    assert win.message_label.text() == "saved"
    qtbot.waitUntil(lambda: win.message_label.text() == "")
    # a note shown just before the window went away: its timer must not touch the deleted label
    # (it did, in whichever test ran next: "Internal C++ object (QLabel) already deleted")
    other = mw.MainWindow(make_ctx(world.actors["mike"]))
    other.show_message("sent")
    other.close()
    shiboken6.delete(other)
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()
    assert win.message_label.text() == ""


def test_window_geometry_and_screen_persist(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    win = mw.MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(win)
    win.resize(700, 520)
    win.open_screen("settings")
    win.save_layout()
    again = mw.MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 520)
    assert again.nav.currentRow() == [e.key for e in mw.NAV].index("settings")


def test_f5_and_ctrl_f_reach_the_current_screen(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    # the offscreen platform never activates a window, so shortcuts are checked through their actions
    win = mw.MainWindow(make_ctx(world.actors["mike"]), open_key="master")
    qtbot.addWidget(win)
    acts = {a.text(): a for a in win.actions()}
    assert acts["Find"].shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert acts["Refresh"].shortcut() == QKeySequence(Qt.Key.Key_F5)
    screen = win.current_screen()
    calls: list[str] = []
    screen.refresh = lambda: calls.append("refresh")  # type: ignore[union-attr, method-assign]
    screen.focus_search = lambda: calls.append("find")  # type: ignore[union-attr, method-assign]
    acts["Find"].trigger()
    acts["Refresh"].trigger()
    assert calls == ["find", "refresh"]
    assert acts["Master data"].shortcut() == QKeySequence("Ctrl+8")
    acts["Master data"].trigger()
    assert win.current_screen() is screen


# settings -----------------------------------------------------------------------------------
def test_settings_screen_keeps_secrets_in_keyring(qtbot: Any, world: World, make_ctx: MakeCtx, tmp_path: Path) -> None:
    from app.views.settings.screen import SettingsScreen

    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    # (carrier secrets: tests/views/test_carrier_settings.py, the Carriers page)
    g = screen.general
    g.dsn.setText("postgresql://depot@hq/depot")
    g.server_password.setText("PW-SECRET-2")
    g.save.click()
    qtbot.waitUntil(lambda: g.status.text() == "saved")
    raw = (tmp_path / "settings.json").read_text()
    assert "PW-SECRET-2" not in raw
    assert "hq" in json.loads(raw)["server.dsn"]
    rep = pytest.importorskip("app.services.replication.conn")
    # the password goes where the replication area looks for it; the address (no password) to its state
    assert ctx.settings.get_secret(rep.secret_name("depot")) == "PW-SECRET-2"
    assert "hq" in rep.get_state(ctx.engine, "dsn")
    g.dsn.setText("postgresql://clerk:INLINE-PW-3@hq/depot")
    g.save.click()
    qtbot.waitUntil(lambda: "clerk" in rep.get_state(ctx.engine, "dsn"))
    assert ctx.settings.get_secret(rep.secret_name("clerk")) == "INLINE-PW-3"
    assert "INLINE-PW-3" not in (tmp_path / "settings.json").read_text()
    assert "INLINE-PW-3" not in rep.get_state(ctx.engine, "dsn")
    with sqlite3.connect(str(ctx.engine.url.database)) as con:
        dump = "\n".join(con.iterdump())
    assert "PW-SECRET-2" not in dump
    # the admin may set this database's branch; sections of unbuilt areas are not shown
    qtbot.waitUntil(lambda: g.branch_combo.count() == 3)
    g.branch_combo.setCurrentIndex(g.branch_combo.findData(str(world.hou.id)))
    ctx.signals.op_failed.connect(lambda label, text: pytest.fail(text))
    g.branch_save.click()
    qtbot.waitUntil(lambda: g.branch_label.text() == "HOU  Houston")
    assert screen.section_titles()[:2] == ["General", "Carriers"]


def test_settings_branch_is_read_only_for_non_admin(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    from app.views.settings.screen import SettingsScreen

    screen = SettingsScreen(make_ctx(world.actors["mike"]))
    qtbot.addWidget(screen)
    assert not screen.general.branch_combo.isEnabled() and not screen.general.branch_save.isEnabled()


# start-up -----------------------------------------------------------------------------------
def _launch_problem(monkeypatch: pytest.MonkeyPatch, path: Path, tmp_path: Path) -> tuple[int, list[str]]:
    import app.gui as gui

    shown: list[str] = []
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setattr(gui, "show_problem", lambda title, text: shown.append(text))
    monkeypatch.setattr(gui.LoginDialog, "ask", classmethod(lambda cls, *a, **k: pytest.fail("login must not open")))
    rc = gui.launch(argparse.Namespace(db=path, demo=False, user=None))
    return rc, shown


def test_corrupt_database_gives_a_clear_message(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    rc, shown = _launch_problem(monkeypatch, bad, tmp_path)
    assert rc == 2 and len(shown) == 1 and "not a Depot database" in shown[0]
    rc, shown = _launch_problem(monkeypatch, tmp_path / "missing.db", tmp_path)
    assert rc == 2 and "does not exist" in shown[0]


def test_newer_schema_gives_a_clear_message(qtbot: Any, db_path: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite3.connect(db_path) as con:
        # a file a newer Depot wrote: its heads are revisions this one does not know (not "rowid 1": with
        # several heads and upgrades in between, no row need have rowid 1, and nothing would change)
        assert con.execute("UPDATE alembic_version SET version_num = '9999_future_' || rowid").rowcount >= 1
    rc, shown = _launch_problem(monkeypatch, db_path, tmp_path)
    assert rc == 2 and "newer Depot" in shown[0]


@SHOWN
def test_launch_signs_in_and_paints_the_main_window(
    qtbot: Any, world: World, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import app.gui as gui

    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    monkeypatch.setenv("DEPOT_EXIT_AFTER_PAINT", "1")
    asked: list[str] = []

    def ask(cls: Any, engine: Engine, username: str = "", parent: Any = None) -> Actor:
        asked.append(username)
        return world.actors["mike"]

    monkeypatch.setattr(gui.LoginDialog, "ask", classmethod(ask))
    rc = gui.launch(argparse.Namespace(db=db_path, demo=False, user="mike"))
    assert rc == 0 and asked == ["mike"]




@SHOWN
def test_demo_database_is_created_on_a_worker_with_progress(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import app.gui as gui
    import app.services.seed as seed_mod
    from app.services import schema
    from app.services.db import make_engine

    gui_thread = threading.get_ident()
    seen: list[Any] = []

    def fake_seed(path: Path, size: str = "demo", progress: Any = None, **_: Any) -> str:
        seen.append((size, threading.get_ident() != gui_thread))
        progress(1, 2, "items")
        engine = make_engine(path)
        schema.upgrade(engine)
        engine.dispose()
        progress(2, 2, "done")
        return "report"

    monkeypatch.setattr(seed_mod, "seed_database", fake_seed)
    path = tmp_path / "data" / "demo.db"
    assert gui.create_demo_database(path) is True
    assert seen == [("demo", True)] and path.exists()

    def failing_seed(path: Path, size: str = "demo", progress: Any = None, **_: Any) -> None:
        path.write_bytes(b"half")
        raise ValidationError("size", "disk full while seeding")

    shown: list[str] = []
    monkeypatch.setattr(seed_mod, "seed_database", failing_seed)
    monkeypatch.setattr(gui, "show_problem", lambda title, text: shown.append(text))
    bad = tmp_path / "other" / "demo.db"
    assert gui.create_demo_database(bad) is False
    assert not bad.exists() and "could not create the demo database" in shown[0] and "disk full" in shown[0]


def test_inline_runner_delivers_before_submit_returns(qtbot: Any, world: World, engine: Engine, tmp_path: Path) -> None:
    _make_table(engine)
    ctx = make_test_context(engine, world.actors["mike"], Settings(tmp_path / "s.json"), inline=True)
    got: list[Any] = []
    changed: list[Any] = []
    ctx.signals.data_changed.connect(changed.append)
    handle = ctx.runner.submit(lambda s: s.execute(text("INSERT INTO scratch VALUES (1)")) and "ok", got.append,
                               kinds={"stock"})
    assert got == ["ok"] and handle.done and changed == [frozenset({"stock"})] and _count(engine) == 1
    errors: list[BaseException] = []

    def bad(s: Session) -> None:
        s.execute(text("INSERT INTO scratch VALUES (2)"))
        raise ValidationError("qty", "too big")

    ctx.runner.submit(bad, on_error=errors.append)
    assert [str(e) for e in errors] == ["qty: too big"] and _count(engine) == 1 and not ctx.runner.busy


@SHOWN
def test_a_long_step_line_wraps_inside_the_screen(qtbot: Any) -> None:
    """A step of the upgrade names its migration (0027's title is 101 characters): the line wraps and the
    progress dialog stays inside the screen (it grew past the right edge, the line cut off)."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    import app.gui as gui

    line = "step 1 of 2: 0027_replicated_times: " + "every replicated row's created_at as microseconds " * 3
    seen: dict[str, Any] = {}

    def work(report: Callable[[int, int, str], None]) -> str:
        report(1, 2, line)
        time.sleep(0.6)  # the dialog shows the line meanwhile
        return "done"

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None
        seen["width"] = dialog.frameGeometry().width()
        seen["text"] = " ".join(lab.text() for lab in dialog.findChildren(QLabel))

    QTimer.singleShot(400, look)
    assert gui._with_progress("upgrade", "Backing up and upgrading the database...", work, throttle=False) == {"ok": "done"}
    screen = QApplication.primaryScreen().availableGeometry().width()
    assert line in seen["text"], "the whole line is shown"
    assert seen["width"] <= screen, f"the dialog is {seen['width']} px on a {screen} px screen"
