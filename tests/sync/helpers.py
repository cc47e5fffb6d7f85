"""Small builders shared by the replication tests (documents, moves, direct server access)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from psycopg import sql

from app.models.sales import SalesOrder
from app.services.replication.scope import is_publisher, scope_sql
from app.services.replication.tables import sync_tables
from app.services.stock import MoveSpec, post_moves, virtual_location
from tests.factories import World
from tests.sync.conftest import Net, Site


def new_order(site: Site, w: World, branch: str, number: str, status: str = "open") -> uuid.UUID:
    b = w.dal if branch == "DAL" else w.hou
    wh = w.wh_dal if branch == "DAL" else w.wh_hou
    with site.session() as s:
        so = SalesOrder(number=number, customer_id=w.customer.id, warehouse_id=wh.id, status=status,
                        order_date=dt.date(2026, 11, 26), owner_branch_id=b.id)
        s.add(so)
        s.commit()
        return so.id


def edit_order(site: Site, order_id: uuid.UUID, *, guard: bool = True, **values: Any) -> None:
    """``guard=False`` switches the site's ownership guard off, as a raw write path would."""
    with site.session() as s:
        if not guard:
            s.info["ownership_off"] = True
        so = s.get(SalesOrder, order_id)
        assert so is not None
        for k, v in values.items():
            setattr(so, k, v)
        s.commit()


def order_field(site: Site, order_id: uuid.UUID, field: str) -> Any:
    return site.scalar(f"SELECT {field} FROM sales_order WHERE id = :i", i=order_id.hex)


def receive(site: Site, w: World, branch: str, sku: str, qty: int) -> None:
    b = w.dal if branch == "DAL" else w.hou
    wh = w.wh_dal if branch == "DAL" else w.wh_hou
    bin_ = w.bins[f"{wh.code}-A-01"]
    with site.session() as s:
        sup = virtual_location(s, wh.id, "supplier")
        post_moves(s, None, [MoveSpec(w.items[sku].id, qty, sup.id, bin_.id, "receipt")], owner_branch_id=b.id)
        s.commit()


def _rows(site: Site, table: str) -> dict[str, tuple[str, ...]]:
    t = sync_tables()[table]
    cols = ", ".join(col.sqlite_expr for col in t.columns)
    with site.engine.connect() as c:
        return {str(r[0]): tuple("" if v is None else str(v) for v in r) for r in c.exec_driver_sql(f'SELECT {cols} FROM "{table}"')}


def _server_rows(net: Net, table: str, where: sql.Composable | None = None) -> dict[str, tuple[str, ...]]:
    t = sync_tables()[table]
    exprs = sql.SQL(", ").join(sql.SQL(c.select_expr) for c in t.columns)
    q = sql.SQL("SELECT {} FROM {} WHERE {}").format(exprs, sql.Identifier(table), where or sql.SQL("true"))
    with psycopg.connect(net.server.dsn) as c:
        return {str(r[0]): tuple("" if v is None else str(v) for v in r) for r in c.execute(q).fetchall()}


def assert_scoped_convergence(net: Net, site: Site, branch_hex: str, warehouses: list[str]) -> None:
    """Every row the site holds is the server's row, and every row its scope selects is here."""
    publisher = is_publisher(site.scalar("SELECT value FROM sync_state WHERE key = 'workstation'"))
    for name, t in sync_tables().items():
        mine = _rows(site, name)
        server = _server_rows(net, name)
        for rid, row in mine.items():
            assert server.get(rid) == row, (site.path.name, name, rid)
        wanted = _server_rows(net, name, scope_sql(t, branch_hex, warehouses, publisher=publisher))
        assert set(wanted) <= set(mine), (site.path.name, name, sorted(set(wanted) - set(mine))[:3])
