"""carriers: branch carrier accounts (replicated) and the rate limiter's state (local)

Revision ID: 0010_carriers
Revises: 0001

``carrier_account`` is a branch document (change capture installed); ``carrier_limit_state`` is
local-only (each workstation paces its own calls). Secrets are in the OS keyring, not here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0010_carriers"
down_revision = "0001"
branch_labels = None
depends_on = None

REPLICATED = ["carrier_account"]


def upgrade() -> None:
    op.create_table('carrier_account',
        sa.Column('carrier_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('account_number', sa.String(length=40), nullable=False),
        sa.Column('client_id', sa.String(length=120), nullable=False),
        sa.Column('endpoint', sa.String(length=200), nullable=False),
        sa.Column('services', sa.Text(), nullable=False),
        sa.Column('requests_per_minute', sa.Integer(), nullable=False),
        sa.Column('daily_quota', sa.Integer(), nullable=False),
        sa.Column('options', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_carrier_account_carrier_id_carrier')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_account'))
    )
    op.create_index(op.f('ix_carrier_account_carrier_id'), 'carrier_account', ['carrier_id'], unique=False)
    op.create_index(op.f('ix_carrier_account_owner_branch_id'), 'carrier_account', ['owner_branch_id'], unique=False)
    op.create_table('carrier_limit_state',
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('updated', sa.Float(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('used_today', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_carrier_limit_state'))
    )
    install_capture(REPLICATED)


def downgrade() -> None:
    drop_capture(REPLICATED)
    op.drop_table('carrier_limit_state')
    op.drop_index(op.f('ix_carrier_account_owner_branch_id'), table_name='carrier_account')
    op.drop_index(op.f('ix_carrier_account_carrier_id'), table_name='carrier_account')
    op.drop_table('carrier_account')
