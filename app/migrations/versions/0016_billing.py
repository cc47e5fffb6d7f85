"""billing: invoices and credit notes with their lines and tax lines, payments, how customers are
billed (bill-to, release on delivery or shipment, tax zone), item tax classes and tax rates
(replicated); print records (replicated, insert-only); print batches and print preferences
(local); a ``ref`` column on the receivables ledger (the payment or credit note that wrote a row)
(issue 16)

Revision ID: 0016_billing
Revises: 0014b_dispatch_ship

``receivable_entry.ref`` is added with ALTER TABLE ADD COLUMN (NOT NULL, default ''), so the
ledger is not rebuilt and keeps its triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture, install_ledger_guard

revision = "0016_billing"
down_revision = "0014b_dispatch_ship"
branch_labels = None
#: it adds a column to ``receivable_entry`` (0012_orders): without this, the order of the heads alone
#: put 0012 first, and a new revision on top of this one ran this before it
depends_on = "0012_orders"

REPLICATED = ["customer_billing", "item_tax_class", "tax_rate", "invoice", "invoice_line", "invoice_tax",
              "payment", "print_record"]
LEDGERS = ["payment", "print_record"]
LOCAL = ["print_batch", "print_preference"]


def upgrade() -> None:
    op.create_table('print_batch',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('refs', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_batch'))
    )
    op.create_table('print_preference',
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('printer', sa.String(length=200), nullable=False),
    sa.Column('tray', sa.String(length=60), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('doc_type', name=op.f('pk_print_preference'))
    )
    op.create_table('print_record',
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('doc_ref', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('reprint', sa.Boolean(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_record'))
    )
    op.create_index(op.f('ix_print_record_batch_id'), 'print_record', ['batch_id'], unique=False)
    op.create_index('ix_print_record_doc', 'print_record', ['doc_type', 'doc_ref'], unique=False)
    op.create_index(op.f('ix_print_record_owner_branch_id'), 'print_record', ['owner_branch_id'], unique=False)
    op.create_table('tax_rate',
    sa.Column('tax_zone', sa.String(length=12), nullable=False),
    sa.Column('tax_class', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rate_pct', app.models.types.Money(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_rate')),
    sa.UniqueConstraint('tax_zone', 'tax_class', name=op.f('uq_tax_rate_tax_zone_tax_class'))
    )
    op.create_index(op.f('ix_tax_rate_owner_branch_id'), 'tax_rate', ['owner_branch_id'], unique=False)
    op.create_table('item_tax_class',
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('tax_class', sa.String(length=12), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_item_tax_class_item_id_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_tax_class')),
    sa.UniqueConstraint('item_id', name=op.f('uq_item_tax_class_item_id'))
    )
    op.create_index(op.f('ix_item_tax_class_owner_branch_id'), 'item_tax_class', ['owner_branch_id'], unique=False)
    op.create_table('customer_billing',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('bill_to', sa.String(length=400), nullable=False),
    sa.Column('invoice_email', sa.String(length=200), nullable=False),
    sa.Column('invoice_on', sa.String(length=10), nullable=False),
    sa.Column('tax_zone', sa.String(length=12), nullable=False),
    sa.Column('tax_id', sa.String(length=40), nullable=False),
    sa.Column('tax_rounding', sa.String(length=8), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_billing_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_billing')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_customer_billing_customer_id'))
    )
    op.create_index(op.f('ix_customer_billing_owner_branch_id'), 'customer_billing', ['owner_branch_id'], unique=False)
    op.create_table('payment',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount', app.models.types.Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('bank_key', sa.String(length=80), nullable=True),
    sa.Column('entered_by', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_payment_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('bank_key', name=op.f('uq_payment_bank_key')),
    sa.UniqueConstraint('number', name=op.f('uq_payment_number'))
    )
    op.create_index(op.f('ix_payment_customer_id'), 'payment', ['customer_id'], unique=False)
    op.create_index(op.f('ix_payment_owner_branch_id'), 'payment', ['owner_branch_id'], unique=False)
    op.create_table('invoice',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('sales_order_id', sa.Uuid(), nullable=True),
    sa.Column('shipment_id', sa.Uuid(), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('terms', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('customer_po', sa.String(length=40), nullable=False),
    sa.Column('bill_to', sa.String(length=400), nullable=False),
    sa.Column('ship_to', sa.String(length=400), nullable=False),
    sa.Column('carrier', sa.String(length=80), nullable=False),
    sa.Column('tracking_number', sa.String(length=40), nullable=False),
    sa.Column('pod_ref', sa.String(length=200), nullable=False),
    sa.Column('invoice_on', sa.String(length=10), nullable=False),
    sa.Column('tax_rounding', sa.String(length=8), nullable=False),
    sa.Column('subtotal', app.models.types.Money(), nullable=False),
    sa.Column('tax_total', app.models.types.Money(), nullable=False),
    sa.Column('total', app.models.types.Money(), nullable=False),
    sa.Column('credits_number', sa.String(length=24), nullable=False),
    sa.Column('credit_request_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('released_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('released_by_id', sa.Uuid(), nullable=True),
    sa.Column('cancelled_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('edi_sent', sa.Boolean(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['credit_request_id'], ['credit_request.id'], name=op.f('fk_invoice_credit_request_id_credit_request')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoice_customer_id_customer')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_invoice_sales_order_id_sales_order')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_invoice_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('credit_request_id', name=op.f('uq_invoice_credit_request_id')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number'))
    )
    op.create_index('ix_invoice_customer_date', 'invoice', ['customer_id', 'invoice_date'], unique=False)
    op.create_index(op.f('ix_invoice_customer_id'), 'invoice', ['customer_id'], unique=False)
    op.create_index(op.f('ix_invoice_owner_branch_id'), 'invoice', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_invoice_sales_order_id'), 'invoice', ['sales_order_id'], unique=False)
    op.create_index(op.f('ix_invoice_shipment_id'), 'invoice', ['shipment_id'], unique=False)
    op.create_index(op.f('ix_invoice_status'), 'invoice', ['status'], unique=False)
    op.create_table('invoice_line',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=True),
    sa.Column('shipment_line_id', sa.Uuid(), nullable=True),
    sa.Column('item_id', sa.Uuid(), nullable=True),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('uom', sa.String(length=8), nullable=False),
    sa.Column('unit_price', app.models.types.Money(), nullable=False),
    sa.Column('extension', app.models.types.Money(), nullable=False),
    sa.Column('tax_class', sa.String(length=12), nullable=False),
    sa.Column('tax_rate_pct', app.models.types.Money(), nullable=False),
    sa.Column('tax_amount', app.models.types.Money(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_invoice_line_item_id_item')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_invoice_line_order_line_id_sales_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
    sa.UniqueConstraint('invoice_id', 'line_no', name=op.f('uq_invoice_line_invoice_id_line_no'))
    )
    op.create_index(op.f('ix_invoice_line_invoice_id'), 'invoice_line', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_invoice_line_order_line_id'), 'invoice_line', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_invoice_line_owner_branch_id'), 'invoice_line', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_invoice_line_shipment_line_id'), 'invoice_line', ['shipment_line_id'], unique=False)
    op.create_table('invoice_tax',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rate_pct', app.models.types.Money(), nullable=False),
    sa.Column('base', app.models.types.Money(), nullable=False),
    sa.Column('amount', app.models.types.Money(), nullable=False),
    sa.Column('rounding_diff', app.models.types.Money(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_tax_invoice_id_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_tax'))
    )
    op.create_index(op.f('ix_invoice_tax_invoice_id'), 'invoice_tax', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_invoice_tax_owner_branch_id'), 'invoice_tax', ['owner_branch_id'], unique=False)
    op.add_column("receivable_entry", sa.Column("ref", sa.String(24), nullable=False, server_default=sa.text("''")))
    install_capture(REPLICATED)
    install_ledger_guard(LEDGERS)


def downgrade() -> None:
    drop_capture(REPLICATED)
    for t in LEDGERS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_delete")
    with op.batch_alter_table("receivable_entry") as b:
        b.drop_column("ref")
    for t in ["invoice_tax", "invoice_line", "invoice", "payment", "customer_billing", "item_tax_class", "tax_rate",
              "print_record", "print_preference", "print_batch"]:
        op.drop_table(t)
