"""Settings > Company, Branches & warehouses, Bins, Users, Import: what an admin changes there, what
the others see, and the services' sentences shown as they are."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.auth import login
from app.views.settings.screen import SettingsScreen
from tests.factories import World
from tests.views.conftest import MakeCtx

PAGES = ("Company", "Branches and warehouses", "Bins", "Users", "Import")


def _png(path: Path) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def test_an_admin_keeps_the_company_profile_with_its_logo(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                          session: Session, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    assert all(p in screen.section_titles() for p in PAGES)
    form = screen.sections["Company"].form  # type: ignore[attr-defined]
    form.name.setText("Lone Star Supply")
    form.currency.setText("dollars")
    form.save_button.click()
    qtbot.waitUntil(lambda: "is not a three-letter ISO 4217 code" in form.status.text(), timeout=10_000)
    form.currency.setText("usd")
    not_image = tmp_path / "logo.png"
    not_image.write_text("not a picture")
    monkeypatch.setattr(form, "ask_logo_file", lambda: str(not_image))
    form.choose_logo.click()
    assert form.status.text() == "logo: is not a readable PNG or JPEG image" and form.logo is None
    monkeypatch.setattr(form, "ask_logo_file", lambda: str(_png(tmp_path / "good.png")))
    form.choose_logo.click()
    assert form.logo is not None and form.logo_preview.pixmap() is not None
    form.save_button.click()
    qtbot.waitUntil(lambda: form.status.text() == "saved: Lone Star Supply", timeout=10_000)
    row = session.execute(text("SELECT name, base_currency, logo_mime FROM company")).one()
    assert tuple(row) == ("Lone Star Supply", "USD", "image/png")


def test_branches_warehouses_and_bins_from_settings(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                    session: Session) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    sites = screen.sections["Branches and warehouses"]
    br, wh = sites.branches, sites.warehouses  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: br.table.rowCount() == 3, timeout=10_000)
    br.code.setText("PHX")
    br.name.setText("Phoenix")
    br.tz.setCurrentText("America/Phoenix")
    br.add_button.click()
    qtbot.waitUntil(lambda: br.table.rowCount() == 4, timeout=10_000)
    qtbot.waitUntil(lambda: wh.branch.findData("PHX") >= 0, timeout=10_000)
    wh.code.setText("PHX1")
    wh.branch.setCurrentIndex(wh.branch.findData("PHX"))
    wh.name.setText("Phoenix DC")
    wh.add_button.click()
    qtbot.waitUntil(lambda: wh.table.rowCount() == 3, timeout=10_000)
    editor = screen.sections["Bins"].editor  # type: ignore[attr-defined]
    editor.load_warehouses()
    qtbot.waitUntil(lambda: editor.warehouse.findData("PHX1") >= 0, timeout=10_000)
    editor.warehouse.setCurrentIndex(editor.warehouse.findData("PHX1"))
    editor.aisles.setText("A-B")
    editor.bays.setText("1-3")
    editor.levels.setText("1")
    editor.generate_button.click()
    qtbot.waitUntil(lambda: editor.status.text() == "made 6 bins", timeout=10_000)
    walk = session.execute(text("SELECT l.code FROM location l JOIN warehouse w ON w.id = l.warehouse_id "
                                "WHERE w.code = 'PHX1' AND l.kind = 'storage' ORDER BY l.walk_seq")).scalars().all()
    assert walk == ["A-1-1", "A-2-1", "A-3-1", "B-3-1", "B-2-1", "B-1-1"]


def test_users_page_adds_a_user_and_keeps_the_last_admin(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                         session: Session) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    users = screen.sections["Users"].editor  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: users.table.rowCount() == 6, timeout=10_000)
    users.username.setText("bea")
    users.full_name.setText("Bea Buyer")
    users.branch.setCurrentIndex(users.branch.findData("DAL"))
    users.role_boxes["buyer"].setChecked(True)
    users.password.setText("correct-horse")
    users.repeat.setText("correct-horse")
    users.add_button.click()
    qtbot.waitUntil(lambda: users.status.text() == "user bea added (buyer)", timeout=10_000)
    assert login(session, "bea", "correct-horse").roles == frozenset({"buyer"})
    qtbot.waitUntil(lambda: users.table.rowCount() == 7, timeout=10_000)
    root_row = next(i for i, u in enumerate(users.users) if u.username == "root")
    users.table.selectRow(root_row)
    assert users.active_button.text() == "Disable"
    users.active_button.click()
    qtbot.waitUntil(lambda: "root is the last active admin" in users.status.text(), timeout=10_000)
    perms = screen.sections["Users"].permissions  # type: ignore[attr-defined]
    assert perms.rowCount() > 10 and perms.columnCount() == 8


def test_a_buyer_sees_the_permission_table_but_changes_nothing(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["alice"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    users = screen.sections["Users"].editor  # type: ignore[attr-defined]
    assert not users.add_button.isEnabled() and "Only an admin" in users.add_button.toolTip()
    assert not screen.sections["Company"].form.save_button.isEnabled()  # type: ignore[attr-defined]
    assert not screen.sections["Bins"].editor.generate_button.isEnabled()  # type: ignore[attr-defined]
    assert not screen.sections["Import"].panel.isEnabled()  # type: ignore[attr-defined]
    assert screen.sections["Users"].permissions.isEnabled()  # type: ignore[attr-defined]


def test_a_dock_door_is_added_from_the_bins_page(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                 session: Session) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    editor = screen.sections["Bins"].editor  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: editor.warehouse.findData("DAL1") >= 0, timeout=10_000)
    editor.warehouse.setCurrentIndex(editor.warehouse.findData("DAL1"))
    editor.dock_code.setText("d02")
    editor.dock_add.click()
    qtbot.waitUntil(lambda: editor.status.text() == "dock door D02 added to DAL1", timeout=10_000)
    editor.dock_code.setText("D02")
    editor.dock_add.click()
    qtbot.waitUntil(lambda: "D02 already exists in warehouse DAL1" in editor.status.text(), timeout=10_000)
    assert session.scalar(text("SELECT count(*) FROM location WHERE kind = 'dock' AND code = 'D02'")) == 1
