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


def test_raw_statements_are_held_to_the_same_rule(engine: Engine, world: World) -> None:
    """Bulk INSERT/UPDATE through session.execute never flushes; the guard checks them too."""
    from sqlalchemy import insert, update

    from app.models.ids import uuid7

    def row(branch: str, number: str) -> dict[str, object]:
        o = _order(world, branch)
        return {"id": uuid7(), "number": number, "customer_id": o.customer_id, "warehouse_id": o.warehouse_id,
                "status": "open", "order_date": o.order_date, "owner_branch_id": o.owner_branch_id}

    with Session(engine) as s:  # standalone: anything goes
        s.execute(insert(SalesOrder), [row("HOU", "HOU-SO-1")])
        s.commit()
    become_branch_site(engine, world.dal)
    with Session(engine) as s:
        s.execute(insert(SalesOrder), [row("DAL", "DAL-SO-1")])
        with pytest.raises(ForeignWrite, match="rows of another branch"):
            s.execute(insert(SalesOrder), [row("DAL", "DAL-SO-2"), row("HOU", "HOU-SO-2")])
        with pytest.raises(ForeignWrite, match="reaches another branch's rows"):
            s.execute(update(SalesOrder).values(customer_po="bulk"))  # every order, Houston's too
        s.execute(update(SalesOrder).where(SalesOrder.owner_branch_id == world.dal.id).values(customer_po="mine"))
        with pytest.raises(ForeignWrite, match="only head office adds it"):
            s.execute(insert(Item).values(id=uuid7(), sku="RAW", description="raw", owner_branch_id=world.ho.id))
        with pytest.raises(ForeignWrite, match="only head office changes description"):
            s.execute(update(Item).where(Item.sku == "BOLT").values(description="cheap"))
        s.commit()
        assert s.scalars(select(SalesOrder.customer_po).order_by(SalesOrder.number)).all() == ["mine", ""]
