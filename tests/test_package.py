"""The Linux package, built and used as branch staff would (DEPOT_SLOW=1: the build takes minutes).

`make package` builds the PyInstaller bundle and the .deb; the package is unpacked into a temporary
prefix (dpkg-deb -x, no root), and the installed program is started: --version, a demo database,
`depot stock`, a PO rendered to PDF and read back, a backup verified, and the window's first paint on
the offscreen platform."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(exe: Path, *args: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_make_package_builds_a_deb_that_runs(tmp_path: Path) -> None:
    from app import __version__

    if os.environ.get("DEPOT_PACKAGE_REUSE") != "1":
        r = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True, timeout=3600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    deb = ROOT / "dist" / f"depot_{__version__}_amd64.deb"
    assert deb.exists()
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True).stdout
    assert f"Version: {__version__}" in info and "libxcb-cursor0" in info
    # the build is in the version (a later build is an upgrade to dpkg) and in the bundle (About, diagnostics)
    version = next(ln.split(": ", 1)[1] for ln in info.splitlines() if ln.strip().startswith("Version:"))
    assert re.fullmatch(rf"{re.escape(__version__)}\+\d{{14}}\.g[0-9a-f]{{7,}}", version), version
    files = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for want in ("./opt/depot/depot", "./opt/depot/depot-cli", "./usr/share/applications/depot.desktop",
                 "./usr/share/icons/hicolor/256x256/apps/depot.png", "./usr/bin/depot"):
        assert want in files, want
    prefix = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(prefix)], check=True)
    cli, gui = prefix / "opt/depot/depot-cli", prefix / "opt/depot/depot"
    env = {**os.environ, "DEPOT_CONFIG_DIR": str(tmp_path / "cfg"), "DEPOT_DATA_DIR": str(tmp_path / "data"),
           "DEPOT_KEYRING": "memory", "QT_QPA_PLATFORM": "offscreen", "DEPOT_QSETTINGS_FILE": str(tmp_path / "qt.ini")}
    env.pop("DEPOT_DB", None)
    r = _run(cli, "--version", env=env)
    assert r.returncode == 0 and r.stdout.strip() == f"depot {__version__}"
    assert next(prefix.glob("opt/depot/*/resources/build.txt")).read_text().strip() == version
    db = tmp_path / "demo.db"
    r = _run(cli, "--db", str(db), "seed", "--size", "demo", env=env)
    assert r.returncode == 0, r.stderr
    import sqlite3

    con = sqlite3.connect(db)
    sku = con.execute("SELECT sku FROM item ORDER BY sku LIMIT 1").fetchone()[0]
    po = con.execute("SELECT number FROM purchase_order ORDER BY number LIMIT 1").fetchone()[0]
    con.close()
    r = _run(cli, "--db", str(db), "stock", sku, env=env)
    assert r.returncode == 0 and sku in r.stdout and "ON_HAND" in r.stdout, r.stderr
    pdf = tmp_path / "po.pdf"
    r = _run(cli, "--db", str(db), "print", "po", po, "--out", str(pdf), env=env)
    assert r.returncode == 0, r.stderr
    assert po in PdfReader(pdf).pages[0].extract_text()
    r = _run(cli, "--db", str(db), "backup", env=env)
    assert r.returncode == 0 and "backed up to" in r.stdout, r.stderr
    made = next((tmp_path / "data" / "backups").glob("depot-*.db"))
    r = _run(cli, "backup", "verify", str(made), env=env)
    assert r.returncode == 0 and "ok: the backup restores" in r.stdout
    t0 = time.time()
    r = _run(gui, "gui", "--db", str(db), "--user", "admin",
             env={**env, "DEPOT_AUTOLOGIN": "1", "DEPOT_EXIT_AFTER_PAINT": "1"}, timeout=120)
    assert r.returncode == 0 and "first-paint" in r.stdout, r.stderr[-2000:]
    assert time.time() - t0 < 60
    r = _run(gui, "--db", str(tmp_path / "missing.db"), "gui", env={k: v for k, v in env.items() if k != "QT_QPA_PLATFORM"}
             | {"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert r.returncode == 2 and "no display" in r.stderr  # a package started without a display says so
