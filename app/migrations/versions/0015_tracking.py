"""tracking: the carrier event ledger, the branch tracking policy, polling leases (replicated);
lease watches, notices to queue and the poll-cycle log (local); tracking columns on shipments and
notice preferences on customers (issue 15)

Revision ID: 0015_tracking
Revises: 0001

Columns are added with ALTER TABLE ADD COLUMN (NOT NULL with a server default), so ``shipment``
and ``customer`` are not rebuilt and keep their change-capture triggers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture, install_ledger_guard

revision = "0015_tracking"
down_revision = "0001"
branch_labels = None
depends_on = None

REPLICATED = ["tracking_event", "tracking_policy", "tracking_lease"]
LOCAL = ["tracking_cycle", "tracking_lease_watch", "tracking_notice_due"]
DT = app.models.types.UTCDateTime(length=32)

#: (table, column, type, server default or None for a NULL column)
COLUMNS: list[tuple[str, str, Any, str | None]] = [
    ("shipment", "promised_date", sa.Date(), None),
    ("shipment", "eta_date", sa.Date(), None),
    ("shipment", "raw_status", sa.String(40), "''"),
    ("shipment", "status_text", sa.String(300), "''"),
    ("shipment", "last_event_at", DT, None),
    ("shipment", "moved_at", DT, None),
    ("shipment", "polled_at", DT, None),
    ("shipment", "poll_outcome", sa.String(16), "''"),
    ("shipment", "poll_failures", sa.Integer(), "0"),
    ("shipment", "poll_message", sa.String(300), "''"),
    ("shipment", "stopped", sa.String(16), "''"),
    ("shipment", "pod_signed_by", sa.String(80), "''"),
    ("shipment", "pod_at", DT, None),
    ("shipment", "pod_image", sa.String(300), "''"),
    ("shipment", "flag", sa.String(200), "''"),
    ("customer", "notify_email", sa.String(200), "''"),
    ("customer", "notify_events", sa.String(60), "'shipped,eta,delivered,exception'"),
]


def upgrade() -> None:
    op.create_table('tracking_cycle',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('wall_s', sa.Float(), nullable=False),
    sa.Column('cpu_s', sa.Float(), nullable=False),
    sa.Column('shipments', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('new_events', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('notices', sa.Integer(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_tracking_cycle')),
    sqlite_autoincrement=True
    )
    op.create_table('tracking_lease_watch',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('seen_hlc', sa.BigInteger(), nullable=False),
    sa.Column('seen_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('adopted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_tracking_lease_watch'))
    )
    op.create_table('tracking_notice_due',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_tracking_notice_due'))
    )
    op.create_index(op.f('ix_tracking_notice_due_shipment_id'), 'tracking_notice_due', ['shipment_id'], unique=False)
    op.create_table('tracking_policy',
    sa.Column('order_shipped_on_pickup', sa.Boolean(), nullable=False),
    sa.Column('late_eta_exception', sa.Boolean(), nullable=False),
    sa.Column('trouble_cases', sa.Boolean(), nullable=False),
    sa.Column('notice_shipped', sa.Boolean(), nullable=False),
    sa.Column('notice_eta', sa.Boolean(), nullable=False),
    sa.Column('notice_delivered', sa.Boolean(), nullable=False),
    sa.Column('notice_exception', sa.Boolean(), nullable=False),
    sa.Column('stale_days', sa.Integer(), nullable=False),
    sa.Column('label_minutes', sa.Integer(), nullable=False),
    sa.Column('transit_minutes', sa.Integer(), nullable=False),
    sa.Column('out_minutes', sa.Integer(), nullable=False),
    sa.Column('trouble_minutes', sa.Integer(), nullable=False),
    sa.Column('unknown_minutes', sa.Integer(), nullable=False),
    sa.Column('lease_minutes', sa.Integer(), nullable=False),
    sa.Column('templates', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_policy'))
    )
    op.create_index(op.f('ix_tracking_policy_owner_branch_id'), 'tracking_policy', ['owner_branch_id'], unique=False)
    op.create_table('tracking_lease',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('holder_site', sa.String(length=36), nullable=False),
    sa.Column('holder_name', sa.String(length=60), nullable=False),
    sa.Column('claimed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('renewed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['carrier_account.id'], name=op.f('fk_tracking_lease_account_id_carrier_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_lease')),
    sa.UniqueConstraint('account_id', name=op.f('uq_tracking_lease_account_id'))
    )
    op.create_index(op.f('ix_tracking_lease_owner_branch_id'), 'tracking_lease', ['owner_branch_id'], unique=False)
    op.create_table('tracking_event',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('carrier_id', sa.Uuid(), nullable=False),
    sa.Column('tracking_number', sa.String(length=40), nullable=False),
    sa.Column('at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('event_status', sa.String(length=24), nullable=False),
    sa.Column('raw_code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=False),
    sa.Column('eta_date', sa.Date(), nullable=True),
    sa.Column('eta_end', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('pod_signed_by', sa.String(length=80), nullable=False),
    sa.Column('pod_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('pod_image', sa.String(length=300), nullable=False),
    sa.Column('seen_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('notice', sa.String(length=12), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_tracking_event_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_tracking_event_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_event'))
    )
    op.create_index(op.f('ix_tracking_event_owner_branch_id'), 'tracking_event', ['owner_branch_id'], unique=False)
    op.create_index('ix_tracking_event_shipment_at', 'tracking_event', ['shipment_id', 'at'], unique=False)
    # a foreign key on an added column: SQLite accepts REFERENCES in ADD COLUMN when it defaults to NULL
    op.execute("ALTER TABLE shipment ADD COLUMN account_id CHAR(32) REFERENCES carrier_account (id)")
    for table, column, type_, default in COLUMNS:
        if default is None:
            op.add_column(table, sa.Column(column, type_, nullable=True))
        else:
            op.add_column(table, sa.Column(column, type_, nullable=False, server_default=sa.text(default)))
    # what moved last, for stale tracking: shipments already on their way count from their shipping
    op.execute("UPDATE shipment SET moved_at = COALESCE(shipped_at, created_at) WHERE moved_at IS NULL")
    # shipments that ended before tracking existed are not polled
    op.execute("UPDATE shipment SET stopped = status WHERE status IN ('delivered', 'returned', 'cancelled')")
    install_capture(REPLICATED)
    install_ledger_guard(["tracking_event"])


def downgrade() -> None:
    drop_capture(REPLICATED)
    op.execute("DROP TRIGGER IF EXISTS trg_tracking_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS trg_tracking_event_no_delete")
    for table, column, _t, _d in reversed(COLUMNS):
        op.drop_column(table, column)
    op.drop_column("shipment", "account_id")
    for t in ["tracking_event", "tracking_lease", "tracking_policy", *LOCAL]:
        op.drop_table(t)
