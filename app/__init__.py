"""Depot: desktop back-office for wholesale distributors."""

from pathlib import Path

__version__ = "0.1.0"

#: written by installers/linux/build_deb.sh into the bundle (``resources/build.txt``); absent in a source run
BUILD_FILE = Path(__file__).resolve().parent.parent / "resources" / "build.txt"


def build_id(path: Path | None = None) -> str:
    """Which build this is (``0.1.0+20261206125700.g9264956``: the commit's UTC time and id), or ""
    in a source run. Every package says Version 0.1.0, so without it neither support nor dpkg could
    tell two builds apart."""
    try:
        return (path or BUILD_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def version_line() -> str:
    """"Depot 0.1.0 (build ...)" for the about box and the diagnostics."""
    build = build_id().removeprefix(f"{__version__}+")  # the package's version: the app's, then the build
    return f"Depot {__version__} ({'build ' + build if build else 'source run'})"
