"""A Session knows what kinds of data it wrote: the op runner broadcasts them after its commit."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.ids import uuid7
from app.services import changes, exception_inbox
from app.services.changes import Change
from app.services.receiving.post import ReceiveLine, post_receipt
from app.views.context import make_test_context
from tests.factories import World
from tests.services._receiving_world import make_expected


def test_posting_a_receipt_reports_what_it_wrote(session: Session, world: World) -> None:
    er = make_expected(session, world, [("WIDGET", 12)])
    session.commit()
    changes.forget(session)
    post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["WIDGET"].id, 12)])
    assert {Change.RECEIPT, Change.STOCK, Change.PO, Change.PUTAWAY} <= changes.flushed(session)
    assert Change.EXCEPTION not in changes.flushed(session) and "audit_entry" in changes.flushed_tables(session)


def test_statements_run_through_the_session_count_too(session: Session, world: World) -> None:
    changes.forget(session)
    session.execute(insert(ExceptionItem).values(id=uuid7(), kind="x", title="bulk", owner_branch_id=world.dal.id))
    assert changes.flushed(session) == {Change.EXCEPTION}


def test_an_op_that_declares_nothing_still_tells_the_screens(qtbot: QtBot, session: Session, world: World) -> None:
    ctx = make_test_context(session.get_bind(), world.actors["mike"])  # type: ignore[arg-type]

    def op(s: Session) -> None:
        exception_inbox.raise_exception(s, None, kind="edi.qty_changed", title="t", owner_branch_id=world.dal.id)

    with qtbot.waitSignal(ctx.signals.data_changed, timeout=5_000) as got:
        ctx.runner.submit(op, label="raise")
    assert Change.EXCEPTION in got.args[0]
    assert ctx.runner.wait_idle(5_000)
    ctx.runner.shutdown()


def test_a_misspelt_kind_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        changes.kinds(["purchase_orders"])
