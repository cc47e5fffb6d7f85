"""receiving: posted receipts, receipt lines, quality holds, putaway tasks, serial registry

Revision ID: 0006
Revises: 0001

Only foundation tables (0001) are referenced by foreign keys. Every table here is a
branch document (replicated), so each gets change-capture triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None

REPLICATED = ["receipt", "receipt_line", "quality_hold", "putaway_task", "serial_number"]


def upgrade() -> None:
    op.create_table('receipt',
        sa.Column('number', sa.String(length=24), nullable=False),
        sa.Column('expected_receipt_id', sa.Uuid(), nullable=False),
        sa.Column('po_id', sa.Uuid(), nullable=True),
        sa.Column('supplier_id', sa.Uuid(), nullable=True),
        sa.Column('warehouse_id', sa.Uuid(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('arrived_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('posted_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('stocked_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(['expected_receipt_id'], ['expected_receipt.id'], name=op.f('fk_receipt_expected_receipt_id_expected_receipt')),
        sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_receipt_po_id_purchase_order')),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_receipt_supplier_id_supplier')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_receipt_user_id_app_user')),
        sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_receipt_warehouse_id_warehouse')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt')),
        sa.UniqueConstraint('number', name=op.f('uq_receipt_number'))
    )
    op.create_index(op.f('ix_receipt_expected_receipt_id'), 'receipt', ['expected_receipt_id'], unique=False)
    op.create_index(op.f('ix_receipt_owner_branch_id'), 'receipt', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_receipt_posted_at'), 'receipt', ['posted_at'], unique=False)
    op.create_index(op.f('ix_receipt_warehouse_id'), 'receipt', ['warehouse_id'], unique=False)
    op.create_table('receipt_line',
        sa.Column('receipt_id', sa.Uuid(), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('expected_line_id', sa.Uuid(), nullable=True),
        sa.Column('po_line_id', sa.Uuid(), nullable=True),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=True),
        sa.Column('lot_code', sa.String(length=40), nullable=False),
        sa.Column('expiry_date', sa.Date(), nullable=True),
        sa.Column('serials', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('reason_note', sa.String(length=200), nullable=False),
        sa.Column('hold', sa.Boolean(), nullable=False),
        sa.Column('sscc', sa.String(length=20), nullable=False),
        sa.Column('to_location_id', sa.Uuid(), nullable=False),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.CheckConstraint('qty > 0', name=op.f('ck_receipt_line_qty_positive')),
        sa.ForeignKeyConstraint(['expected_line_id'], ['expected_receipt_line.id'], name=op.f('fk_receipt_line_expected_line_id_expected_receipt_line')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_receipt_line_item_id_item')),
        sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_receipt_line_lot_id_lot')),
        sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_line.id'], name=op.f('fk_receipt_line_po_line_id_purchase_order_line')),
        sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_receipt_line_receipt_id_receipt')),
        sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], name=op.f('fk_receipt_line_to_location_id_location')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_line')),
        sa.UniqueConstraint('receipt_id', 'line_no', name=op.f('uq_receipt_line_receipt_id_line_no'))
    )
    op.create_index(op.f('ix_receipt_line_item_id'), 'receipt_line', ['item_id'], unique=False)
    op.create_index(op.f('ix_receipt_line_owner_branch_id'), 'receipt_line', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_receipt_line_receipt_id'), 'receipt_line', ['receipt_id'], unique=False)
    op.create_table('serial_number',
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('serial', sa.String(length=60), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('location_id', sa.Uuid(), nullable=True),
        sa.Column('lot_id', sa.Uuid(), nullable=True),
        sa.Column('receipt_id', sa.Uuid(), nullable=True),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_serial_number_item_id_item')),
        sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_serial_number_location_id_location')),
        sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_serial_number_lot_id_lot')),
        sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_serial_number_receipt_id_receipt')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_serial_number')),
        sa.UniqueConstraint('item_id', 'serial', name=op.f('uq_serial_number_item_id_serial'))
    )
    op.create_index(op.f('ix_serial_number_owner_branch_id'), 'serial_number', ['owner_branch_id'], unique=False)
    op.create_table('putaway_task',
        sa.Column('warehouse_id', sa.Uuid(), nullable=False),
        sa.Column('receipt_id', sa.Uuid(), nullable=True),
        sa.Column('receipt_line_id', sa.Uuid(), nullable=True),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=True),
        sa.Column('serials', sa.Text(), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
        sa.Column('from_location_id', sa.Uuid(), nullable=False),
        sa.Column('proposed_location_id', sa.Uuid(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('confirmed_location_id', sa.Uuid(), nullable=True),
        sa.Column('confirmed_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('confirmed_by_id', sa.Uuid(), nullable=True),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.CheckConstraint('qty > 0', name=op.f('ck_putaway_task_qty_positive')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['app_user.id'], name=op.f('fk_putaway_task_confirmed_by_id_app_user')),
        sa.ForeignKeyConstraint(['confirmed_location_id'], ['location.id'], name=op.f('fk_putaway_task_confirmed_location_id_location')),
        sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_putaway_task_from_location_id_location')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_putaway_task_item_id_item')),
        sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_putaway_task_lot_id_lot')),
        sa.ForeignKeyConstraint(['proposed_location_id'], ['location.id'], name=op.f('fk_putaway_task_proposed_location_id_location')),
        sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_putaway_task_receipt_id_receipt')),
        sa.ForeignKeyConstraint(['receipt_line_id'], ['receipt_line.id'], name=op.f('fk_putaway_task_receipt_line_id_receipt_line')),
        sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_putaway_task_warehouse_id_warehouse')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_putaway_task'))
    )
    op.create_index(op.f('ix_putaway_task_owner_branch_id'), 'putaway_task', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_putaway_task_receipt_id'), 'putaway_task', ['receipt_id'], unique=False)
    op.create_index('ix_putaway_task_wh_status', 'putaway_task', ['warehouse_id', 'status'], unique=False)
    op.create_table('quality_hold',
        sa.Column('receipt_id', sa.Uuid(), nullable=False),
        sa.Column('receipt_line_id', sa.Uuid(), nullable=False),
        sa.Column('warehouse_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=True),
        sa.Column('serials', sa.Text(), nullable=False),
        sa.Column('qty', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by_id', sa.Uuid(), nullable=True),
        sa.Column('decided_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('decision_note', sa.String(length=200), nullable=False),
        sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('hlc_site', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_quality_hold_decided_by_id_app_user')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_quality_hold_item_id_item')),
        sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_quality_hold_lot_id_lot')),
        sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_quality_hold_receipt_id_receipt')),
        sa.ForeignKeyConstraint(['receipt_line_id'], ['receipt_line.id'], name=op.f('fk_quality_hold_receipt_line_id_receipt_line')),
        sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_quality_hold_warehouse_id_warehouse')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_hold'))
    )
    op.create_index(op.f('ix_quality_hold_owner_branch_id'), 'quality_hold', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_quality_hold_receipt_id'), 'quality_hold', ['receipt_id'], unique=False)
    op.create_index(op.f('ix_quality_hold_status'), 'quality_hold', ['status'], unique=False)
    op.create_index(op.f('ix_quality_hold_warehouse_id'), 'quality_hold', ['warehouse_id'], unique=False)
    install_capture(REPLICATED)


def downgrade() -> None:
    drop_capture(REPLICATED)
    op.drop_index(op.f('ix_quality_hold_warehouse_id'), table_name='quality_hold')
    op.drop_index(op.f('ix_quality_hold_status'), table_name='quality_hold')
    op.drop_index(op.f('ix_quality_hold_receipt_id'), table_name='quality_hold')
    op.drop_index(op.f('ix_quality_hold_owner_branch_id'), table_name='quality_hold')
    op.drop_table('quality_hold')
    op.drop_index('ix_putaway_task_wh_status', table_name='putaway_task')
    op.drop_index(op.f('ix_putaway_task_receipt_id'), table_name='putaway_task')
    op.drop_index(op.f('ix_putaway_task_owner_branch_id'), table_name='putaway_task')
    op.drop_table('putaway_task')
    op.drop_index(op.f('ix_serial_number_owner_branch_id'), table_name='serial_number')
    op.drop_table('serial_number')
    op.drop_index(op.f('ix_receipt_line_receipt_id'), table_name='receipt_line')
    op.drop_index(op.f('ix_receipt_line_owner_branch_id'), table_name='receipt_line')
    op.drop_index(op.f('ix_receipt_line_item_id'), table_name='receipt_line')
    op.drop_table('receipt_line')
    op.drop_index(op.f('ix_receipt_warehouse_id'), table_name='receipt')
    op.drop_index(op.f('ix_receipt_posted_at'), table_name='receipt')
    op.drop_index(op.f('ix_receipt_owner_branch_id'), table_name='receipt')
    op.drop_index(op.f('ix_receipt_expected_receipt_id'), table_name='receipt')
    op.drop_table('receipt')
