"""Where a workstation keeps its database when nothing names one: in its data folder, with its
backups and logs, on every platform (the Windows setup promises %LOCALAPPDATA%\\Depot)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.services.paths import default_db_path, user_config_dir, user_data_dir


def test_the_database_lives_in_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEPOT_DB", raising=False)
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "depot.db" == user_data_dir() / "depot.db"
    monkeypatch.setenv("DEPOT_DB", str(tmp_path / "elsewhere.db"))  # named: taken as it is
    assert default_db_path() == tmp_path / "elsewhere.db"


def test_on_windows_the_database_is_in_local_app_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DEPOT_DB", "DEPOT_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "AppData" / "Local"))
    assert default_db_path() == tmp_path / "AppData" / "Local" / "Depot" / "depot.db"


def test_on_linux_it_stays_where_it_was(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DEPOT_DB", "DEPOT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert default_db_path() == tmp_path / "share" / "depot" / "depot.db"


@pytest.mark.parametrize("value", ["", "relative/share"])
def test_an_empty_or_relative_xdg_folder_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    """Seen on a workstation with XDG_DATA_HOME= set: the demo seed and the window put depot.db in
    ./depot of the folder they were started from (the XDG spec: empty or relative means unset)."""
    for name in ("DEPOT_DB", "DEPOT_DATA_DIR", "DEPOT_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", value)
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    monkeypatch.chdir(tmp_path)
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "depot" / "depot.db"
    assert user_config_dir() == tmp_path / "home" / ".config" / "depot"
