"""The workstation as branch staff meet it: F1 lists the keys, diagnostics go to the clipboard without a
secret, the about box, splitters remembered per screen, Settings > Backups, the first-start dialog and
the upgrade of an older database at start (backed up first)."""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QSplitter, QTabWidget
from sqlalchemy import Engine, text

from app.services import backup, schema
from app.services.auth import Actor
from app.services.db import make_engine, session_scope, site_id
from app.views import main_window as mw
from app.views.context import AppContext
from app.views.help import shortcuts_of, where_of
from app.views.settings.backups_page import BackupsPage
from app.views.setup.first_start import FirstStartDialog
from tests.factories import World

MakeCtx = Callable[[Actor], AppContext]
SHOWN = pytest.mark.qt_log_ignore("propagateSizeHints")
pytestmark = SHOWN  # dialogs are shown here


def test_f1_lists_the_window_and_the_screen_keys(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    win = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(win)
    win.open_screen("settings")
    win.help.shortcuts.trigger()
    dlg = win.help.dialog
    assert dlg is not None
    rows = [(dlg.table.item(r, 0).text(), dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text())
            for r in range(dlg.table.rowCount())]
    keys = {k: what for _w, k, what in rows}
    assert keys["F1"] == "Keyboard shortcuts" and keys["F5"] == "Refresh" and keys["Ctrl+Shift+L"].startswith("Sign out")
    assert keys["Ctrl+Shift+F1"] == "Copy diagnostics"
    assert sum(1 for _w, k, _x in rows if k.startswith("Ctrl+") and k[-1].isdigit()) >= 9  # every screen's key
    dlg.close()


def test_f1_lists_only_the_screens_the_role_may_open(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    win = mw.MainWindow(make_ctx(world.actors["rita"]))  # a receiver: no dashboard, no sync, no receivables
    qtbot.addWidget(win)
    win.help.shortcuts.trigger()
    dlg = win.help.dialog
    assert dlg is not None
    listed = {dlg.table.item(r, 2).text() for r in range(dlg.table.rowCount())}
    closed = {e.title for e in mw.NAV if not mw.allowed(win.ctx, e)}
    opened = {e.title for e in mw.NAV if mw.allowed(win.ctx, e)}
    assert closed and "Dashboard" in closed, "the receiver has screens it may not open"
    assert not listed & closed
    assert opened <= listed
    dlg.close()


def test_f1_says_what_every_key_of_every_screen_does(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """Seen on the installed program: Buying's F1 listed eight keys as just "shortcut" (a bare QShortcut
    says nothing), and Settings > Approval rules gave Alt+D to two buttons (neither fires, Qt cycles)."""
    win = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(win)
    for entry in mw.NAV:
        screen = win.open_screen(entry.key)
        assert screen is not None
        for tabs in screen.findChildren(QTabWidget):  # build lazy tabs: their keys count too
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
        bare = [sc.key().toString() for sc in screen.findChildren(QShortcut) if not sc.whatsThis()]
        assert not bare, f"{entry.key}: keys that do not say what they do (app.views.widgets.keys.shortcut)"
        rows = [r for r in shortcuts_of(win, screen) if r[0] != "Window"]
        assert rows or entry.key in {"master", "dashboard"}, entry.key
        for where, key, what in rows:
            assert what and what.lower() != "shortcut", (where, key)
        buttons: dict[tuple[str, str], set[str]] = {}
        for btn in screen.findChildren(QAbstractButton):
            if not btn.shortcut().isEmpty():
                place = where_of(screen.windowTitle(), btn, screen)
                buttons.setdefault((place, btn.shortcut().toString()), set()).add(btn.text())
        assert not {k: v for k, v in buttons.items() if len(v) > 1}, "one key, two buttons in one place"
    dispatch = {(w, k): what for w, k, what in shortcuts_of(win, win.open_screen("dispatch"))}
    assert dispatch[("Dispatch > Packing", "F8")] == "Print the packing slip"
    assert dispatch[("Dispatch > Manifest", "F8")].startswith("Write the day's packing slips")


def test_copy_diagnostics_puts_facts_and_no_secret_on_the_clipboard(qtbot: Any, world: World, make_ctx: MakeCtx,
                                                                    engine: Engine) -> None:
    ctx = make_ctx(world.actors["root"])
    ctx.settings.set_secret("sync:depot_dal", "hunter2-secret")
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO sync_state (key, value) VALUES ('dsn', 'host=db.example user=depot_dal "
                          "password=hunter2-secret dbname=depot')")
    win = mw.MainWindow(ctx)
    qtbot.addWidget(win)
    QApplication.clipboard().setText("")
    win.help.copy.trigger()
    qtbot.waitUntil(lambda: QApplication.clipboard().text().startswith("Depot "), timeout=10000)
    text = QApplication.clipboard().text()
    assert "hunter2" not in text
    assert "schema: " in text and "(current)" in text and "sync: " in text and "host=db.example" in text
    assert "last backup: none recorded" in text and "user: root" in text
    assert "Diagnostics copied" in win.message_label.text()


def test_about_box_names_version_database_and_schema(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    from app import __version__

    win = mw.MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(win)
    win.help.about.trigger()
    box = win.findChild(QMessageBox, "aboutBox")
    assert box is not None and f"Depot {__version__}" in box.text() and str(win.ctx.engine.url.database) in box.text()
    assert sorted(schema.script_heads())[0] in box.text()
    box.close()


def test_about_and_diagnostics_name_the_build(qtbot: Any, world: World, make_ctx: MakeCtx, engine: Engine,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every package said Version 0.1.0: after an upgrade over an older .deb neither dpkg, the about box nor
    the diagnostics told the two builds apart. build_deb.sh writes the build into the bundle; a source run
    says so."""
    import app
    from app.services import diagnostics

    monkeypatch.setattr(app, "BUILD_FILE", tmp_path / "missing.txt")
    assert diagnostics.report(engine).splitlines()[0] == f"Depot {app.__version__} (source run)"
    built = tmp_path / "build.txt"
    built.write_text("0.1.0+20261206125700.g9264956\n")
    monkeypatch.setattr(app, "BUILD_FILE", built)
    assert diagnostics.report(engine).splitlines()[0] == "Depot 0.1.0 (build 20261206125700.g9264956)"
    win = mw.MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(win)
    win.help.about.trigger()
    box = win.findChild(QMessageBox, "aboutBox")
    assert box is not None and "Depot 0.1.0 (build 20261206125700.g9264956)" in box.text()
    box.close()


def test_a_first_start_window_fits_the_screen(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """No saved geometry: the window takes at most the screen's free area (the offscreen screen is
    800 px wide; a 1366 x 768 laptop lost its status bar to a fixed 1280 x 800)."""
    win = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(win)
    free = win.screen().availableGeometry()
    assert free.width() < 1280  # the point of the test: a screen smaller than the preferred size
    win.show()
    assert win.frameGeometry().width() <= free.width() and win.height() <= free.height()
    assert win.x() >= free.x() and win.y() >= free.y()


def test_splitters_keep_their_place_per_screen(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    win = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(win)
    win.resize(1300, 760)
    win.show()
    page = win.open_screen("exceptions")
    assert page is not None
    sp = page.findChildren(QSplitter)[0]
    total = sum(sp.sizes())
    sp.moveSplitter(int(total * 0.3), 1)
    wanted = sp.sizes()
    sp.splitterMoved.emit(int(total * 0.3), 1)
    again = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(again)
    again.resize(1300, 760)
    again.show()
    page2 = again.open_screen("exceptions")
    assert page2 is not None
    qtbot.waitUntil(lambda: page2.findChildren(QSplitter)[0].sizes() == wanted, timeout=3000)


def _branch_file(engine: Engine, w: World) -> None:
    with session_scope(engine) as s:
        site_id(s)
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE local_site SET branch_id = ? WHERE id = 1", (w.dal.id,))


def test_backups_page_backs_up_verifies_and_refuses_a_missing_folder(qtbot: Any, world: World, make_ctx: MakeCtx,
                                                                      engine: Engine, tmp_path: Path) -> None:
    _branch_file(engine, world)
    ctx = make_ctx(world.actors["root"])
    page = BackupsPage(ctx)
    qtbot.addWidget(page)
    page.folder.setText(str(tmp_path / "no-such-share"))
    with qtbot.waitSignal(page.finished, timeout=5000) as sig:
        page.save_button.click()
    assert "does not exist" in sig.args[0] and ctx.settings.get("backup.dir") is None
    share = tmp_path / "share"
    share.mkdir()
    page.folder.setText(str(share))
    page.keep.setValue(30)
    page.save_button.click()
    assert ctx.settings.get("backup.dir") == str(share) and ctx.settings.get("backup.keep_days") == 30
    with qtbot.waitSignal(page.finished, timeout=20000) as sig:
        page.now_button.click()
    assert sig.args[0].startswith("backed up to") and page.table.rowCount() == 1
    assert "backed up to" in page.last.text()
    with qtbot.waitSignal(page.finished, timeout=20000) as sig:
        page.verify_button.click()
    assert sig.args[0].startswith("The backup restores") and "balances match the ledger" in sig.args[0]


def test_backups_page_is_read_only_but_backs_up_for_a_clerk(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    page = BackupsPage(make_ctx(world.actors["mike"]))
    qtbot.addWidget(page)
    assert not page.save_button.isEnabled() and not page.restore_button.isEnabled() and page.now_button.isEnabled()


def test_backups_page_restore_asks_then_replaces_and_closes(qtbot: Any, world: World, make_ctx: MakeCtx,
                                                          engine: Engine, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _branch_file(engine, world)
    ctx = make_ctx(world.actors["root"])
    ctx.settings.set("backup.dir", str(tmp_path))
    taken = backup.take_backup(Path(str(engine.url.database)), tmp_path)
    page = BackupsPage(ctx)
    qtbot.addWidget(page)
    assert page.selected() is not None and str(page.selected().path) == taken.path
    monkeypatch.setattr(BackupsPage, "ask_restore", classmethod(lambda cls, parent, b: False))
    page.restore_button.click()
    assert not list(tmp_path.parent.glob("*.before-restore-*"))
    closed: list[Any] = []
    monkeypatch.setattr(BackupsPage, "ask_restore", classmethod(lambda cls, parent, b: True))
    monkeypatch.setattr(BackupsPage, "restored", lambda self, rep: closed.append(rep))
    with qtbot.waitSignal(page.finished, timeout=30000) as sig:
        page.restore_button.click()
    assert sig.args[0].startswith("restored") and "Depot closes now" in sig.args[0]
    assert closed and closed[0].kept_as and Path(closed[0].kept_as).exists()


def test_first_start_creates_a_new_company_file(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "home" / "depot.db"
    dlg = FirstStartDialog(target)
    qtbot.addWidget(dlg)
    dlg.new_button.click()
    assert dlg.choice == "new" and target.exists()
    eng = make_engine(target)
    try:
        schema.check_current(eng)
    finally:
        eng.dispose()


def test_first_start_join_needs_its_fields_and_says_why_it_failed(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "depot.db"
    dlg = FirstStartDialog(target)
    qtbot.addWidget(dlg)
    dlg.join_button.click()
    assert dlg.stack.currentIndex() == 1
    dlg.join_go.click()
    assert "server: is required" in dlg.status.text()
    dlg.host.setText("127.0.0.1")
    dlg.port.setText("1")  # nothing listens there
    dlg.login.setText("depot_dal")
    dlg.join_go.click()
    qtbot.waitUntil(lambda: "could not join the branch" in dlg.status.text(), timeout=20000)
    assert dlg.choice is None and not target.exists() and dlg.join_go.isEnabled()


def test_first_start_restore_refuses_a_wrong_file(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"no" * 2000)
    monkeypatch.setattr(FirstStartDialog, "pick_backup", classmethod(lambda cls, parent: str(junk)))
    dlg = FirstStartDialog(tmp_path / "depot.db")
    qtbot.addWidget(dlg)
    dlg.restore_button.click()
    qtbot.waitUntil(lambda: "not a Depot backup" in dlg.status.text(), timeout=10000)
    assert dlg.choice is None and not (tmp_path / "depot.db").exists()


def _older_file(path: Path) -> None:
    eng = make_engine(path)
    try:
        schema.upgrade(eng, "0002")  # a Depot of the first weeks
    finally:
        eng.dispose()


@SHOWN
def test_start_on_an_older_database_backs_it_up_and_upgrades_it(qtbot: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import app.gui as gui

    old = tmp_path / "old.db"
    _older_file(old)
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    shown: list[str] = []
    monkeypatch.setattr(gui, "show_problem", lambda title, text: shown.append(text))
    notes: list[str] = []
    monkeypatch.setattr(gui, "show_note", lambda title, text: notes.append(text))
    monkeypatch.setattr(gui, "ask_upgrade", lambda path, folder: False)
    assert gui.launch(argparse.Namespace(db=old, demo=False, user=None)) == 2
    assert schema.db_heads(make_engine(old)) == {"0002"}  # declined: untouched
    monkeypatch.setattr(gui, "ask_upgrade", lambda path, folder: True)
    monkeypatch.setattr(gui, "_first_run", lambda engine: "")
    monkeypatch.setattr(gui, "_still_in_setup", lambda engine: False)
    monkeypatch.setattr(gui.LoginDialog, "ask", classmethod(lambda cls, *a, **k: None))  # the sign-in opens
    assert gui.launch(argparse.Namespace(db=old, demo=False, user=None)) == 1
    eng = make_engine(old)
    try:
        schema.check_current(eng)
    finally:
        eng.dispose()
    kept = backup.list_backups(tmp_path / "data" / "backups")
    assert len(kept) == 1 and backup.describe(kept[0].path).schema == ("0002",) and not shown
    assert len(notes) == 1 and f"a backup of the file as it was is at {kept[0].path}" in notes[0]


@SHOWN
def test_the_upgrade_at_start_shows_every_step_as_it_begins(qtbot: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Walked on the large file: the dialog said 'Backing up and upgrading the database...' for the
    whole minute. Each step reaches it now, none dropped by the progress throttle (steps of a small
    file follow each other within its 0.1 s)."""
    import app.gui as gui

    old = tmp_path / "old.db"
    _older_file(old)
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    shown: list[str] = []
    monkeypatch.setattr(gui, "show_problem", lambda title, text: shown.append(text))
    monkeypatch.setattr(gui, "ask_upgrade", lambda path, folder: True)
    lines: list[str] = []
    real = gui.run_task

    def spied(work: Any, done: Any, failed: Any, progress: Any, **kw: Any) -> None:
        real(work, done, failed, lambda d, t, line: (lines.append(line), progress(d, t, line)), **kw)

    monkeypatch.setattr(gui, "run_task", spied)
    monkeypatch.setattr(gui, "show_note", lambda title, text: None)
    assert gui.upgrade_database(old, gui.Settings()) and not shown
    steps = [ln for ln in lines if ln.startswith("step ")]
    n = int(steps[-1].split(" of ")[1].split(":")[0])
    assert n > 20 and [int(ln.split()[1]) for ln in steps] == list(range(1, n + 1))
    assert lines[0].startswith("backing up the file") and "compacting the file" in steps[-1]


@SHOWN
def test_a_start_after_an_upgrade_killed_while_compacting_finishes_it_unasked(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed during its VACUUM, an upgrade left the file at the new schema and uncompacted for good;
    the next start now compacts it under the progress dialog, without the older-version question."""
    import app.gui as gui

    path = tmp_path / "branch.db"
    _older_file(path)
    eng = make_engine(path)
    try:
        schema.upgrade(eng)
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO sync_state (key, value) VALUES (:k, '1')"), {"k": schema.COMPACT_PENDING})
        with pytest.raises(schema.SchemaOutdated, match="did not finish its upgrade"):
            schema.check_current(eng)
    finally:
        eng.dispose()
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    asked: list[Path] = []
    monkeypatch.setattr(gui, "ask_upgrade", lambda p, folder: asked.append(p) or False)
    monkeypatch.setattr(gui, "show_problem", lambda title, msg: pytest.fail(msg))
    notes: list[str] = []
    monkeypatch.setattr(gui, "show_note", lambda title, text: notes.append(text))
    assert gui.upgrade_database(path, gui.Settings()) and asked == []
    assert len(notes) == 1 and notes[0].startswith(f"Finished upgrading {path} to schema ")
    eng = make_engine(path)
    try:
        schema.check_current(eng)  # current and compacted
    finally:
        eng.dispose()
    assert not backup.list_backups(tmp_path / "data" / "backups")  # nothing to back up: the schema was current


def test_the_upgrade_question_says_the_size_and_the_free_disk_it_needs(tmp_path: Path) -> None:
    """Walked on the large file: the question said neither; the upgrade then needed ~3x the file free."""
    import app.gui as gui

    old = tmp_path / "old.db"
    _older_file(old)
    with old.open("r+b") as f:  # a file past the size that takes minutes, without writing 400 MB
        f.truncate(400_000_000)
    text = gui.upgrade_question(old, tmp_path / "backups")
    assert "The file is 400 MB: the upgrade needs about 1,200 MB of free disk." in text
    assert str(tmp_path / "backups") in text and "a minute or more" in text


def test_first_start_appears_only_for_a_new_install(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.gui as gui

    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEPOT_DB", str(tmp_path / "data" / "depot.db"))
    asked: list[Path] = []
    monkeypatch.setattr(FirstStartDialog, "ask", classmethod(lambda cls, path, parent=None: asked.append(path)))
    monkeypatch.setattr(gui, "show_note", lambda title, text: None)  # closed without a choice: it says so
    assert gui.launch(argparse.Namespace(db=None, demo=False, user=None)) == 1
    assert asked == [tmp_path / "data" / "depot.db"]


def test_cli_db_upgrade_backs_up_an_older_file_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import run

    old = tmp_path / "old.db"
    _older_file(old)
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEPOT_SETTINGS_DIR", str(tmp_path / "cfg"))
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "settings.json").write_text('{"backup.dir": "%s"}' % (tmp_path / "gone"))
    assert run(["--db", str(old), "db", "upgrade"]) == 1
    assert "could not back up" in capsys.readouterr().err and schema.db_heads(make_engine(old)) == {"0002"}
    assert run(["--db", str(old), "db", "upgrade", "--no-backup"]) == 0
    _older_file(tmp_path / "old2.db")
    (tmp_path / "cfg" / "settings.json").write_text("{}")
    assert run(["--db", str(tmp_path / "old2.db"), "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "backed up to" in out and "before upgrading" in out
    with sqlite3.connect(backup.list_backups(tmp_path / "data" / "backups")[0].path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]


def test_each_user_opens_on_their_own_screen(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """A workstation shared by a receiver and a buyer: a first start opens each on the screen of their
    role, and each comes back to the screen they last had open, not the other's."""
    def opened(user: str) -> str:
        win = mw.MainWindow(make_ctx(world.actors[user]))
        qtbot.addWidget(win)
        key = next(k for k, page in win.pages.items() if page is win.current_screen())
        win.close()
        return key

    assert opened("rita") == "receiving"
    assert opened("mike") == "dashboard"
    assert opened("root") == "master"
    win = mw.MainWindow(make_ctx(world.actors["alice"]))
    qtbot.addWidget(win)
    assert win.pages.keys() == {"buying"}
    win.open_screen("inventory")
    win.close()
    assert opened("rita") == "receiving"
    assert opened("alice") == "inventory"


def test_a_long_status_message_is_cut_with_an_ellipsis_not_clipped(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    """Seen on the installed program in a 1280-pixel window: "... (no passwords are incluc" - the status
    bar clipped the message mid-word without a sign. Now it ends in "…" and the tooltip has it whole."""
    win = mw.MainWindow(make_ctx(world.actors["root"]))
    qtbot.addWidget(win)
    win.resize(1280, 728)
    win.show()
    qtbot.waitExposed(win)
    long = "Diagnostics copied: " + "paste them into your support request " * 6 + "(no passwords)"
    win.show_message(long)
    label = win.message_label
    assert label.text() == long and label.toolTip() == long
    width = label.contentsRect().width()
    assert 0 < width < label.fontMetrics().horizontalAdvance(long), "the message is wider than its place"
    shown = label.shown_text()
    assert shown.endswith("…") and long.startswith(shown[:-1]) and label.fontMetrics().horizontalAdvance(shown) <= width
    assert win.statusBar().width() <= win.width()  # a long message never widens the window
    win.show_message("saved")
    assert label.shown_text() == "saved"


def test_the_demo_sign_in_says_the_password(qtbot: Any, db_path: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen on the installed program: "Look around in the demo" opened a sign-in with 'manager' and an
    empty password, and nothing said the password is 'demo' (only the README does)."""
    import app.gui as gui
    from app.views.login import LoginDialog

    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    hints: list[str] = []

    def ask(cls: Any, engine: Engine, username: str = "", parent: Any = None, *, hint: str = "") -> None:
        hints.append(hint)
        dlg = LoginDialog(engine, username, hint=hint)
        qtbot.addWidget(dlg)
        assert dlg.hint_label.isVisibleTo(dlg) == bool(hint)
        return None  # closed: the app exits

    monkeypatch.setattr(gui.LoginDialog, "ask", classmethod(ask))
    monkeypatch.setattr(gui, "_first_run", lambda engine: "")  # the test file has no users: no assistant
    monkeypatch.setattr(gui, "_still_in_setup", lambda engine: False)
    assert gui.launch(argparse.Namespace(db=str(db_path), demo=True, user=None)) == 1
    assert gui.launch(argparse.Namespace(db=str(db_path), demo=False, user=None)) == 1
    assert "password is 'demo'" in hints[0] and "manager" in hints[0] and "buyer" in hints[0]
    assert hints[1] == ""  # a branch's own file says nothing of passwords
