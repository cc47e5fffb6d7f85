"""The ledger is the only truth: balances follow every move, whatever wrote it."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.stock import StockMove
from app.services.errors import Conflict, ValidationError
from app.services.stock import (
    MoveSpec,
    balance_mismatches,
    on_hand,
    post_moves,
    rebuild_balances,
    reverse_move,
    stock_by_warehouse,
    virtual_location,
)
from tests.factories import World


def _receive(session: Session, w: World, sku: str, qty: int, bin_key: str = "DAL1-A-01", **kw: object) -> list[StockMove]:
    sup = virtual_location(session, w.wh_dal.id, "supplier")
    return post_moves(session, w.actors["rita"], [
        MoveSpec(item_id=w.items[sku].id, qty=qty, from_location_id=sup.id,
                 to_location_id=w.bins[bin_key].id, reason="receipt", **kw)  # type: ignore[arg-type]
    ], owner_branch_id=w.dal.id)


def test_receipt_pick_and_reversal_keep_balances_equal_to_ledger(session: Session, world: World) -> None:
    _receive(session, world, "WIDGET", 100)
    cust = virtual_location(session, world.wh_dal.id, "customer")
    (pick,) = post_moves(session, world.actors["wes"], [
        MoveSpec(world.items["WIDGET"].id, 30, world.bins["DAL1-A-01"].id, cust.id, "sale")
    ], owner_branch_id=world.dal.id)
    assert on_hand(session, world.items["WIDGET"].id) == 70
    reverse_move(session, world.actors["mike"], pick.id, owner_branch_id=world.dal.id)
    session.commit()
    assert on_hand(session, world.items["WIDGET"].id) == 100
    assert balance_mismatches(session) == []
    by_wh = {s.warehouse_code: s.on_hand for s in stock_by_warehouse(session, world.items["WIDGET"].id)}
    assert by_wh == {"DAL1": 100, "HOU1": 0}
    with pytest.raises(Conflict, match="already reversed"):
        reverse_move(session, None, pick.id, owner_branch_id=world.dal.id)


def test_cannot_pick_more_than_on_hand_and_nothing_is_written(session: Session, world: World) -> None:
    _receive(session, world, "BOLT", 5)
    session.commit()
    cust = virtual_location(session, world.wh_dal.id, "customer")
    before = session.scalar(text("SELECT count(*) FROM stock_move"))
    with pytest.raises(Conflict, match="not enough stock of BOLT"):
        post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 6, world.bins["DAL1-A-01"].id, cust.id, "sale")],
                   owner_branch_id=world.dal.id)
    session.rollback()
    assert session.scalar(text("SELECT count(*) FROM stock_move")) == before


@pytest.mark.parametrize("qty, rule", [(0, "more than zero"), (-3, "negative"), (1.5, "whole number"),
                                        ("abc", "whole number"), (10**13, "larger than")])
def test_bad_quantities_are_refused_with_the_field_named(session: Session, world: World, qty: object, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as e:
        _receive(session, world, "BOLT", qty)  # type: ignore[arg-type]
    assert "quantity" in str(e.value)


def test_lot_and_serial_rules(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="lot-tracked: a lot is required"):
        _receive(session, world, "MILK", 10, "DAL1-C-01")
    with pytest.raises(ValidationError, match="serial-tracked"):
        _receive(session, world, "DRILL", 1)
    with pytest.raises(ValidationError, match="exactly 1 unit"):
        _receive(session, world, "DRILL", 2, serial_no="SN1")
    _receive(session, world, "DRILL", 1, serial_no="SN1")


def test_ledger_rows_cannot_be_edited_or_deleted_even_with_raw_sql(session: Session, world: World, db_path: object) -> None:
    _receive(session, world, "BOLT", 5)
    session.commit()
    conn = sqlite3.connect(str(db_path))
    with pytest.raises(sqlite3.IntegrityError, match="insert-only ledger"):
        conn.execute("UPDATE stock_move SET qty = 50")
    with pytest.raises(sqlite3.IntegrityError, match="insert-only ledger"):
        conn.execute("DELETE FROM stock_move")
    conn.close()


def test_rebuild_balances_recovers_a_damaged_balance_table(session: Session, world: World) -> None:
    _receive(session, world, "WIDGET", 40)
    _receive(session, world, "WIDGET", 2, "DAL1-A-02")
    session.commit()
    session.execute(text("UPDATE stock_balance SET qty = qty + 7"))
    bad = balance_mismatches(session)  # each names its bin and item by id, as hex (db check prints them)
    bin_a = world.bins["DAL1-A-01"].id.hex
    assert (bin_a, world.items["WIDGET"].id.hex, "", 40, 47) in bad
    rebuild_balances(session)
    session.commit()
    assert balance_mismatches(session) == []
    assert on_hand(session, world.items["WIDGET"].id) == 42


def test_moves_from_any_writer_update_balances(session: Session, world: World) -> None:
    """A move inserted by raw SQL (as replication apply does) counts in the balance."""
    sup = virtual_location(session, world.wh_dal.id, "supplier")
    session.execute(text(
        "INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, to_location_id, qty,"
        " reason, doc_type, moved_at) VALUES (:id, :o, 1767225600000000, :i, :f, :t, 9, 'receipt', '',"
        " 1767225600000000)"),  # 2026-01-01T00:00Z: the ledger's times are stored as numbers (stamps)
        {"id": uuid.uuid4(), "o": world.hou.id, "i": world.items["BOLT"].id, "f": sup.id,
         "t": world.bins["DAL1-A-02"].id})
    session.commit()
    assert on_hand(session, world.items["BOLT"].id, world.wh_dal.id) == 9
    assert session.scalars(select(StockMove)).one().qty == 9
