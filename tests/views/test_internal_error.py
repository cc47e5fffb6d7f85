"""An unexpected error in the window: a report file, one line, a dialog with "Copy details",
and a window that keeps working (an op that raised, and a slot that raised)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.orm import Session

from app.gui import install_excepthook
from app.services.crashlog import InternalError
from app.views.main_window import MainWindow
from app.views.widgets.internal_error import InternalErrorDialog
from tests.factories import World
from tests.views.conftest import MakeCtx

#: the offscreen platform says so for every shown top-level window; it is not an error of ours
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def window(qtbot: Any, world: World, make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    win = MainWindow(make_ctx(world.actors["mike"]))
    qtbot.addWidget(win)
    win.show()
    InternalErrorDialog._open = None
    return win


def _dialog(qtbot: Any) -> InternalErrorDialog:
    qtbot.waitUntil(lambda: InternalErrorDialog._open is not None and InternalErrorDialog._open.isVisible())
    box = InternalErrorDialog._open
    assert box is not None
    return box


def test_an_op_that_raises_gives_one_line_a_report_and_a_dialog(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    ctx = window.ctx
    got: list[BaseException] = []

    def broken(_s: Session) -> None:
        {}["no such key"]  # a bug, not bad input

    ctx.runner.submit(broken, on_error=got.append, label="post receipt")
    qtbot.waitUntil(lambda: bool(got))
    (err,) = got
    assert isinstance(err, InternalError)
    assert str(err).startswith("internal error (KeyError: 'no such key'); details in ")
    assert err.path is not None and err.path.parent == tmp_path / "data" / "logs"
    report = err.path.read_text()
    assert "Traceback" in report and "{}[\"no such key\"]" in report and "while: op post receipt" in report
    box = _dialog(qtbot)
    assert "KeyError: 'no such key'" in box.informativeText() and str(err.path) in box.informativeText()
    assert "internal error (KeyError" in window.message_label.text()
    box.copy_button.click()
    assert box.isVisible(), "Copy details leaves the box open"
    clip = QApplication.clipboard().text()
    assert "KeyError: 'no such key'" in clip and "Traceback" in clip
    box.close_button.click()
    qtbot.waitUntil(lambda: not box.isVisible())
    # the window keeps working: the next op runs and answers
    answers: list[int] = []
    ctx.runner.submit(lambda s: 7, answers.append, write=False)
    qtbot.waitUntil(lambda: answers == [7])
    assert window.isVisible()


@pytest.mark.qt_no_exception_capture
def test_a_slot_or_thread_that_raises_is_caught_by_the_hook(qtbot: Any, window: MainWindow,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    old_hook, old_thread_hook = sys.excepthook, threading.excepthook
    try:
        install_excepthook(window.ctx.signals)
        QTimer.singleShot(0, lambda: 1 / 0)  # a slot that raises, as a broken button would
        box = _dialog(qtbot)
        assert "ZeroDivisionError: division by zero" in box.informativeText()
        err_line = capsys.readouterr().err.strip().splitlines()[-1]
        assert err_line.startswith("depot: error: internal error (ZeroDivisionError") and "details in" in err_line
        # a second error while the box is open does not stack another dialog
        t = threading.Thread(target=lambda: [][1])
        t.start()
        t.join()
        qtbot.waitUntil(lambda: "IndexError" in window.message_label.text())
        assert InternalErrorDialog._open is box
        box.close_button.click()
        qtbot.waitUntil(lambda: not box.isVisible())
        window.open_screen(window.nav.item(1).data(0x0100))  # still navigable
        assert window.isVisible()
    finally:
        sys.excepthook, threading.excepthook = old_hook, old_thread_hook
