"""poll schedule: a shipment update that changes only its poll schedule is not captured

Revision ID: 0028_poll_schedule
Revises: 0027_replicated_times

Every poll wrote every polled shipment (``polled_at``, ``next_poll_at``, ``poll_outcome``,
``poll_failures``, ``poll_message``) with a new HLC, so each poll of each shipment was a row in the
sync outbox even when the carrier said nothing new or could not be reached: a demo file never
connected grew by 42 rows a cycle, a branch sent its polling workstation's schedule to head office
all day. These columns are now the polling site's bookkeeping (``Shipment.__local_columns__``):
the tracking services write them without a new version, and the capture trigger records an update
only when another column changed. The columns compared are the table's own at this revision (less
those five); tests/services/test_poll_schedule.py fails when a later column is not compared.
Downgrade restores the trigger that records every update.
"""

from __future__ import annotations

from alembic import op

from app.models.sync import capture_trigger_sql

revision = "0028_poll_schedule"
down_revision = "0027_replicated_times"
branch_labels = None
depends_on = None

TABLE = "shipment"
LOCAL = ("polled_at", "next_poll_at", "poll_outcome", "poll_failures", "poll_message")


def _recreate(compared: list[str]) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_cap_u")
    update = next(sql for sql in capture_trigger_sql(TABLE, compared) if f"trg_{TABLE}_cap_u " in sql)
    op.execute(update)


def upgrade() -> None:
    columns = [str(r[1]) for r in op.get_bind().exec_driver_sql(f"PRAGMA table_info({TABLE})")]
    _recreate([c for c in columns if c not in LOCAL])


def downgrade() -> None:
    _recreate([])
