"""Change capture: every write to a replicated table lands in the outbox, by any path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.registry import replicated_tables, tables
from tests.factories import World


def _outbox(session: Session) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in session.execute(text("SELECT tbl, row_id, op FROM sync_outbox ORDER BY seq"))]  # type: ignore[misc]


def test_every_replicated_table_has_capture_triggers_and_no_local_table_does(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    triggers = {r[0] for r in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type='trigger' AND name LIKE '%_cap_%'")}
    conn.close()
    assert set(replicated_tables()) <= triggers
    local = {n for n, s in tables().items() if not s.replicated}
    assert not (local & triggers)


def test_orm_insert_update_and_delete_are_captured(session: Session, world: World) -> None:
    session.execute(text("DELETE FROM sync_outbox"))
    item = world.items["BOLT"]
    item.description = "Hex bolt M8 zinc"
    session.commit()
    assert _outbox(session) == [("item", item.id.hex, "U")]
    tmp = Item(sku="TMP", description="temp", owner_branch_id=world.ho.id)
    session.add(tmp)
    session.commit()
    session.delete(tmp)
    session.commit()
    ops = [(t, op) for t, rid, op in _outbox(session) if rid == tmp.id.hex]
    assert ops == [("item", "I"), ("item", "D")]


def test_bulk_update_and_raw_sql_are_captured(session: Session, world: World, db_path: Path) -> None:
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()
    session.execute(update(Item).where(Item.velocity_class == "A").values(velocity_class="B"))
    session.commit()
    assert _outbox(session) == [("item", world.items["WIDGET"].id.hex, "U")]
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE customer SET name = 'BuildCo Ltd'")
    conn.commit()
    conn.close()
    session.rollback()  # end the read snapshot so the other connection's commit is visible
    assert _outbox(session)[-1] == ("customer", world.customer.id.hex, "U")


def test_capture_switch_off_records_nothing(session: Session, world: World) -> None:
    session.execute(text("DELETE FROM sync_outbox"))
    session.execute(text("UPDATE sync_capture SET enabled = 0"))
    session.execute(text("UPDATE item SET description = 'pulled from server'"))
    session.execute(text("UPDATE sync_capture SET enabled = 1"))
    session.commit()
    assert _outbox(session) == []


def test_failed_transaction_leaves_no_outbox_rows(session: Session, world: World) -> None:
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()
    world.items["BOLT"].description = "changed"
    session.flush()
    assert len(_outbox(session)) == 1
    session.rollback()
    assert _outbox(session) == []
