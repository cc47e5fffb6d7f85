"""`depot gui`: database -> login -> main window.

Order matters for a fast, honest start: the database is opened (and refused with a clear
message if missing, locked, corrupt or of another schema) before any window; the demo file
is created on a worker with a progress dialog; screens load lazily after the first paint.

Environment (benchmarks and kiosk use):
    DEPOT_AUTOLOGIN=1 with --user NAME signs in without a password, trusting the shell user
        exactly like the CLI's --user does.
    DEPOT_EXIT_AFTER_PAINT=1 prints "first-paint <unix time>" at the main window's first
        paint and quits (bench/gui_cold_start.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QProgressDialog

from app.services import crashlog, logfile
from app.services.auth import Actor, actor_by_name
from app.services.db import open_database, session_scope
from app.services.errors import DatabaseProblem, DomainError
from app.services.paths import default_db_path, user_data_dir
from app.services.schema import SchemaOutdated
from app.services.settings import Settings
from app.views import collector
from app.views.context import AppContext, make_context
from app.views.login import LoginDialog
from app.views.main_window import MainWindow
from app.views.ops import run_task
from app.views.signals import AppSignals

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_USER = "manager"


def demo_db_path() -> Path:
    return user_data_dir() / "demo.db"


def resolve_db_path(args: argparse.Namespace, settings: Settings) -> Path:
    """--db wins; then --demo's file; then the settings' "db.path"; then $DEPOT_DB / the default."""
    if getattr(args, "db", None):
        return Path(args.db)
    if getattr(args, "demo", False):
        return demo_db_path()
    configured = settings.get("db.path")
    if configured:
        return Path(str(configured))
    return default_db_path()


def show_problem(title: str, text: str) -> None:
    """A message box and the same line on stderr (tests patch this)."""
    print(f"depot: error: {text}", file=sys.stderr)
    QMessageBox.critical(None, f"Depot - {title}", text)


def show_note(title: str, text: str) -> None:
    """A message box that says what just happened (not an error), and the same line on stderr for
    whoever started Depot from a terminal: an upgrade that finished, a first start left without a choice."""
    print(f"depot: {text}", file=sys.stderr)
    box = QMessageBox(QMessageBox.Icon.Information, f"Depot - {title}", text, QMessageBox.StandardButton.Ok)
    box.setObjectName("depotNote")
    box.exec()


def apply_style(app: QApplication) -> None:
    qss = RESOURCES / "style.qss"
    if qss.exists():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))


def _with_progress(title: str, text: str, work: Callable[[Callable[[int, int, str], None]], object], *,
                   throttle: bool = True) -> dict[str, Any]:
    """Run ``work(report)`` off the GUI thread under a modal progress dialog; {"ok": result} or {"error": e}."""
    dialog = QProgressDialog(text, "", 0, 0)
    # the step's line can be long (a migration's title): wrapped, not widening the dialog past the screen
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    dialog.setLabel(label)
    screen = QApplication.primaryScreen()
    room = screen.availableGeometry().width() - 40 if screen is not None else 600
    dialog.setMinimumWidth(min(560, room))
    dialog.setMaximumWidth(max(room, 300))
    dialog.setWindowTitle(f"Depot - {title}")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.show()
    loop = QEventLoop()
    outcome: dict[str, Any] = {}

    def progress(done: int, total: int, line: str) -> None:
        dialog.setRange(0, max(total, 0))
        dialog.setValue(min(done, total))
        if line:
            dialog.setLabelText(f"{text}\n{line}")

    def finish(key: str, value: object) -> None:
        outcome[key] = value
        loop.quit()

    run_task(work, lambda r: finish("ok", r), lambda e: finish("error", e), progress, throttle=throttle)
    loop.exec()
    dialog.close()
    return outcome


def upgrade_question(path: Path, folder: Path) -> str:
    """What the window asks before upgrading a file of an older Depot: what happens, how long (a large
    file took a minute on a loaded machine: 33.7 s for 1,525 MB) and how much free disk it needs."""
    from app.services import backup

    size = path.stat().st_size
    need = sum(backup.space_needed(path, folder).values())
    long = " This takes a minute or more for a file this size." if size > 300e6 else ""
    return (f"{path} was made by an older version of Depot.\n\nDepot backs it up to {folder} and then upgrades "
            f"it to this version (the backup can be restored with the older version if needed). The file is "
            f"{size / 1e6:,.0f} MB: the upgrade needs about {need / 1e6:,.0f} MB of free disk.{long} Go on?")


def ask_upgrade(path: Path, folder: Path) -> bool:
    """Ask before upgrading a file of an older Depot (tests patch this)."""
    answer = QMessageBox.question(
        None, "Depot - newer version installed", upgrade_question(path, folder),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def upgrade_database(path: Path, settings: Settings) -> bool:
    """An older file after an upgrade of Depot: back it up, upgrade it (off the GUI thread, each step
    shown); True when done. A file whose upgrade stopped before its compaction is compacted unasked."""
    from app.services import backup, schema  # only after an upgrade of Depot: never on a normal start
    from app.services.db import make_engine

    folder = backup.folder_from(settings)
    engine = make_engine(path)
    try:
        finishing = schema.db_heads(engine) == schema.script_heads()
    finally:
        engine.dispose()
    if not finishing and not ask_upgrade(path, folder):
        return False
    title = ("Finishing the upgrade of the database (compacting it)..." if finishing
             else "Backing up and upgrading the database (a large file takes minutes)...")
    outcome = _with_progress("upgrade", title,
                             lambda report: backup.upgrade_with_backup(path, folder, progress=report,
                                                                       keep_days=backup.keep_days_from(settings)),
                             throttle=False)
    if "error" in outcome:
        show_problem("upgrade", str(outcome["error"]))
        return False
    taken, heads = outcome["ok"]
    show_note("upgrade done", backup.upgrade_sentence(path, taken, heads, folder))
    return True


def create_demo_database(path: Path) -> bool:
    """Seed the demo file on a worker while a progress dialog runs; True when it worked."""
    from app.services.seed import seed_database

    def work(report: Callable[[int, int, str], None]) -> object:
        path.parent.mkdir(parents=True, exist_ok=True)
        return seed_database(path, size="demo", progress=report, day_under_way=True)

    outcome = _with_progress("first start", "Creating the demo database...", work)
    if "error" in outcome:
        err = outcome["error"]
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # never leave a half-made demo file behind
        show_problem("demo database", f"could not create the demo database {path}: {err}")
        return False
    return True


def start_background_services(ctx: AppContext, window: MainWindow, *, demo: bool = False) -> list[Any]:
    """The one place long-running helpers start with the window: every background job registered in
    ``app.services.jobs`` (e-mail delivery, sync, next the carrier poller; ``BackgroundJobs``), one
    second after the first paint, never during start-up (even their code is imported only then).
    The demo also runs the carrier sandbox in-process on a free port (its carrier accounts, endpoint
    "sandbox", talk to it over HTTP). Each returned object has ``stop()``; called at exit."""
    background = _Background(ctx, window)
    if window.painted:
        background.start()
    else:
        window.first_painted.connect(lambda _t: background.start())
    services: list[Any] = [background]
    if demo or os.environ.get("DEPOT_CARRIER_SANDBOX") == "in-process":
        services.append(start_carrier_sandbox(ctx.settings))
    return services


class _Background:
    """Starts ``BackgroundJobs`` once the window has painted; stops it at exit."""

    def __init__(self, ctx: AppContext, window: MainWindow) -> None:
        self.ctx = ctx
        self.window = window
        self.jobs: Any = None

    def start(self) -> None:
        if self.jobs is not None:
            return
        from app.views.background import BackgroundJobs  # sync and mail code: loaded after the first paint

        self.jobs = BackgroundJobs(self.ctx, self.window)
        self.ctx.jobs = self.jobs
        self.jobs.runner_started.connect(self.window.job_started)
        self.jobs.start(delay_ms=1000)

    def stop(self) -> None:
        if self.jobs is not None:
            self.jobs.stop()


def start_carrier_sandbox(settings: Settings | None = None) -> Any:
    """The demo's carrier sandbox, in-process on a free port. Its world keeps one epoch (kept in the
    settings), so the next start tells the same parcels' stories where they have got to by then."""
    import datetime as dt

    from app.services.carriers.accounts import set_sandbox_url
    from app.services.carriers.sandbox.server import Sandbox

    epoch = None
    if settings is not None:
        try:
            epoch = dt.datetime.fromisoformat(str(settings.get("carrier.sandbox_epoch", "") or ""))
        except ValueError:
            epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
            settings.set("carrier.sandbox_epoch", epoch.isoformat())
    sandbox = Sandbox(port=0, speed=float(os.environ.get("DEPOT_SANDBOX_SPEED", "60")), epoch=epoch).start()
    set_sandbox_url(sandbox.url)
    print(f"depot: carrier sandbox on {sandbox.url}", file=sys.stderr)

    class _Running:
        def stop(self) -> None:
            set_sandbox_url(None)
            sandbox.stop()

    return _Running()


def _still_in_setup(engine: Any) -> bool:
    from app.views.setup.assistant import needs_setup

    return needs_setup(engine)


def _first_run(engine: Any) -> str:
    """A file without users opens the setup assistant; returns the new admin's name ('' = none)."""
    from app.services.org.setup import in_setup

    with session_scope(engine, write=False) as s:
        if not in_setup(s):
            return ""
    from app.views.setup.assistant import SetupAssistant

    return SetupAssistant.ask(engine) or ""


def install_excepthook(signals: AppSignals) -> Callable[..., None]:
    """While the window runs, an exception nobody caught (a slot, an event handler, a worker
    thread) is written to its report file and shown by the window's dialog; the event loop goes
    on. The line goes to stderr too, for whoever started Depot from a terminal. Returns the hook."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        err = crashlog.internal_error(exc, tb_text=text, context="window")
        print(f"depot: error: {err}", file=sys.stderr)
        with contextlib.suppress(RuntimeError):  # the window (and its signals) may be gone at exit
            signals.internal_error.emit(err)  # queued to the GUI thread when raised on a worker

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return hook


def _autologin(engine: Any, username: str) -> Actor:
    with session_scope(engine) as s:
        return actor_by_name(s, username)


def display_problem() -> str:
    """Why no window can open here ('' when one can): Qt would abort the process (exit 134) instead."""
    if QApplication.instance() is not None or not sys.platform.startswith("linux"):
        return ""
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    return ("no display: this machine shows no window. Use a sub-command (`depot --help` lists them), "
            "or open the window under a virtual display: xvfb-run -a depot")


def launch(args: argparse.Namespace) -> int:
    started = time.time()
    problem = display_problem()
    if problem:
        print(f"depot: error: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    collector.install(app)  # cyclic garbage (closed screens, an old window) is freed on this thread only
    app.setOrganizationName("Depot")
    app.setApplicationName("Depot")
    app.setWindowIcon(QIcon(str(RESOURCES / "icons" / "depot.png")))
    apply_style(app)
    logfile.setup("window")
    settings = Settings()
    path = resolve_db_path(args, settings)
    created_here = False  # this start made the file ("Set up a new company"): an unused one is removed
    if not path.exists() and not getattr(args, "db", None) and not getattr(args, "demo", False):
        from app.views.setup.first_start import FirstStartDialog  # a new install only: not on a normal start

        choice = FirstStartDialog.ask(path)  # a new install: create, join, restore or the demo
        if choice is None:
            show_note("not set up", FIRST_START_LEFT)
            return 1
        created_here = choice == "new"
        if choice == "demo":
            args.demo = True
            path = demo_db_path()
    if getattr(args, "demo", False) and not path.exists() and not create_demo_database(path):
        return 2
    logfile.started("window", path)
    try:
        try:
            engine = open_database(path)
        except SchemaOutdated:
            if not upgrade_database(path, settings):
                return 2
            engine = open_database(path)
    except DatabaseProblem as e:
        show_problem("database", str(e))
        return 2
    user = getattr(args, "user", None) or (DEMO_USER if getattr(args, "demo", False) else "")
    autologin = bool(user) and os.environ.get("DEPOT_AUTOLOGIN") == "1"
    try:
        admin = _first_run(engine)
        if admin:  # the new admin signs in with the password just chosen
            user, autologin = admin, False
    except DomainError as e:
        show_problem("setup", str(e))
        engine.dispose()
        return 1
    if not user and _still_in_setup(engine):
        engine.dispose()
        _setup_left(path, created_here)
        return 1
    try:
        while True:  # one turn per signed-in user: "Sign out" brings the sign-in back, no restart
            try:
                actor: Actor | None
                if autologin:
                    actor = _autologin(engine, user)
                elif getattr(args, "demo", False):
                    actor = LoginDialog.ask(engine, user, hint=demo_hint())
                else:
                    actor = LoginDialog.ask(engine, user)
            except DomainError as e:
                show_problem("sign in", str(e))
                return 1
            if actor is None:
                return 1
            code, signed_out = _run_window(app, engine, actor, settings, started,
                                           demo=bool(getattr(args, "demo", False)))
            if not signed_out:
                return code
            autologin, user = False, ""  # the next user signs in with their own password
    finally:
        engine.dispose()


#: the first-start dialog closed without a choice
FIRST_START_LEFT = ("Depot was not set up: nothing was created on this computer. The next start of Depot asks "
                    "again (join a branch, set up a new company, restore a backup or look around in the demo; "
                    "'depot gui --demo' opens the demo at once).")


def _setup_left(path: Path, created_here: bool) -> None:
    """The setup assistant closed before its first admin: say what happened and how to come back. A file
    this start made and nothing was saved in is removed (the next start asks again how to begin)."""
    from app.services import first_start

    if created_here and first_start.discard_if_empty(path):
        show_note("not set up", "Setting up the new company was cancelled before anything was saved: nothing "
                                "was kept on this computer. The next start of Depot asks again how to begin.")
        return
    show_note("not set up yet", f"The new company is not set up yet: it has no admin, so nobody can sign in. "
                                f"What was saved is kept in {path}; the setup assistant opens again at the next "
                                f"start of Depot to finish it (to start over instead, delete that file).")


def demo_hint() -> str:
    """What the demo's sign-in says: chosen from the first start, nobody has read the README yet."""
    from app.services.seed.master import DEMO_PASSWORD, USERS

    return (f"The demo: every user's password is '{DEMO_PASSWORD}'. Users: {', '.join(u for u, _name in USERS)} "
            "(each sees the screens of that role).")


def _run_window(app: QApplication, engine: Any, actor: Actor, settings: Settings, started: float, *,
                demo: bool = False) -> tuple[int, bool]:
    """The main window of one signed-in user until it closes: (exit code, whether they signed out)."""
    ctx = make_context(engine, actor, settings)
    install_excepthook(ctx.signals)
    # the frame (rail, status bar) paints first; the first screen is built right after it
    window = MainWindow(ctx, defer_first_screen=True)
    if os.environ.get("DEPOT_EXIT_AFTER_PAINT") == "1":
        def painted(t: float) -> None:
            print(f"first-paint {t:.6f} in-process {t - started:.3f} cpu {time.process_time():.3f}", flush=True)

        def ready(_key: str) -> None:
            window.screen_opened.disconnect(ready)
            ctx.runner.wait_idle(30_000)  # the screen's first page has landed
            t = time.time()
            print(f"screen-ready {t:.6f} in-process {t - started:.3f}", flush=True)
            QTimer.singleShot(0, window.close)

        window.first_painted.connect(painted)
        window.screen_opened.connect(ready)
    window.show()
    services = start_background_services(ctx, window, demo=demo)
    try:
        code = int(app.exec())
    finally:
        for svc in services:
            stop = getattr(svc, "stop", None)
            if callable(stop):
                stop()
    signed_out = window.signing_out
    if signed_out:
        # the next user's window replaces it: Qt deletes this one (on this thread, at the sign-in
        # dialog's first event-loop turn) instead of leaving a live window to the cycle collector
        window.deleteLater()
    return code, signed_out
