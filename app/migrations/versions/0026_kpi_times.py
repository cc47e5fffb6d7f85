"""kpi times: kpi_po_line's dates as day numbers and its times as microseconds (issue 19)

Revision ID: 0026_kpi_times
Revises: 0025_history_times

The KPIs' digest of PO lines (338,126 rows on the large data set) kept its order and expected dates
as 'YYYY-MM-DD' and its first and last receipt and last putaway as ISO text (33 bytes each, and in
``ix_kpi_po_line_first`` and ``ix_kpi_po_line_put``): now the numbers ``app.models.stamps`` stores
(days since 1970-01-01; microseconds, as ``stock_move.moved_at``). The table is rebuilt
(``app.migrations.numeric``); the two triggers that keep it write the move's time as it is (no
more ISO text made from the number), the PO's dates and a receipt's ISO time as numbers (those
columns are text still). A trigger that writes kpi_po_line from these columns in another form stops
the migration. Downgrade does the reverse.
"""

from __future__ import annotations

from alembic import op

from app.migrations.numeric import DAYS, MICROS, Plan, convert

revision = "0026_kpi_times"
down_revision = "0025_history_times"
branch_labels = None
depends_on = None


def _floor_s(c: str) -> str:
    return f"({c} / 1000000 - ({c} < 0 AND {c} % 1000000 <> 0))"


def _iso(c: str) -> str:  # 0023_numeric_times' form of the ISO text kpi_po_line kept
    return (f"CASE WHEN {c} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', {_floor_s(c)}, "
            f"'unixepoch') || printf('.%06d+00:00', (({c} % 1000000 + 1000000) % 1000000)) END")


def _days(c: str) -> str:
    return f"CAST(julianday(substr({c}, 1, 10)) - 2440587.5 AS INTEGER)"


def _micros(c: str) -> str:
    return (f"CASE WHEN {c} IS NULL THEN NULL ELSE CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr({c}, 21, 6) AS INTEGER) END")


_EXPECTED = "COALESCE(pl.expected_date, p.expected_date)"

PLAN = Plan(
    table="kpi_po_line",
    columns={"order_date": DAYS, "expected_date": DAYS, "first_at": MICROS, "last_at": MICROS, "put_at": MICROS},
    rewrites=[
        (f"THEN {_iso('NEW.moved_at')} END", "THEN NEW.moved_at END"),
        ("w.branch_id, p.supplier_id, p.order_date,", f"w.branch_id, p.supplier_id, {_days('p.order_date')},"),
        (f"{_EXPECTED}, pl.qty_ordered", f"{_days(_EXPECTED)}, pl.qty_ordered"),
        ("r.posted_at, r.posted_at, NEW.qty, NULL", f"{_micros('r.posted_at')}, {_micros('r.posted_at')}, NEW.qty, NULL"),
    ],
    # in a trigger that writes kpi_po_line, what it reads of the moves, POs and receipts
    watch_in=r"\bkpi_po_line\b",
    watch=[r"\bmoved_at\b", r"\bposted_at\b", r"\b(p|pl)\.(order_date|expected_date)\b"],
    revision=revision,
)


def upgrade() -> None:
    convert(op.get_bind(), [PLAN], numeric=True)


def downgrade() -> None:
    convert(op.get_bind(), [PLAN], numeric=False)
