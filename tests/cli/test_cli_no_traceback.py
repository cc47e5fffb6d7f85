"""No traceback reaches the terminal: every sub-command run with garbage arguments, garbage
files and garbage databases answers with a result or one ``depot: error:`` line (argparse's
usage line for bad arguments), and never with an internal error.

The default run tries a few garbage sets per command; DEPOT_SLOW=1 tries them all."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import build_parser, run
from tests.factories import World

SLOW = os.environ.get("DEPOT_SLOW") == "1"
TEXT = ["\x00", "-5", "9" * 40, "ÿ☃'\";--", "", "1e999999", "x:y:z", "NaN", "DAL-PO-999999", "../up"]
FILES = {
    "empty": b"", "binary": bytes(range(256)) * 40, "nul.csv": b"a,b\x00c\n", "utf16.csv": "sku,qty\nA,1\n".encode("utf-16"),
    "huge": b"x" * 300_000 + b"\n", "isa.x12": b"ISA*00*", "cp1252.csv": b"sku;description\n\xe9;\xff\n",
    "scans.txt": b"\xff\xfe\x00garbage\n" * 3, "una.edi": b"UNA:+.? 'UNB+\x00'",
}


def _leaves(p: argparse.ArgumentParser, prefix: list[str]) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if prefix and (not subs or prefix == ["sync"]):
        yield prefix, p
    for sub in subs:
        for name, sp in sub.choices.items():
            yield from _leaves(sp, [*prefix, name])


LEAVES = {" ".join(path): p for path, p in _leaves(build_parser(), []) if path[0] != "gui"}


def _variants(p: argparse.ArgumentParser, files: list[str]) -> Iterator[list[str]]:
    pos = [a for a in p._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
    opts = [a for a in p._actions if a.option_strings and a.dest not in ("help", "db", "json")
            and not isinstance(a, argparse._HelpAction)]
    pool = TEXT + files
    for i, g in enumerate(pool):
        args: list[str] = []
        for a in pos:
            if a.nargs in ("?", "*") and i % 2:
                continue
            args.append(g)
            if a.nargs in ("+", "*"):
                args.append(pool[(i + 1) % len(pool)])
        for a in opts:
            if a.nargs == 0:
                if i % 3 == 0:
                    args.append(a.option_strings[0])
                continue
            if a.required or i % 2 == 0:
                args += [a.option_strings[0], pool[(i * 7 + len(a.dest)) % len(pool)]]
        yield args


@pytest.fixture
def garbage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A private working folder, data folder and garbage files; the databases to try."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # `--inbound .` and relative --out paths stay in here
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("DEPOT_SERVER_DSN", raising=False)
    g = tmp_path / "g"
    g.mkdir()
    for name, data in FILES.items():
        (g / name).write_bytes(data)
    (g / "adir").mkdir()
    (g / "not-a-db.db").write_text("SQLite format 2? no\n")
    files = [str(g / n) for n in FILES] + [str(g / "adir"), str(g / "missing" / "x")]
    return {"files": files, "dbs": [str(g / "not-a-db.db"), str(g / "adir"), str(g / "missing" / "new.db")]}


#: a server or a loop (carrier-sandbox, track poll without --once) still running after this long is
#: stopped with Ctrl+C, as its user would, and must stop as cleanly as it answers
KEEPS_RUNNING_S = 2.0
LOOPS = ("carrier-sandbox", "track poll")
#: any other command is stopped only if it hangs: on a loaded machine ordinary work takes more than
#: 2 s, and a Ctrl+C landing inside a library's ``with lock:`` can leave the lock held (CPython), which
#: hung a later test of the same process for 300 s (SQLAlchemy's run-id lock, seen at load 50)
HANGS_S = 60.0


@contextlib.contextmanager
def ctrl_c_after(seconds: float) -> Iterator[None]:
    """Send this process SIGINT after ``seconds`` unless the block is done; the handler raises
    KeyboardInterrupt only inside the block, so a late signal never reaches pytest."""
    inside = {"on": True}

    def on_int(_signum: int, _frame: object) -> None:
        if inside["on"]:
            raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, on_int)
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        inside["on"] = False
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_no_command_shows_a_traceback(command: str, garbage: dict[str, list[str]], world: World, db_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = command.split()
    patience = KEEPS_RUNNING_S if command.startswith(LOOPS) else HANGS_S
    variants = list(_variants(LEAVES[command], garbage["files"]))
    if not SLOW:
        variants = variants[1:4] + variants[-2:]
    if path[0] != "seed":  # `depot seed` alone makes a demo database: a result, not garbage (8 s)
        variants.insert(0, [])
    dbs = [str(db_path), *(garbage["dbs"] if SLOW else garbage["dbs"][:1])]
    internal: list[str] = []
    running: dict[tuple[str, ...], bool] = {}
    for args in variants:
        for db in dbs:
            if running.get(tuple(args)):
                continue  # it ran as a server with this database: the others say nothing new
            argv = ["--db", db, *path, *args]
            if path == ["sync"]:
                argv.append("--once")  # without it, sync runs until stopped
            out, err = io.StringIO(), io.StringIO()
            # standard input is garbage too (passwords, scans and carrier answers may be read from it)
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\x00garbage\r\n" * 3), "utf-8",
                                                               errors="replace"))
            started = time.monotonic()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), ctrl_c_after(patience):
                try:
                    code = run(argv)
                except SystemExit as e:  # argparse: usage errors (2), --help (0)
                    code = int(e.code or 0)
            text = out.getvalue() + err.getvalue()
            running[tuple(args)] = time.monotonic() - started >= patience
            assert "Traceback" not in text and 'File "' not in text, (argv, text[-2000:])
            assert code in (0, 1, 2, 130), (argv, code)
            lines = err.getvalue().strip().splitlines()
            if code:  # one line says why: `depot: error:`, argparse's `...: error:`, or a status (`offline: ...`)
                said = lines[-1] if lines else (out.getvalue().strip().splitlines() or [""])[-1]
                assert said.startswith(("depot: ", "offline: ")) or ": error: " in said, (argv, lines[-3:], said)
            if "internal error" in err.getvalue():
                internal.append(f"{argv!r}: {lines[-1]}")
    assert internal == [], "\n".join(internal)
