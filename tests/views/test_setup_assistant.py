"""The first-run setup assistant, driven like a person would: an empty file becomes a company with
branches, a warehouse, bins and its first admin, then imports its data (with a preview and the
error list) and opens the sign-in for that admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from app.services.db import session_scope
from app.services.importer.samples import sample_csv
from app.views.setup.assistant import SetupAssistant, needs_setup


def _count(engine: Engine, sql: str) -> int:
    with session_scope(engine, write=False) as s:
        return int(s.scalar(text(sql)) or 0)


def _next(qtbot: QtBot, wiz: SetupAssistant, page: int) -> None:
    wiz.next()
    qtbot.waitUntil(lambda: wiz.currentId() == page, timeout=10_000)


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_an_empty_file_is_set_up_page_by_page(qtbot: QtBot, engine: Engine, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert needs_setup(engine)
    wiz = SetupAssistant(engine)
    qtbot.addWidget(wiz)
    wiz.show()
    # 1. company: a name is required; the head office is made with it
    form = wiz.company.form
    wiz.next()
    qtbot.waitUntil(lambda: "company name: is required" in form.status.text(), timeout=10_000)
    assert wiz.currentId() == 0
    form.name.setText("Lone Star Supply")
    form.tax_id.setText("74-1234567")
    form.timezone.setCurrentText("America/Chicago")
    form.ho_code.setText("HQ")
    _next(qtbot, wiz, 1)
    # 2. branches: the head office is there; add Dallas
    br = wiz.branches
    qtbot.waitUntil(lambda: br.table.rowCount() == 1, timeout=10_000)
    br.code.setText("DAL")
    br.name.setText("Dallas")
    br.add_button.click()
    qtbot.waitUntil(lambda: br.table.rowCount() == 2, timeout=10_000)
    br.code.setText("DAL")
    br.name.setText("Again")
    br.add_button.click()
    qtbot.waitUntil(lambda: "DAL already exists" in br.status.text(), timeout=10_000)
    _next(qtbot, wiz, 2)
    # 3. a warehouse of Dallas (the branch, not the head office, is offered first)
    wh = wiz.warehouses
    qtbot.waitUntil(lambda: wh.branch.count() == 2, timeout=10_000)
    assert wh.branch.currentData() == "DAL"
    wh.code.setText("DAL1")
    wh.name.setText("Dallas DC")
    wh.add_button.click()
    qtbot.waitUntil(lambda: wh.table.rowCount() == 1, timeout=10_000)
    _next(qtbot, wiz, 3)
    # 4. bins: a zone, a preview (nothing made), then the bins
    bins = wiz.bins
    qtbot.waitUntil(lambda: bins.warehouse.count() == 1, timeout=10_000)
    bins.zone_code.setText("AMB")
    bins.zone_add.click()
    qtbot.waitUntil(lambda: bins.zones.rowCount() == 1 and bins.zone.count() == 2, timeout=10_000)
    bins.zone.setCurrentIndex(1)
    bins.aisles.setText("A01-A03")
    bins.bays.setText("01-05")
    bins.levels.setText("1-2")
    bins.preview_button.click()
    qtbot.waitUntil(lambda: bins.preview.text().startswith("would make 30 bins in DAL1"), timeout=10_000)
    assert _count(engine, "SELECT count(*) FROM location WHERE kind = 'storage'") == 0
    bins.generate_button.click()
    qtbot.waitUntil(lambda: bins.status.text() == "made 30 bins", timeout=10_000)
    # and the dock, the QA cage and the packing location (Dispatch: picked stock waits there)
    qtbot.waitUntil(lambda: bins.bins.rowCount() == 30 + 3, timeout=10_000)
    _next(qtbot, wiz, 4)
    # 5. the first admin: passwords must match and be long enough
    admin = wiz.admin
    admin.username.setText("ada")
    admin.password.setText("short")
    admin.repeat.setText("short")
    wiz.next()
    qtbot.waitUntil(lambda: "at least 8 characters" in admin.status.text(), timeout=10_000)
    admin.password.setText("correct-horse")
    admin.repeat.setText("correct-horsE")
    wiz.next()
    assert admin.status.text() == "password: the two entries differ"
    admin.repeat.setText("correct-horse")
    _next(qtbot, wiz, 5)
    assert admin.actor is not None and admin.actor.username == "ada"
    assert not needs_setup(engine)
    # 6. import: a bad file shows its rows and cannot be imported; the sample imports
    imp = wiz.imports
    imp.select_kind("items")
    sample = tmp_path / "items-sample.csv"
    monkeypatch.setattr(imp, "ask_save_path", lambda _s: str(sample))
    imp.sample_button.click()
    assert sample.read_text(encoding="utf-8") == sample_csv("items")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,description,standard_cost\nA1,Good one,1.00\nB2,Bad one,1.2.3\n", encoding="utf-8")
    imp.check(bad)
    qtbot.waitUntil(lambda: imp.checked is not None, timeout=10_000)
    assert [imp.problems.item(i).text() for i in range(imp.problems.count())] == [
        "line 3: standard_cost: '1.2.3' is not a number"]
    assert imp.summary.text().startswith("2 rows: 1 good, 1 bad") and not imp.import_button.isEnabled()
    assert imp.preview.rowCount() == 1 and imp.preview.item(0, 0).text() == "A1"
    imp.check(sample)
    qtbot.waitUntil(lambda: imp.checked is not None and imp.checked.source == str(sample), timeout=10_000)
    assert imp.import_button.isEnabled() and imp.preview.rowCount() == 3
    imp.import_button.click()
    qtbot.waitUntil(lambda: imp.status.text().startswith("imported 3 items"), timeout=10_000)
    assert _count(engine, "SELECT count(*) FROM item") == 3
    wiz.accept()
    assert wiz.admin_name() == "ada"
    assert _count(engine, "SELECT count(*) FROM company") == 1
    assert _count(engine, "SELECT count(*) FROM branch") == 2
    assert _count(engine, "SELECT count(*) FROM location WHERE kind = 'storage'") == 30


def test_a_new_file_opens_the_assistant_then_the_sign_in_for_its_admin(
        qtbot: QtBot, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`depot gui` on a new file: the assistant first, then sign-in with the admin's name filled in."""
    import argparse

    from app import gui
    from app.views.login import LoginDialog

    seen: dict[str, str] = {}
    monkeypatch.setattr(SetupAssistant, "ask", classmethod(lambda cls, engine, parent=None: "ada"))

    def fake_login(cls: object, engine: Engine, username: str = "", parent: object = None) -> None:
        seen["user"] = username
        return None  # the user closes the sign-in: the app exits

    monkeypatch.setattr(LoginDialog, "ask", classmethod(fake_login))
    args = argparse.Namespace(db=str(db_path), demo=False, user=None)
    assert gui.launch(args) == 1
    assert seen["user"] == "ada"
