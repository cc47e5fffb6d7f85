"""history times: sales_history's sale_date as a day number and created_at as microseconds (issue 19)

Revision ID: 0025_history_times
Revises: 0024b_history_index

The legacy sales history is the second largest table of the large data set (1.08 million rows):
its ``created_at`` (33 bytes of ISO text) becomes an INTEGER of microseconds since 1970-01-01 UTC
(9 bytes) and its ``sale_date`` ('YYYY-MM-DD', 11 bytes) the number of days since 1970-01-01
(3 bytes), as ``app.models.stamps`` stores them. The table is
rebuilt (``app.migrations.numeric``); the trigger that adds the history to ``sales_week`` reads the
week from the number (the same integer: Julian day number // 7). Downgrade does the reverse.
"""

from __future__ import annotations

from alembic import op

from app.migrations.numeric import DAYS, MICROS, Plan, convert

revision = "0025_history_times"
down_revision = "0024b_history_index"
branch_labels = None
depends_on = None

PLAN = Plan(
    table="sales_history",
    columns={"created_at": MICROS, "sale_date": DAYS},
    rewrites=[("(CAST(julianday(NEW.sale_date) + 0.5 AS INTEGER) / 7)", "((NEW.sale_date + 2440588) / 7)")],
    # sale_date is this table's alone; created_at is every table's: watched where it is this table's
    watch=[r"\bsale_date\b", r"ON\s+sales_history\b[\s\S]*\b(NEW|OLD)\.created_at\b"],
    revision=revision,
)


def upgrade() -> None:
    convert(op.get_bind(), [PLAN], numeric=True)


def downgrade() -> None:
    convert(op.get_bind(), [PLAN], numeric=False)
