"""Settings > Branches: each branch's GS1 company prefix in the table, a note while a branch still
labels cartons with GS1's example prefix, and the prefix set for the selected branch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.models.org import Branch
from app.services.auth import Actor
from app.views.context import AppContext
from app.views.settings.company_page import settings_env
from app.views.settings.sites_page import BranchesEditor
from tests.factories import World

MakeCtx = Callable[[Actor], AppContext]


def _cell(ed: BranchesEditor, code: str, col: int) -> str:
    row = next(r for r in range(ed.table.rowCount()) if ed.table.item(r, 0).text() == code)
    return ed.table.item(row, col).text()


def test_the_prefix_is_set_for_the_selected_branch_and_the_note_follows(
        qtbot: Any, session: Session, world: World, make_ctx: MakeCtx) -> None:
    session.commit()
    ctx = make_ctx(world.actors["root"])
    ed = BranchesEditor(settings_env(ctx))
    qtbot.addWidget(ed)
    qtbot.waitUntil(lambda: ed.table.rowCount() == 3)
    assert _cell(ed, "DAL", 6) == "0614141 (example)"
    assert ed.gs1_note.isVisibleTo(ed) and ed.gs1_note.text().startswith("HQ, DAL, HOU label cartons with GS1's "
                                                                         "example company prefix 0614141")
    row = next(r for r in range(ed.table.rowCount()) if ed.table.item(r, 0).text() == "DAL")
    ed.table.selectRow(row)
    ed.gs1.setText("12AB")
    ed.gs1_button.click()
    qtbot.waitUntil(lambda: "must be 7 to 10 digits" in ed.status.text())
    ed.gs1.setText("0712345")
    ed.gs1_button.click()
    qtbot.waitUntil(lambda: _cell(ed, "DAL", 6) == "0712345")
    assert ed.status.text() == "DAL labels cartons with GS1 company prefix 0712345"
    assert ed.gs1_note.text().startswith("HQ, HOU label cartons")
    assert ctx.runner.wait_idle(10000)
    session.expire_all()
    assert session.get(Branch, world.dal.id).gs1_prefix == "0712345"  # type: ignore[union-attr]
