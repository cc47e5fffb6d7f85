"""The ownership guard: a replicating branch site is stopped at the write, not at the next push."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Location
from app.models.sales import SalesOrder
from app.services import masterdata as md
from app.services.ownership import ForeignWrite, acting_branch, owns
from tests.factories import World, become_branch_site


def _order(w: World, branch: str) -> SalesOrder:
    b, wh = (w.dal, w.wh_dal) if branch == "DAL" else (w.hou, w.wh_hou)
    return SalesOrder(number=f"{branch}-SO-9", customer_id=w.customer.id, warehouse_id=wh.id, status="open",
                      order_date=dt.date(2026, 11, 26), owner_branch_id=b.id)


def test_a_standalone_file_owns_every_branch(engine: Engine, world: World) -> None:
    with Session(engine) as s:
        s.add(_order(world, "HOU"))
        s.commit()
        assert owns(s, world.hou.id) and acting_branch(s, world.hou.id) == world.hou.id


def test_a_branch_site_writes_only_its_own_documents(engine: Engine, world: World) -> None:
    become_branch_site(engine, world.dal)
    with Session(engine) as s:
        assert acting_branch(s, world.hou.id) == world.dal.id and not owns(s, world.hou.id)
        s.add(_order(world, "HOU"))
        with pytest.raises(ForeignWrite, match="belongs to another branch"):
            s.commit()
        s.rollback()
        s.add(_order(world, "DAL"))
        s.commit()
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 1
        mine = s.scalars(select(SalesOrder)).one()
        mine.owner_branch_id = world.hou.id  # giving a document away is refused as well
        with pytest.raises(ForeignWrite):
            s.commit()


def test_a_branch_site_edits_only_branch_editable_master_fields(engine: Engine, world: World) -> None:
    become_branch_site(engine, world.dal)
    with Session(engine) as s:
        bin_ = s.get(Location, world.bins["DAL1-A-02"].id)
        assert bin_ is not None
        bin_.walk_seq = 7  # branch-editable: the branch knows its own walking order
        s.commit()
        item = s.get(Item, world.items["BOLT"].id)
        assert item is not None
        item.description = "cheap bolt"
        with pytest.raises(ForeignWrite, match="only head office changes description"):
            s.commit()
        s.rollback()
        with pytest.raises(ForeignWrite, match="only head office adds it"):
            md.create_item(s, "NEWSKU", "New item")
            s.flush()


def test_head_office_site_adds_master_data(engine: Engine, world: World) -> None:
    become_branch_site(engine, world.ho)
    with Session(engine) as s:
        md.create_item(s, "NEWSKU", "New item")
        s.commit()
        assert s.scalar(select(Item.sku).where(Item.sku == "NEWSKU")) == "NEWSKU"


def test_a_failing_settler_is_rolled_back_alone_and_named(engine: Engine, world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import ownership
    from app.services.db import session_scope

    def broken(s: Session) -> int:
        s.add(_order(world, "DAL"))
        s.flush()
        raise RuntimeError("cannot read the decision")

    def fine(s: Session) -> int:
        order = _order(world, "DAL")
        order.number = "DAL-SO-OK"
        s.add(order)
        return 1

    monkeypatch.setattr(ownership, "_SETTLERS", {"a_broken": broken, "b_fine": fine})
    become_branch_site(engine, world.dal)
    with session_scope(engine) as s:
        done, errors = ownership.settle_all(s)
    assert done == {"b_fine": 1} and errors == ["settling a_broken: cannot read the decision"]
    with Session(engine) as s:
        assert list(s.scalars(select(SalesOrder.number))) == ["DAL-SO-OK"]


def test_a_branch_site_takes_only_its_own_branchs_numbers(engine: Engine, world: World) -> None:
    from app.services import numbering

    become_branch_site(engine, world.dal)
    with Session(engine) as s:
        assert numbering.next_number(s, world.dal.id, "PO") == "DAL-PO-000001"
        with pytest.raises(ForeignWrite, match="HOU's document numbers are taken only at a HOU workstation"):
            numbering.next_number(s, world.hou.id, "PO")
