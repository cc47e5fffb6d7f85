"""orders and allocation: price lists, receivables, credit releases, the allocation ledger, its runs
and policies, customer EDI messages; credit, EDI and shipping columns on customers; entry, promise and
credit columns on sales orders and lines (issue 12)

Revision ID: 0012_orders
Revises: 0001

Item search (SQLite FTS5 over code, GTIN and description words) is not a migration: it is a local
index kept by sqlite-utils' triggers, set up after every upgrade (``app.services.sales.search``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture, install_ledger_guard

revision = "0012_orders"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["allocation_policy", "allocation_run", "price_list", "receivable_entry", "credit_release",
          "customer_message", "price_list_line", "allocation"]
LEDGERS = ["allocation_run", "receivable_entry", "credit_release", "allocation"]

#: (table, column, type, server default) added to existing tables; NOT NULL with a default
#: (ALTER TABLE ADD COLUMN: no table rebuild, so the tables keep their capture triggers)
COLUMNS = [
    ("customer", "price_group", sa.String(20), "''"),
    ("customer", "ship_complete", sa.Boolean(), "0"),
    ("customer", "credit_hold", sa.Boolean(), "0"),
    ("customer", "credit_note", sa.String(200), "''"),
    ("customer", "overdue_days", sa.Integer(), None),
    ("customer", "edi_qualifier", sa.String(2), "''"),
    ("customer", "edi_id", sa.String(35), "''"),
    ("customer", "edi_format", sa.String(8), "''"),
    ("sales_order", "source", sa.String(8), "'entry'"),
    ("sales_order", "ship_complete", sa.Boolean(), "0"),
    ("sales_order", "promised_date", sa.Date(), None),
    ("sales_order", "credit_reason", sa.String(300), "''"),
    ("sales_order", "credit_held_at", app.models.types.UTCDateTime(length=32), None),
    ("sales_order", "credit_released_at", app.models.types.UTCDateTime(length=32), None),
    ("sales_order", "credit_released_by", sa.String(40), "''"),
    ("sales_order", "entered_by", sa.String(40), "''"),
    ("sales_order", "cancel_reason", sa.String(200), "''"),
    ("sales_order_line", "uom", sa.String(8), "''"),
    ("sales_order_line", "uom_factor", sa.Integer(), "1"),
    ("sales_order_line", "price_source", sa.String(60), "''"),
    ("sales_order_line", "promised_date", sa.Date(), None),
    ("sales_order_line", "promise", sa.String(60), "''"),
    ("sales_order_line", "customer_line", sa.String(20), "''"),
    ("sales_order_line", "cancel_reason", sa.String(200), "''"),
]


def upgrade() -> None:
    op.create_table('allocation_policy',
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('keys', sa.String(length=200), nullable=False),
    sa.Column('rerank', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_allocation_policy_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_policy')),
    sa.UniqueConstraint('warehouse_id', name=op.f('uq_allocation_policy_warehouse_id'))
    )
    op.create_index('ix_allocation_policy_owner_branch_id', 'allocation_policy', ['owner_branch_id'], unique=False)

    op.create_table('allocation_run',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('warehouse_id', sa.Uuid(), nullable=True),
    sa.Column('policy', sa.Text(), nullable=False),
    sa.Column('trigger', sa.String(length=120), nullable=False),
    sa.Column('started_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('finished_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('lines_considered', sa.Integer(), nullable=False),
    sa.Column('lines_changed', sa.Integer(), nullable=False),
    sa.Column('lines_failed', sa.Integer(), nullable=False),
    sa.Column('units_allocated', sa.BigInteger(), nullable=False),
    sa.Column('units_released', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_allocation_run_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_run')),
    sa.UniqueConstraint('number', name=op.f('uq_allocation_run_number'))
    )
    op.create_index('ix_allocation_run_owner_branch_id', 'allocation_run', ['owner_branch_id'], unique=False)

    op.create_table('price_list',
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('customer_group', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_price_list_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list')),
    sa.UniqueConstraint('code', name=op.f('uq_price_list_code'))
    )
    op.create_index('ix_price_list_customer_group', 'price_list', ['customer_group'], unique=False)
    op.create_index('ix_price_list_customer_id', 'price_list', ['customer_id'], unique=False)
    op.create_index('ix_price_list_owner_branch_id', 'price_list', ['owner_branch_id'], unique=False)

    op.create_table('receivable_entry',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('doc_number', sa.String(length=40), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('amount', app.models.types.Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('sales_order_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_receivable_entry_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receivable_entry'))
    )
    op.create_index('ix_receivable_entry_customer_doc', 'receivable_entry', ['customer_id', 'doc_number'], unique=False)
    op.create_index('ix_receivable_entry_owner_branch_id', 'receivable_entry', ['owner_branch_id'], unique=False)

    op.create_table('credit_release',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_branch_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('hold_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('decided_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['order_branch_id'], ['branch.id'], name=op.f('fk_credit_release_order_branch_id_branch')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_credit_release_order_id_sales_order')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_credit_release_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_release'))
    )
    op.create_index('ix_credit_release_order_id', 'credit_release', ['order_id'], unique=False)
    op.create_index('ix_credit_release_owner_branch_id', 'credit_release', ['owner_branch_id'], unique=False)

    op.create_table('customer_message',
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('standard', sa.String(length=8), nullable=False),
    sa.Column('msg_type', sa.String(length=8), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('partner_ref', sa.String(length=40), nullable=False),
    sa.Column('interchange_control', sa.String(length=20), nullable=False),
    sa.Column('control_number', sa.String(length=20), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('customer_po', sa.String(length=40), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_message_customer_id_customer')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_customer_message_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_customer_message_dedupe_key'))
    )
    op.create_index('ix_customer_message_customer_id', 'customer_message', ['customer_id'], unique=False)
    op.create_index('ix_customer_message_msg_type', 'customer_message', ['msg_type'], unique=False)
    op.create_index('ix_customer_message_order_id', 'customer_message', ['order_id'], unique=False)
    op.create_index('ix_customer_message_owner_branch_id', 'customer_message', ['owner_branch_id'], unique=False)

    op.create_table('price_list_line',
    sa.Column('price_list_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('min_qty', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', app.models.types.Money(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('min_qty >= 1', name=op.f('ck_price_list_line_min_qty_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_price_list_line_price_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_price_list_line_item_id_item')),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_list.id'], name=op.f('fk_price_list_line_price_list_id_price_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_line')),
    sa.UniqueConstraint('price_list_id', 'item_id', 'min_qty', name=op.f('uq_price_list_line_price_list_id_item_id_min_qty'))
    )
    op.create_index('ix_price_list_line_item_id', 'price_list_line', ['item_id'], unique=False)
    op.create_index('ix_price_list_line_owner_branch_id', 'price_list_line', ['owner_branch_id'], unique=False)
    op.create_index('ix_price_list_line_price_list_id', 'price_list_line', ['price_list_id'], unique=False)

    op.create_table('allocation',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty <> 0', name=op.f('ck_allocation_qty_not_zero')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_allocation_lot_id_lot')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_allocation_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['run_id'], ['allocation_run.id'], name=op.f('fk_allocation_run_id_allocation_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation'))
    )
    op.create_index('ix_allocation_order_line_id', 'allocation', ['order_line_id'], unique=False)
    op.create_index('ix_allocation_owner_branch_id', 'allocation', ['owner_branch_id'], unique=False)
    op.create_index('ix_allocation_run_id', 'allocation', ['run_id'], unique=False)
    op.create_index('ix_allocation_wh_item', 'allocation', ['warehouse_id', 'item_id'], unique=False)

    for table, column, type_, default in COLUMNS:
        if default is None:
            op.add_column(table, sa.Column(column, type_, nullable=True))
        else:
            op.add_column(table, sa.Column(column, type_, nullable=False, server_default=sa.text(default)))
    op.create_index("ix_customer_edi_id", "customer", ["edi_id"], unique=False)
    op.create_index("ix_sales_order_warehouse_status", "sales_order", ["warehouse_id", "status"], unique=False)
    op.create_index("ix_expected_receipt_line_item_id", "expected_receipt_line", ["item_id"], unique=False)
    install_capture(TABLES)
    install_ledger_guard(LEDGERS)


def downgrade() -> None:
    drop_capture(TABLES)
    for t in LEDGERS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_delete")
    op.drop_index("ix_expected_receipt_line_item_id", "expected_receipt_line")
    op.drop_index("ix_sales_order_warehouse_status", "sales_order")
    op.drop_index("ix_customer_edi_id", "customer")
    for table, column, _t, _d in reversed(COLUMNS):
        op.drop_column(table, column)
    for t in reversed(TABLES):
        op.drop_table(t)
