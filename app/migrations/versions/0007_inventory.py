"""inventory: cycle counts, transfers, returns (RMA) and credit requests, replenishment tasks

Revision ID: 0007
Revises: 0001

Cross-area links (a transfer's requisitions) are plain columns, not foreign keys, so this
revision depends on the foundation only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = [
    "count_task",
    "count_line",
    "transfer_order",
    "transfer_line",
    "rma",
    "rma_line",
    "credit_request",
    "replenish_task",
]


def upgrade() -> None:
    op.create_table('rma',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('sales_order_id', sa.Uuid(), nullable=True),
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('received_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('closed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_rma_customer_id_customer')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_rma_sales_order_id_sales_order')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_rma_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma')),
    sa.UniqueConstraint('number', name=op.f('uq_rma_number'))
    )
    with op.batch_alter_table('rma', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rma_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rma_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rma_status'), ['status'], unique=False)

    op.create_table('count_task',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=False),
    sa.Column('scheduled_for', sa.Date(), nullable=False),
    sa.Column('tolerance_pct', app.models.types.Money(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('started_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('counted_by_id', sa.Uuid(), nullable=True),
    sa.Column('recounted_by_id', sa.Uuid(), nullable=True),
    sa.Column('approved_by_id', sa.Uuid(), nullable=True),
    sa.Column('posted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_count_task_location_id_location')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_count_task_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_task')),
    sa.UniqueConstraint('number', name=op.f('uq_count_task_number'))
    )
    with op.batch_alter_table('count_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_task_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_count_task_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_count_task_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_count_task_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('credit_request',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('rma_id', sa.Uuid(), nullable=False),
    sa.Column('sales_order_id', sa.Uuid(), nullable=True),
    sa.Column('amount', app.models.types.Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_credit_request_customer_id_customer')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_credit_request_rma_id_rma')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_credit_request_sales_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_request')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_request_number')),
    sa.UniqueConstraint('rma_id', name=op.f('uq_credit_request_rma_id'))
    )
    with op.batch_alter_table('credit_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_request_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_request_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_request_status'), ['status'], unique=False)

    op.create_table('replenish_task',
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('pick_location_id', sa.Uuid(), nullable=False),
    sa.Column('from_location_id', sa.Uuid(), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('qty_moved', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('confirmed_by_id', sa.Uuid(), nullable=True),
    sa.Column('confirmed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_replenish_task_qty_positive')),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_replenish_task_from_location_id_location')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_replenish_task_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_replenish_task_lot_id_lot')),
    sa.ForeignKeyConstraint(['pick_location_id'], ['location.id'], name=op.f('fk_replenish_task_pick_location_id_location')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_replenish_task_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replenish_task'))
    )
    with op.batch_alter_table('replenish_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replenish_task_from_location_id'), ['from_location_id'], unique=False)
        batch_op.create_index('ix_replenish_task_open', ['status', 'pick_location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_replenish_task_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_replenish_task_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('rma_line',
    sa.Column('rma_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('serial_no', sa.String(length=60), nullable=True),
    sa.Column('qty_authorised', sa.BigInteger(), nullable=False),
    sa.Column('qty_received', sa.BigInteger(), nullable=False),
    sa.Column('unit_credit', app.models.types.Money(), nullable=False),
    sa.Column('inspection_result', sa.String(length=16), nullable=False),
    sa.Column('inspection_note', sa.String(length=200), nullable=False),
    sa.Column('disposition', sa.String(length=8), nullable=False),
    sa.Column('qty_restocked', sa.BigInteger(), nullable=False),
    sa.Column('qty_scrapped', sa.BigInteger(), nullable=False),
    sa.Column('qty_rtv', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty_authorised > 0', name=op.f('ck_rma_line_qty_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_rma_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_rma_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_rma_line_rma_id_rma')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_line')),
    sa.UniqueConstraint('rma_id', 'line_no', name=op.f('uq_rma_line_rma_id_line_no'))
    )
    with op.batch_alter_table('rma_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rma_line_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rma_line_rma_id'), ['rma_id'], unique=False)

    op.create_table('transfer_order',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('from_warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('to_warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requisition_ids', sa.Text(), nullable=False),
    sa.Column('expected_receipt_id', sa.Uuid(), nullable=True),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('shipped_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('received_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('from_warehouse_id <> to_warehouse_id', name=op.f('ck_transfer_order_two_warehouses')),
    sa.ForeignKeyConstraint(['expected_receipt_id'], ['expected_receipt.id'], name=op.f('fk_transfer_order_expected_receipt_id_expected_receipt')),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouse.id'], name=op.f('fk_transfer_order_from_warehouse_id_warehouse')),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouse.id'], name=op.f('fk_transfer_order_to_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_order')),
    sa.UniqueConstraint('number', name=op.f('uq_transfer_order_number'))
    )
    with op.batch_alter_table('transfer_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_order_from_warehouse_id'), ['from_warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_order_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_order_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_order_to_warehouse_id'), ['to_warehouse_id'], unique=False)

    op.create_table('count_line',
    sa.Column('task_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('lot_key', sa.String(length=32), nullable=False),
    sa.Column('expected_qty', sa.BigInteger(), nullable=False),
    sa.Column('counted_qty', sa.BigInteger(), nullable=True),
    sa.Column('recount_qty', sa.BigInteger(), nullable=True),
    sa.Column('variance', sa.BigInteger(), nullable=False),
    sa.Column('adjusted_qty', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_count_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_count_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['task_id'], ['count_task.id'], name=op.f('fk_count_line_task_id_count_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_line')),
    sa.UniqueConstraint('task_id', 'item_id', 'lot_key', name=op.f('uq_count_line_task_id_item_id_lot_key'))
    )
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_line_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_count_line_task_id'), ['task_id'], unique=False)

    op.create_table('transfer_line',
    sa.Column('transfer_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('serial_no', sa.String(length=60), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('from_location_id', sa.Uuid(), nullable=True),
    sa.Column('qty_shipped', sa.BigInteger(), nullable=False),
    sa.Column('qty_received', sa.BigInteger(), nullable=False),
    sa.Column('qty_short', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_transfer_line_qty_positive')),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_transfer_line_from_location_id_location')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_transfer_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_transfer_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer_order.id'], name=op.f('fk_transfer_line_transfer_id_transfer_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_line')),
    sa.UniqueConstraint('transfer_id', 'line_no', name=op.f('uq_transfer_line_transfer_id_line_no'))
    )
    with op.batch_alter_table('transfer_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_line_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_line_owner_branch_id'), ['owner_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_line_transfer_id'), ['transfer_id'], unique=False)

    install_capture(TABLES)


def downgrade() -> None:
    drop_capture(TABLES)
    for t in reversed(["rma", "count_task", "credit_request", "replenish_task", "rma_line",
                       "transfer_order", "count_line", "transfer_line"]):
        op.drop_table(t)
