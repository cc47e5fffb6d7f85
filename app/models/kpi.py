"""Local-only digests of the ledger that the manager KPIs read (issue 17), like ``sales_week``.

* ``KpiPoLine``: per PO line received, its first and last receipt, the quantity received and its
  last putaway, from receipts posted by Receiving (``receipt_line``; their putaway is the
  receipt's ``stocked_at``, read from there) and from history written straight into the ledger
  (receipt and putaway moves whose document is the PO: the seed, an adoption), with the line's ship-to, supplier, order date, expected date and
  ordered quantity as they stood at its last move. Supplier on-time and in-full, PO cycle time and
  dock-to-stock read it instead of grouping hundreds of thousands of moves.
* ``KpiStockDay``: per warehouse and day, the net stock value that came in (standard cost; moves
  between internal locations net to zero) and the cost of what went to customers. Turns and days
  of supply read it instead of the whole ledger.

Both are kept in step by triggers (on ``stock_move`` and ``receipt_line`` inserts) (so moves pulled from other branches
count), are rebuildable from the ledger (the ``*_REBUILD_SQL`` below) and are never replicated.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LocalOnly
from app.models.stamps import EpochDays, UTCMicros, sql_day, sql_days, sql_iso, sql_micros


class KpiPoLine(LocalOnly, Base):
    __tablename__ = "kpi_po_line"
    __table_args__ = (
        Index("ix_kpi_po_line_first", "first_at"),
        Index("ix_kpi_po_line_put", "put_at"),
        Index("ix_kpi_po_line_po", "po_id"),
        # numbers in SQLite (``stamps``, migration 0026_kpi_times): text written around the types is refused
        *(CheckConstraint(f"typeof({c}) {test}", name=f"{c}_number")
          for c, test in (("order_date", "= 'integer'"), ("expected_date", "IN ('integer', 'null')"),
                          ("first_at", "IN ('integer', 'null')"), ("last_at", "IN ('integer', 'null')"),
                          ("put_at", "IN ('integer', 'null')"))),
    )

    po_line_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    po_id: Mapped[uuid.UUID] = mapped_column()
    warehouse_id: Mapped[uuid.UUID] = mapped_column()
    branch_id: Mapped[uuid.UUID] = mapped_column()
    supplier_id: Mapped[uuid.UUID] = mapped_column()
    #: days since 1970-01-01 (``stamps.EpochDays``)
    order_date: Mapped[dt.date] = mapped_column(EpochDays())
    expected_date: Mapped[dt.date | None] = mapped_column(EpochDays(), default=None)
    qty_ordered: Mapped[int] = mapped_column(BigInteger, default=0)
    #: microseconds since the epoch (``stamps.UTCMicros``), as the moves' ``moved_at``
    first_at: Mapped[dt.datetime | None] = mapped_column(UTCMicros(), default=None)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCMicros(), default=None)
    qty: Mapped[int] = mapped_column(BigInteger, default=0)
    put_at: Mapped[dt.datetime | None] = mapped_column(UTCMicros(), default=None)


class KpiStockDay(LocalOnly, Base):
    __tablename__ = "kpi_stock_day"
    __table_args__ = {"sqlite_with_rowid": False}

    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    #: 1/10,000 of the currency unit, like Money columns
    inflow: Mapped[int] = mapped_column(BigInteger, default=0)
    cogs: Mapped[int] = mapped_column(BigInteger, default=0)


_INTERNAL = "('storage', 'dock', 'qa')"
#: moves that never leave the internal locations (skipped: they net to zero)
_INSIDE = "('putaway', 'replenish', 'hold')"
#: the same lists for the server's sums of a first sync (``replication.pull.stock_days_query``)
KPI_INTERNAL, KPI_INSIDE = _INTERNAL, _INSIDE

_PO_LINE_COLS = ("po_line_id, po_id, warehouse_id, branch_id, supplier_id, order_date, expected_date, qty_ordered, "
                 "first_at, last_at, qty, put_at")

def _kpi_triggers_sql(moved: dict[str, str]) -> list[str]:
    return [
    f"""CREATE TRIGGER IF NOT EXISTS trg_stock_move_kpi_po_line AFTER INSERT ON stock_move
    WHEN NEW.doc_type = 'PO' AND NEW.reason IN ('receipt', 'putaway')
    BEGIN
      INSERT INTO kpi_po_line ({_PO_LINE_COLS})
      SELECT pl.id, pl.po_id, pl.ship_to_warehouse_id, w.branch_id, p.supplier_id, {moved['order']},
             {moved['expected']}, pl.qty_ordered,
             CASE WHEN NEW.reason = 'receipt' THEN {moved['new_iso']} END, CASE WHEN NEW.reason = 'receipt' THEN {moved['new_iso']} END,
             CASE WHEN NEW.reason = 'receipt' THEN NEW.qty ELSE 0 END, CASE WHEN NEW.reason = 'putaway' THEN {moved['new_iso']} END
      FROM purchase_order_line pl JOIN purchase_order p ON p.id = pl.po_id JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
      WHERE pl.id = NEW.doc_line_id
      ON CONFLICT (po_line_id) DO UPDATE SET
        first_at = CASE WHEN first_at IS NULL OR excluded.first_at < first_at THEN COALESCE(excluded.first_at, first_at)
                        ELSE first_at END,
        last_at = CASE WHEN last_at IS NULL OR excluded.last_at > last_at THEN COALESCE(excluded.last_at, last_at)
                       ELSE last_at END,
        put_at = CASE WHEN put_at IS NULL OR excluded.put_at > put_at THEN COALESCE(excluded.put_at, put_at)
                      ELSE put_at END,
        qty = qty + excluded.qty, expected_date = excluded.expected_date, qty_ordered = excluded.qty_ordered;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS trg_receipt_line_kpi_po_line AFTER INSERT ON receipt_line
    WHEN NEW.po_line_id IS NOT NULL
    BEGIN
      INSERT INTO kpi_po_line ({_PO_LINE_COLS})
      SELECT pl.id, pl.po_id, pl.ship_to_warehouse_id, w.branch_id, p.supplier_id, {moved['order']},
             {moved['expected']}, pl.qty_ordered, {moved['posted']}, {moved['posted']}, NEW.qty, NULL
      FROM purchase_order_line pl JOIN purchase_order p ON p.id = pl.po_id JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
      JOIN receipt r ON r.id = NEW.receipt_id
      WHERE pl.id = NEW.po_line_id
      ON CONFLICT (po_line_id) DO UPDATE SET
        first_at = MIN(COALESCE(first_at, excluded.first_at), excluded.first_at),
        last_at = MAX(COALESCE(last_at, excluded.last_at), excluded.last_at),
        qty = qty + excluded.qty, expected_date = excluded.expected_date, qty_ordered = excluded.qty_ordered;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS trg_stock_move_kpi_stock_day AFTER INSERT ON stock_move
    WHEN NEW.reason NOT IN {_INSIDE}
    BEGIN
      INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs)
      SELECT CASE WHEN lt.kind IN {_INTERNAL} THEN lt.warehouse_id ELSE lf.warehouse_id END, {moved['new_day']},
             NEW.qty * i.standard_cost * ((lt.kind IN {_INTERNAL}) - (lf.kind IN {_INTERNAL})),
             CASE WHEN lt.kind = 'customer' THEN NEW.qty * i.standard_cost ELSE 0 END
      FROM location lt, location lf, item i
      WHERE lt.id = NEW.to_location_id AND lf.id = NEW.from_location_id AND i.id = NEW.item_id
      ON CONFLICT (warehouse_id, day) DO UPDATE SET inflow = inflow + excluded.inflow, cogs = cogs + excluded.cogs;
    END""",
    ]


#: what the digests' statements read, in their forms: ``stock_move.moved_at`` is stored as a number
#: since 0023_numeric_times (``stamps``), as ISO text before (the forms 0019_kpi wrote); kpi_po_line
#: keeps its times and dates as numbers since 0026_kpi_times (``new_iso``/``iso``: the move's time as
#: kpi_po_line stores it; ``order``/``expected``: the PO's dates, ISO text in purchase_order(_line);
#: ``posted``: a receipt's ISO time), as ISO text before (0023's forms: ``_ISO_KPI``)
_TEXT_DATES = {"order": "p.order_date", "expected": "COALESCE(pl.expected_date, p.expected_date)",
               "posted": "r.posted_at"}
_NUMERIC = {"new_iso": "NEW.moved_at", "new_day": sql_day("NEW.moved_at"), "iso": "moved_at",
            "m_day": sql_day("m.moved_at"), "order": sql_days("p.order_date"),
            "expected": sql_days("COALESCE(pl.expected_date, p.expected_date)"), "posted": sql_micros("r.posted_at")}
_ISO_KPI = {**_NUMERIC, "new_iso": sql_iso("NEW.moved_at"), "iso": sql_iso("moved_at"), **_TEXT_DATES}
_TEXT = {"new_iso": "NEW.moved_at", "new_day": "substr(NEW.moved_at, 1, 10)", "iso": "moved_at",
         "m_day": "substr(m.moved_at, 1, 10)", **_TEXT_DATES}

KPI_TRIGGERS_SQL = _kpi_triggers_sql(_NUMERIC)


#: per PO line, its receipt and putaway moves as (doc_line_id, first_at, last_at, qty, put_at) rows
def _po_line_moves_sql(moved: dict[str, str]) -> str:
    return f"""SELECT doc_line_id, CASE WHEN reason = 'receipt' THEN {moved['iso']} END AS first_at,
                   CASE WHEN reason = 'receipt' THEN {moved['iso']} END AS last_at,
                   CASE WHEN reason = 'receipt' THEN qty ELSE 0 END AS qty,
                   CASE WHEN reason = 'putaway' THEN {moved['iso']} END AS put_at
            FROM stock_move WHERE doc_type = 'PO' AND reason IN ('receipt', 'putaway')"""


PO_LINE_MOVES_SQL = _po_line_moves_sql(_NUMERIC)


def kpi_po_line_rebuild_sql(moves: str = PO_LINE_MOVES_SQL, forms: dict[str, str] | None = None) -> str:
    """Rebuild ``kpi_po_line`` from ``moves``: (doc_line_id, first_at, last_at, qty, put_at) rows, one
    or more per line (the ledger's, or a bulk load's own sums of it; times as kpi_po_line stores
    them), plus the posted receipts. ``forms``: the dates' and receipts' forms (numeric by default)."""
    f = forms or _NUMERIC
    return f"""
INSERT INTO kpi_po_line ({_PO_LINE_COLS})
SELECT pl.id, pl.po_id, pl.ship_to_warehouse_id, w.branch_id, p.supplier_id, {f['order']},
       {f['expected']}, pl.qty_ordered, m.first_at, m.last_at, m.qty, m.put_at
FROM (SELECT doc_line_id, MIN(first_at) AS first_at, MAX(last_at) AS last_at, SUM(qty) AS qty, MAX(put_at) AS put_at
      FROM ({moves}
            UNION ALL
            SELECT rl.po_line_id, {f['posted']}, {f['posted']}, rl.qty, NULL
            FROM receipt_line rl JOIN receipt r ON r.id = rl.receipt_id WHERE rl.po_line_id IS NOT NULL)
      GROUP BY doc_line_id) m
JOIN purchase_order_line pl ON pl.id = m.doc_line_id
JOIN purchase_order p ON p.id = pl.po_id
JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
"""


KPI_PO_LINE_REBUILD_SQL = kpi_po_line_rebuild_sql()

_STOCK_DAY_SELECT_FORM = f"""
SELECT wh, day, SUM(inflow), SUM(cogs) FROM (
  SELECT CASE WHEN lt.kind IN {_INTERNAL} THEN lt.warehouse_id ELSE lf.warehouse_id END AS wh,
         {{day}} AS day,
         m.qty * i.standard_cost * ((lt.kind IN {_INTERNAL}) - (lf.kind IN {_INTERNAL})) AS inflow,
         CASE WHEN lt.kind = 'customer' THEN m.qty * i.standard_cost ELSE 0 END AS cogs
  FROM stock_move m JOIN {{location}} lt ON lt.id = m.to_location_id JOIN {{location}} lf ON lf.id = m.from_location_id
  JOIN {{item}} i ON i.id = m.item_id
  WHERE m.reason NOT IN {_INSIDE}{{where}}
) GROUP BY wh, day
"""

_STOCK_DAY_SELECT = _STOCK_DAY_SELECT_FORM.replace("{day}", _NUMERIC["m_day"])

KPI_STOCK_DAY_REBUILD_SQL = "INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs)" + _STOCK_DAY_SELECT.format(
    where="", location="location", item="item")

#: what migration 0019_kpi ran, when ``moved_at`` was ISO text (0023_numeric_times converts)
KPI_TEXT_TRIGGERS_SQL = _kpi_triggers_sql(_TEXT)
KPI_TEXT_PO_LINE_REBUILD_SQL = kpi_po_line_rebuild_sql(_po_line_moves_sql(_TEXT), _TEXT)
KPI_TEXT_STOCK_DAY_REBUILD_SQL = ("INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs)"
                                  + _STOCK_DAY_SELECT_FORM.replace("{day}", _TEXT["m_day"]).format(
                                      where="", location="location", item="item"))


def kpi_stock_day_add_sql(where: str, *, location: str = "location", item: str = "item") -> str:
    """Add the moves ``where`` selects (SQL over ``m``, the stock_move) to kpi_stock_day: for moves
    written while its trigger is set aside, after the digest was rebuilt. ``location`` and ``item``
    may name copies of those tables holding the columns read (id, kind, warehouse_id; id,
    standard_cost): a first sync's apply reads them from keyed temp tables."""
    return ("INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs) SELECT * FROM ("
            + _STOCK_DAY_SELECT.format(where=f" AND ({where})", location=location, item=item) + ") WHERE true "
            "ON CONFLICT (warehouse_id, day) DO UPDATE SET inflow = inflow + excluded.inflow, "
            "cogs = cogs + excluded.cogs")
