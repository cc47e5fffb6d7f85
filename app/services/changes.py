"""Change kinds: what kind of data a write touched, so screens refresh only what concerns them.

Why typed and derived: screens used to list free strings and the op that wrote had to remember
which ones it touched; sync kept a second, incomplete map of its own, so a screen missed what a
pull brought. Now every table has exactly one kind in ``TABLES`` (a test fails on a table without
one), every Session records the tables it flushed, and the op runner, sync and the background
jobs all turn tables into kinds with ``for_tables``. The window broadcasts a frozenset of
``Change`` after each commit; a screen refreshes when it meets the kinds it shows.

A background job opens its own Sessions (read what is due, talk, write the outcome), so no one
Session holds what it wrote: ``recording()`` collects the tables every Session flushes in the
thread while the job runs (the op runner's I/O pool wraps each task in it), and the runner
broadcasts them like an op's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session


class Change(StrEnum):
    """A kind of data. StrEnum: ``Change.PO == "po"``, so kinds print and compare as their names."""

    ITEM = "item"
    STOCK = "stock"
    PO = "po"
    APPROVAL = "approval"
    RULES = "rules"
    REQUISITION = "requisition"
    RECOMMENDATION = "recommendation"
    FORECAST = "forecast"
    RECEIPT = "receipt"
    PUTAWAY = "putaway"
    TRANSFER = "transfer"
    COUNT = "count"
    RMA = "rma"
    REPLENISH = "replenish"
    ORDER = "order"
    ALLOCATION = "allocation"
    SHIPMENT = "shipment"
    PACKING = "packing"
    INVOICE = "invoice"
    PRINT = "print"
    WAVE = "wave"
    TRACKING = "tracking"
    CARRIER = "carriers"
    EXCEPTION = "exception"
    EDI = "edi"
    MAIL = "mail"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    SITE = "site"
    USER = "user"
    SETTINGS = "settings"
    SYNC = "sync"


#: every table -> the kind of data it holds (None: bookkeeping no screen shows)
TABLES: dict[str, Change | None] = {
    "item": Change.ITEM, "item_uom": Change.ITEM, "item_supplier": Change.ITEM,
    "stock_move": Change.STOCK, "stock_balance": Change.STOCK, "lot": Change.STOCK, "serial_number": Change.STOCK,
    "kpi_stock_day": Change.STOCK, "kpi_po_line": Change.RECEIPT,
    "purchase_order": Change.PO, "purchase_order_line": Change.PO,
    "approval_decision": Change.APPROVAL,
    "approval_rule": Change.RULES, "replenishment_class": Change.RULES, "transfer_lane": Change.RULES,
    "requisition": Change.REQUISITION,
    "recommendation_decision": Change.RECOMMENDATION,
    "demand_forecast": Change.FORECAST, "forecast_run": Change.FORECAST,
    "warehouse_figures": Change.FORECAST,  # sisters' figures: the worklist's transfer-vs-buy reads them
    "expected_receipt": Change.RECEIPT, "expected_receipt_line": Change.RECEIPT, "receipt": Change.RECEIPT,
    "receipt_line": Change.RECEIPT, "quality_hold": Change.RECEIPT,
    "putaway_task": Change.PUTAWAY,
    "transfer_order": Change.TRANSFER, "transfer_line": Change.TRANSFER,
    "count_task": Change.COUNT, "count_line": Change.COUNT,
    "rma": Change.RMA, "rma_line": Change.RMA, "credit_request": Change.RMA,
    "replenish_task": Change.REPLENISH,
    "sales_order": Change.ORDER, "sales_order_line": Change.ORDER, "sales_week": Change.ORDER,
    "allocation": Change.ALLOCATION, "allocation_run": Change.ALLOCATION, "allocation_policy": Change.ALLOCATION,
    "credit_release": Change.ORDER, "customer_message": Change.EDI,
    "price_list": Change.CUSTOMER, "price_list_line": Change.CUSTOMER, "receivable_entry": Change.CUSTOMER,
    "shipment": Change.SHIPMENT,
    "shipment_line": Change.SHIPMENT, "shipment_label": Change.SHIPMENT, "manifest": Change.SHIPMENT,
    "carton": Change.PACKING, "carton_line": Change.PACKING, "carton_type": Change.PACKING,
    "invoice": Change.INVOICE, "invoice_line": Change.INVOICE, "invoice_tax": Change.INVOICE,
    "payment": Change.INVOICE, "customer_billing": Change.CUSTOMER, "item_tax_class": Change.ITEM,
    "tax_rate": Change.CUSTOMER,
    "print_record": Change.PRINT, "print_batch": Change.PRINT, "print_preference": Change.PRINT,
    "wave": Change.WAVE, "pick_line": Change.WAVE, "carrier_cutoff": Change.WAVE, "dispatch_setting": Change.WAVE,
    "tracking_event": Change.TRACKING, "tracking_policy": Change.TRACKING, "tracking_lease": Change.TRACKING,
    "tracking_cycle": Change.TRACKING,
    "carrier": Change.CARRIER, "carrier_account": Change.CARRIER, "carrier_service": Change.CARRIER,
    "exception_item": Change.EXCEPTION,
    "supplier_message": Change.EDI, "supplier_message_line": Change.EDI,
    "email_outbox": Change.MAIL,
    "supplier": Change.SUPPLIER,
    "customer": Change.CUSTOMER,
    "branch": Change.SITE, "warehouse": Change.SITE, "zone": Change.SITE, "location": Change.SITE,
    "company": Change.SITE, "sales_history": Change.ORDER, "replenishment_policy": Change.RULES,
    "app_user": Change.USER, "user_role": Change.USER,
    "local_site": Change.SETTINGS,
    "sync_history": Change.SYNC, "sync_conflict": Change.SYNC, "sync_state": Change.SYNC,
    # bookkeeping
    "audit_entry": None, "number_series": None, "edi_counter": None, "carrier_limit_state": None,
    "sync_outbox": None, "sync_capture": None, "tracking_lease_watch": None, "tracking_notice_due": None,
    "billing_due": None,
}


def for_tables(tables: Iterable[str]) -> frozenset[Change]:
    """The kinds of data these tables hold. A table missing from ``TABLES`` (a new one nobody placed)
    counts as every kind, so screens refresh too often rather than never."""
    out: set[Change] = set()
    for t in tables:
        if t not in TABLES:
            return frozenset(Change)
        kind = TABLES[t]
        if kind is not None:
            out.add(kind)
    return frozenset(out)


def kinds(values: Iterable[Change | str]) -> frozenset[Change]:
    """Declared kinds as ``Change`` (a misspelt one raises ValueError at once)."""
    return frozenset(Change(v) for v in values)


# ---- what a Session wrote ------------------------------------------------------------------


_KEY = "flushed_tables"


def flushed_tables(session: Session) -> frozenset[str]:
    """Tables this Session wrote since it was made (or since ``forget``)."""
    return frozenset(session.info.get(_KEY, ()))


def flushed(session: Session) -> frozenset[Change]:
    """The kinds of data this Session wrote (what the op runner broadcasts after its commit)."""
    return for_tables(flushed_tables(session))


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)


def note_written(session: Session, tables: Iterable[str]) -> None:
    """Tables written with the DB-API directly (bulk imports' executemany): they count like any."""
    _note(session, tables)


#: the ``recording()`` blocks open in this thread (innermost last)
_RECORDING: ContextVar[tuple[set[str], ...]] = ContextVar("depot_tables_written", default=())


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the tables every Session writes in this thread while the block runs (a background
    job's Sessions are its own: this is how its runner learns what it wrote). Blocks may nest."""
    seen: set[str] = set()
    token = _RECORDING.set((*_RECORDING.get(), seen))
    try:
        yield seen
    finally:
        _RECORDING.reset(token)


def _note(session: Session, names: Iterable[str]) -> None:
    seen: set[str] = session.info.setdefault(_KEY, set())
    new = set(names)
    seen.update(new)
    for outer in _RECORDING.get():
        outer.update(new)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    # still the pre-flush state here: what was new, changed or deleted is what this flush wrote
    tables = {getattr(type(o), "__tablename__", "") for o in (*session.new, *session.dirty, *session.deleted)}
    _note(session, (t for t in tables if t))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    """INSERT / UPDATE / DELETE statements run through the Session (bulk writes) count too."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name:
            _note(state.session, [name])
