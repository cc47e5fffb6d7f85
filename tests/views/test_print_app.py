"""The command line's print makes the process's one Qt application: a widget made after it must not abort."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
from app.views.printcentre.printer import ensure_app
ensure_app()
from PySide6.QtWidgets import QWidget
QWidget()
print("widget made")
"""


def test_a_widget_made_after_a_command_line_print_does_not_abort_the_process() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "widget made" in done.stdout
