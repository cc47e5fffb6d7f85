"""A Session knows what kinds of data it wrote: the op runner broadcasts them after its commit."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import insert, select
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


def test_a_background_task_tells_the_screens_what_its_own_sessions_wrote(qtbot: QtBot, session: Session,
                                                                        world: World) -> None:
    """A job opens its own Sessions (``session_scope``), so ``submit_io`` cannot read one Session's
    tables: it records every Session of the task's thread (``changes.recording``)."""
    from app.services.db import session_scope

    engine = session.get_bind()
    ctx = make_test_context(engine, world.actors["mike"])  # type: ignore[arg-type]

    def job() -> str:
        with session_scope(engine, write=False) as s:  # a read writes nothing
            s.execute(select(ExceptionItem.id)).all()
        with session_scope(engine) as s:
            exception_inbox.raise_exception(s, None, kind="edi.qty_changed", title="t", owner_branch_id=world.dal.id)
        return "done"

    with qtbot.waitSignal(ctx.signals.data_changed, timeout=5_000) as got:
        ctx.runner.submit_io(job, label="job")
    assert got.args[0] == {Change.EXCEPTION}  # audit_entry is bookkeeping
    with changes.recording() as outer, changes.recording() as inner, session_scope(engine) as s:
        exception_inbox.raise_exception(s, None, kind="edi.qty_changed", title="u", owner_branch_id=world.dal.id)
    assert outer == inner == {"exception_item", "audit_entry"}
    assert ctx.runner.wait_idle(5_000)
    ctx.runner.shutdown()
