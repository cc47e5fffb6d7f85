"""Where Depot keeps its files on this computer: settings, secrets file, demo and default database.

Its own module (imports nothing of Depot) because settings, secrets, the window and the command
line all need it and must not import each other for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _xdg(name: str, default: Path) -> Path:
    """An XDG base folder: the variable when it holds an absolute path, else the default. The spec
    says an empty or relative value is ignored; taking it put the database in ./depot of whatever
    folder Depot was started from (seen with XDG_DATA_HOME= on a workstation)."""
    value = os.environ.get(name, "")
    return Path(value) if value and os.path.isabs(value) else default


def user_config_dir() -> Path:
    env = os.environ.get("DEPOT_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "Depot"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Depot"
    return _xdg("XDG_CONFIG_HOME", Path.home() / ".config") / "depot"


def user_data_dir() -> Path:
    """Where the demo database lives (DEPOT_DATA_DIR overrides it)."""
    env = os.environ.get("DEPOT_DATA_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "Depot"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Depot"
    return _xdg("XDG_DATA_HOME", Path.home() / ".local" / "share") / "depot"


def default_db_path() -> Path:
    """The branch database when neither --db nor settings name one: $DEPOT_DB, else ``depot.db`` in the
    data folder, beside the backups and logs (on Windows %LOCALAPPDATA%\\Depot, as the setup says; it
    was ~/.local/share/depot there, and DEPOT_DATA_DIR moved everything but the database)."""
    env = os.environ.get("DEPOT_DB")
    if env:
        return Path(env)
    return user_data_dir() / "depot.db"
