"""Argument types the sub-commands share (no heavy imports: the GUI's fast start parses with them)."""

from __future__ import annotations

import argparse
from pathlib import Path


def path_arg(value: str) -> Path:
    """A file or folder argument: an empty one would mean the current folder (``edi poll
    --inbound ""`` would take every file here), a NUL character no file name can hold."""
    if not value.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    if "\x00" in value:
        raise argparse.ArgumentTypeError("the path holds a NUL character")
    return Path(value)
