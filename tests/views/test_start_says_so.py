"""What the start of the window tells a person, on its real dialogs: an upgrade of an older file ends
with a line saying it is done and where the backup went; leaving the first start or the setup
assistant says what happened and how to come back, and leaves no unused file behind.

Found walking the window: the upgrade's progress dialog closed and the sign-in came up without a
word; closing the first-start dialog or cancelling the assistant ended the program in silence.

The start runs its dialogs modally (their own event loops), so ``Person`` answers each one from a
timer, as a user would: it reads every message box and clicks its button.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget, QWizard

from app.services import backup, schema
from app.services.db import make_engine
from app.views.login import LoginDialog
from app.views.setup.assistant import SetupAssistant
from app.views.setup.first_start import FirstStartDialog
from tests.services.test_upgrade_path import OLDER, older_file

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


class Person:
    """Looks at the active modal window every 20 ms: each message box is read (title, text) and
    answered with ``answer``; any other dialog goes to ``act`` (its class name is kept in ``seen``)."""

    def __init__(self, act: Callable[[QWidget], None], answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> None:
        self.act = act
        self.answer = answer
        self.boxes: list[tuple[str, str]] = []
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        w = QApplication.activeModalWidget()
        if w is None or not w.isVisible():
            return
        if not self.seen or self.seen[-1] != type(w).__name__:
            self.seen.append(type(w).__name__)
        if isinstance(w, QMessageBox):
            self.boxes.append((w.windowTitle(), w.text()))
            button = w.button(self.answer) or w.button(QMessageBox.StandardButton.Ok)
            assert button is not None, w.text()
            button.click()
            return
        self.act(w)

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    monkeypatch.setenv("DEPOT_DB", str(tmp_path / "data" / "depot.db"))
    monkeypatch.delenv("DEPOT_AUTOLOGIN", raising=False)
    return tmp_path


def _start(person: Person, **kw: Any) -> int:
    import app.gui as gui

    args = argparse.Namespace(db=kw.get("db"), demo=False, user=None)
    try:
        return gui.launch(args)
    finally:
        person.stop()


def test_an_upgrade_at_start_ends_saying_it_is_done_and_where_the_backup_is(
        qtbot: Any, folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = older_file(folders / "branch.db", freed=False)

    def act(w: QWidget) -> None:
        if isinstance(w, LoginDialog):
            w.reject()  # the sign-in comes after the upgrade: closing it ends the start

    person = Person(act, answer=QMessageBox.StandardButton.Yes)  # "Go on?" Yes; then the note's OK
    assert _start(person, db=old) == 1
    eng = make_engine(old)
    try:
        schema.check_current(eng)
        heads = ", ".join(sorted(schema.db_heads(eng)))
    finally:
        eng.dispose()
    kept = backup.list_backups(folders / "data" / "backups")
    assert len(kept) == 1 and backup.describe(kept[0].path).schema == (OLDER,)
    questions, notes = person.boxes[:1], person.boxes[1:]
    assert "made by an older version of Depot" in questions[0][1]
    assert notes == [("Depot - upgrade done",
                      f"Upgraded {old} to schema {heads}; a backup of the file as it was is at {kept[0].path}")]
    assert person.seen.index("LoginDialog") > person.seen.index("QMessageBox")  # said before the sign-in
    assert f"depot: Upgraded {old} to schema {heads}; a backup" in capsys.readouterr().err


def test_closing_the_first_start_says_nothing_was_made_and_that_the_next_start_asks_again(
        qtbot: Any, folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def act(w: QWidget) -> None:
        if isinstance(w, FirstStartDialog):
            w.reject()  # Esc, or the window's X

    person = Person(act)
    assert _start(person) == 1
    assert person.seen == ["FirstStartDialog", "QMessageBox"]
    [(title, text)] = person.boxes
    assert title == "Depot - not set up"
    assert "nothing was created on this computer" in text and "The next start of Depot asks again" in text
    assert "depot gui --demo" in text
    assert "nothing was created on this computer" in capsys.readouterr().err
    assert not (folders / "data" / "depot.db").exists()


def test_cancelling_the_assistant_of_a_new_company_keeps_no_empty_file_and_the_next_start_asks_again(
        qtbot: Any, folders: Path) -> None:
    target = folders / "data" / "depot.db"

    def act(w: QWidget) -> None:
        if isinstance(w, FirstStartDialog):
            w.new_button.click()  # "Set up a new company": an empty file, then the assistant
        elif isinstance(w, SetupAssistant):
            assert target.exists()
            w.button(QWizard.WizardButton.CancelButton).click()

    person = Person(act)
    assert _start(person) == 1
    assert person.seen == ["FirstStartDialog", "SetupAssistant", "QMessageBox"]
    [(title, text)] = person.boxes
    assert "cancelled before anything was saved: nothing was kept" in text and "asks again how to begin" in text
    assert not target.exists() and not list(target.parent.glob("depot.db*"))  # no -wal, -shm either
    # the next start offers the four ways again (before, the empty file opened the assistant for good)
    again = Person(lambda w: w.reject() if isinstance(w, FirstStartDialog) else None)
    assert _start(again) == 1
    assert again.seen[0] == "FirstStartDialog"


def test_cancelling_the_assistant_after_saving_the_company_keeps_it_and_says_where(
        qtbot: Any, folders: Path) -> None:
    target = folders / "data" / "depot.db"
    steps: list[str] = []

    def act(w: QWidget) -> None:
        if isinstance(w, FirstStartDialog):
            w.new_button.click()
        elif isinstance(w, SetupAssistant):
            if not steps:  # step 1: the company, saved by Next
                steps.append("company")
                w.company.form.name.setText("Lone Star Supply")
                w.company.form.ho_code.setText("HQ")
                w.next()
            elif w.currentId() == 1:  # stored: step 2 shows; the person stops here
                steps.append("cancel")
                w.button(QWizard.WizardButton.CancelButton).click()

    person = Person(act)
    assert _start(person) == 1
    assert steps == ["company", "cancel"]
    [(_title, text)] = person.boxes
    assert "not set up yet: it has no admin" in text and f"kept in {target}" in text
    assert "the setup assistant opens again at the next start" in text
    assert target.exists()
    # and it does: the next start goes straight to the assistant (not the first-start choices)
    again = Person(lambda w: w.button(QWizard.WizardButton.CancelButton).click()
                   if isinstance(w, SetupAssistant) else None)
    assert _start(again) == 1
    assert again.seen[0] == "SetupAssistant" and target.exists()
