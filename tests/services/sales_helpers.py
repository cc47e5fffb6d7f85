"""Helpers the order and allocation tests share: the order desk's people, customers, orders, stock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.services import masterdata as md
from app.services.auth import Actor, actor_for, create_user
from app.services.sales.orders import LineInput, OrderResult, create_order
from tests.factories import World
from tests.services.inventory_helpers import stock

TODAY = dt.date(2026, 12, 1)


def people(session: Session, w: World) -> dict[str, Actor]:
    """clara (clerk: enters orders), dan (dispatcher: runs allocation), mike (manager: credit.release)."""
    out = {"mike": w.actors["mike"]}
    for name, roles in (("clara", ["clerk"]), ("dan", ["dispatcher"])):
        u = create_user(session, name, "secret-" + name, roles, owner_branch_id=w.ho.id, branch_id=w.dal.id)
        out[name] = actor_for(session, u)
    session.flush()
    return out


def customer(session: Session, code: str, tier: str = "silver", limit: str = "0", **fields: Any) -> Customer:
    return md.create_customer(session, code, f"{code.title()} Ltd", priority_tier=tier, credit_limit=limit, **fields)


def order(session: Session, w: World, who: Actor, cust: Customer | str, lines: dict[str, int] | list[LineInput],
          **kw: Any) -> OrderResult:
    specs = lines if isinstance(lines, list) else [LineInput(sku, q) for sku, q in lines.items()]
    kw.setdefault("warehouse", "DAL1")
    kw.setdefault("today", TODAY)
    return create_order(session, who, customer=cust if isinstance(cust, str) else cust.code, lines=specs, **kw)


def put(session: Session, w: World, sku: str, qty: int, bin_key: str = "DAL1-A-02", **kw: Any) -> None:
    stock(session, w, sku, qty, bin_key, **kw)


def lines_of(session: Session, so: SalesOrder) -> list[SalesOrderLine]:
    return list(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == so.id)
                                .order_by(SalesOrderLine.line_no)))


def allocated(session: Session, so: SalesOrder) -> list[int]:
    session.expire_all()
    return [ln.qty_allocated for ln in lines_of(session, so)]


def ledger_sum(session: Session, so: SalesOrder) -> int:
    return int(session.execute(text("SELECT COALESCE(SUM(qty), 0) FROM allocation WHERE order_id = :o"),
                               {"o": so.id}).scalar() or 0)


def money(v: str) -> Decimal:
    return Decimal(v)
