"""A small, explicit world of master data for tests (the demo seed is much larger).

Built through the same service functions the app uses, so tests exercise real invariants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Branch, Location, Warehouse
from app.models.parties import Customer, Supplier
from app.services import masterdata as md
from app.services.auth import Actor, actor_for, create_user
from app.services.stock import virtual_location


@dataclass
class World:
    ho: Branch
    dal: Branch
    hou: Branch
    wh_dal: Warehouse
    wh_hou: Warehouse
    bins: dict[str, Location]
    items: dict[str, Item]
    supplier: Supplier
    customer: Customer
    actors: dict[str, Actor] = field(default_factory=dict)

    def loc(self, wh: Warehouse, kind: str, session: Session) -> Location:
        return virtual_location(session, wh.id, kind)


def build_world(session: Session) -> World:
    ho = md.create_branch(session, "HQ", "Head office", head_office=True)
    dal = md.create_branch(session, "DAL", "Dallas")
    hou = md.create_branch(session, "HOU", "Houston")
    wh_dal = md.create_warehouse(session, dal, "DAL1", "Dallas DC")
    wh_hou = md.create_warehouse(session, hou, "HOU1", "Houston DC")
    bins: dict[str, Location] = {}
    for wh in (wh_dal, wh_hou):
        amb = md.create_zone(session, wh, "A")
        cold = md.create_zone(session, wh, "C", temperature_class="chilled")
        for n in range(1, 4):
            bins[f"{wh.code}-A-0{n}"] = md.create_bin(session, wh, f"A-0{n}", zone=amb, role="pick" if n == 1 else "reserve", walk_seq=n)
        bins[f"{wh.code}-C-01"] = md.create_bin(session, wh, "C-01", zone=cold, walk_seq=10)
    items = {
        "WIDGET": md.create_item(session, "WIDGET", "Steel widget 40 mm", standard_cost="1.2500", list_price="2.9900",
                                 velocity_class="A", weight_g=120, length_mm=40, width_mm=40, height_mm=20, uoms={"CS": 12}, gtin="00012345678905"),
        "BOLT": md.create_item(session, "BOLT", "Hex bolt M8", standard_cost="0.1000", list_price="0.3500", velocity_class="B"),
        "MILK": md.create_item(session, "MILK", "UHT milk 1 l", standard_cost="0.8000", list_price="1.4900",
                               track_lot=True, track_expiry=True, temperature_class="chilled"),
        "DRILL": md.create_item(session, "DRILL", "Cordless drill", standard_cost="45.0000", list_price="99.0000", track_serial=True),
    }
    supplier = md.create_supplier(session, "ACME", "Acme Industrial Supply", contact_email="orders@acme.example")
    for it in items.values():
        md.link_item_supplier(session, it, supplier, contract_price=it.standard_cost, pack_size=12 if it.sku == "WIDGET" else 1)
    customer = md.create_customer(session, "BUILDCO", "BuildCo Contractors", credit_limit="10000.00")
    w = World(ho, dal, hou, wh_dal, wh_hou, bins, items, supplier, customer)
    for name, roles, branch in (
        ("alice", ["buyer"], dal), ("bob", ["approver"], dal), ("rita", ["receiver"], dal),
        ("mike", ["manager"], dal), ("wes", ["warehouse"], dal), ("root", ["admin"], ho),
    ):
        u = create_user(session, name, "secret-" + name, roles, owner_branch_id=ho.id, branch_id=branch.id)
        w.actors[name] = actor_for(session, u)
    session.flush()
    return w


def load_world(session: Session) -> World:
    """The world ``build_world`` made, read back from a copied database file."""
    from sqlalchemy import select

    from app.models.org import Branch as B
    from app.models.org import Location as L
    from app.models.org import Warehouse as W
    from app.models.users import User

    branches = {b.code: b for b in session.scalars(select(B))}
    whs = {w.code: w for w in session.scalars(select(W))}
    bins = {f"{whs_code}-{loc.code}": loc
            for whs_code, wh in whs.items()
            for loc in session.scalars(select(L).where(L.warehouse_id == wh.id, L.kind == "storage"))}
    items = {i.sku: i for i in session.scalars(select(Item))}
    w = World(
        branches["HQ"], branches["DAL"], branches["HOU"], whs["DAL1"], whs["HOU1"], bins, items,
        session.scalars(select(Supplier)).one(), session.scalars(select(Customer)).one(),
    )
    for u in session.scalars(select(User).order_by(User.created_at)):
        w.actors[u.username] = actor_for(session, u)
    return w


def become_branch_site(engine: Engine, branch: Branch) -> None:
    """Make this database file a replicating site of ``branch`` (as after its first sync): the
    ownership rule then applies, exactly as on a workstation connected to the server."""
    from sqlalchemy import text

    from app.models.ids import uuid7
    from app.models.types import iso_utc, utcnow

    with engine.begin() as c:
        c.execute(text("INSERT INTO local_site (id, site_id, branch_id, created_at) VALUES (1, :s, :b, :t) "
                       "ON CONFLICT (id) DO UPDATE SET branch_id = excluded.branch_id"),
                  {"s": uuid7(), "b": branch.id, "t": iso_utc(utcnow())})
        c.execute(text("INSERT INTO sync_state (key, value) VALUES ('cursor', '0') "
                       "ON CONFLICT (key) DO NOTHING"))
