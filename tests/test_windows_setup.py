"""The Windows setup (installers/windows/depot.nsi), compiled with makensis and used under Wine.

The Windows bundle itself can only be built on Windows (PyInstaller does not cross-build), so the
setup is made around a stand-in bundle: a folder shaped like PyInstaller's (depot.exe, depot-cli.exe,
_internal/). What is checked is the setup's own behaviour, as a branch user meets it: where it installs
without administrator rights, the Start-menu entries, the "Apps and features" entry, an upgrade that
replaces the libraries whole and never touches the data, and an uninstall that keeps the data unless
asked. Compiling runs always (makensis is one of setup.sh's Debian packages, under a second); the
install, upgrade and uninstall under Wine behind DEPOT_SLOW=1 (apt-get install wine64)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "installers" / "windows" / "depot.nsi"
UNINSTKEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Depot"


def _bundle(where: Path, marker: str, libs: list[str]) -> Path:
    """A folder shaped like PyInstaller's one-folder build (the payload is not run)."""
    b = where / f"bundle-{marker}"
    (b / "_internal").mkdir(parents=True)
    for exe in ("depot.exe", "depot-cli.exe"):
        (b / exe).write_text(f"stand-in {exe} {marker}")
    for lib in libs:
        (b / "_internal" / lib).write_text(marker)
    return b


def _wait_gone(folder: Path) -> None:
    """An NSIS uninstaller copies itself to a temporary folder and deletes the program from there."""
    for _ in range(50):
        if not folder.exists():
            return
        time.sleep(0.2)


def _compile(bundle: Path, out: Path, version: str) -> str:
    makensis = shutil.which("makensis")
    assert makensis, "makensis is missing: scripts/setup.sh installs Debian's nsis (apt-get install nsis)"
    r = subprocess.run([makensis, "-V2", f"-DVERSION={version}", f"-DBUNDLE={bundle}", f"-DOUTFILE={out}",
                        SCRIPT.name], cwd=SCRIPT.parent, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def test_the_setup_script_compiles_into_a_64_bit_windows_program(tmp_path: Path) -> None:
    from app import __version__

    out = tmp_path / "depot-setup.exe"
    log = _compile(_bundle(tmp_path, "a", ["python311.dll"]), out, __version__)
    assert "warning" not in log.lower(), log
    head = out.read_bytes()[:4096]
    assert head[:2] == b"MZ"
    pe = struct.unpack_from("<I", head, 0x3C)[0]
    assert head[pe:pe + 4] == b"PE\0\0"
    assert struct.unpack_from("<H", head, pe + 4)[0] == 0x8664, "the setup must be x86-64 like the bundle"
    # the version the user sees in the file's properties is the app's
    assert __version__.encode("utf-16-le") in out.read_bytes()


@pytest.mark.slow
def test_install_upgrade_and_uninstall_under_wine(tmp_path: Path) -> None:
    wine = shutil.which("wine")
    assert wine, "DEPOT_SLOW needs Wine for this test: apt-get install wine64"
    home = tmp_path / "home"  # Wine links the Windows desktop to $HOME and adds host menu entries: keep
    home.mkdir()                # both inside the test (and winemenubuilder off)
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_CONFIG_HOME": str(home / ".config"), "WINEPREFIX": str(tmp_path / "wine"), "WINEDEBUG": "-all",
           "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d"}
    env.pop("DISPLAY", None)  # a silent setup needs no screen

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([wine, *args], capture_output=True, text=True, env=env, timeout=300)
        subprocess.run(["wineserver", "-w"], env=env, timeout=300)  # setups re-launch themselves
        return r

    def reg(value: str) -> str | None:
        r = run("reg", "query", UNINSTKEY, "/v", value)
        line = next((ln for ln in r.stdout.splitlines() if ln.strip().startswith(value)), None)
        return line.split(None, 2)[2].strip() if line else None

    old = _bundle(tmp_path, "old", ["python311.dll", "gone_in_new.pyd"])
    new = _bundle(tmp_path, "new", ["python311.dll"])
    setup_old, setup_new = tmp_path / "depot-setup-0.0.9.exe", tmp_path / "depot-setup-0.1.0.exe"
    _compile(old, setup_old, "0.0.9")
    _compile(new, setup_new, "0.1.0")

    run("wineboot", "--init")
    users = tmp_path / "wine" / "drive_c" / "users"
    user = next(p for p in users.iterdir() if p.name != "Public")
    programs = user / "AppData" / "Local" / "Programs" / "Depot"
    menu = user / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Depot"
    data, settings = user / "AppData" / "Local" / "Depot", user / "AppData" / "Roaming" / "Depot"
    desktop = user / "Desktop"

    run(str(setup_old), "/S")
    assert (programs / "depot.exe").read_text() == "stand-in depot.exe old"
    assert (programs / "_internal" / "gone_in_new.pyd").exists()
    assert (programs / "uninstall.exe").exists()
    assert sorted(p.name for p in menu.iterdir()) == ["Depot command prompt.lnk", "Depot.lnk", "Uninstall Depot.lnk"]
    assert not (desktop / "Depot.lnk").exists(), "the desktop icon is opt-in"
    assert reg("DisplayName") == "Depot" and reg("DisplayVersion") == "0.0.9"
    assert reg("QuietUninstallString").endswith(r'uninstall.exe" /S')

    # the branch works: a database, a backup and settings appear outside the program folder
    (data / "backups").mkdir(parents=True)
    (data / "depot.db").write_bytes(b"SQLite format 3\0 branch data")
    (data / "backups" / "b1.db").write_bytes(b"backup")
    settings.mkdir(parents=True)
    (settings / "depot.toml").write_text("[sync]\n")

    run(str(setup_new), "/S", "/DESKTOP")  # the upgrade: a new setup over the old one
    assert (programs / "depot.exe").read_text() == "stand-in depot.exe new"
    assert not (programs / "_internal" / "gone_in_new.pyd").exists(), "old libraries must not linger"
    assert reg("DisplayVersion") == "0.1.0"
    assert (desktop / "Depot.lnk").exists()
    assert (data / "depot.db").read_bytes() == b"SQLite format 3\0 branch data"

    run(str(programs / "uninstall.exe"), "/S")  # silent: keeps the data
    _wait_gone(programs)
    assert not programs.exists() and not menu.exists() and not (desktop / "Depot.lnk").exists()
    assert reg("DisplayName") is None
    assert (data / "depot.db").exists() and (data / "backups" / "b1.db").exists() and (settings / "depot.toml").exists()

    run(str(setup_new), "/S")  # a reinstall finds the data again; then uninstall with /REMOVEDATA
    assert (programs / "depot.exe").exists() and (data / "depot.db").exists()
    run(str(programs / "uninstall.exe"), "/S", "/REMOVEDATA")
    _wait_gone(programs)
    assert not programs.exists() and not data.exists() and not settings.exists()
