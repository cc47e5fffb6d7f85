"""dispatch, shipping half (issue 14): carton types (master data), cartons and what is packed in
them, shipment lines written at ship confirmation, labels bought, end-of-day manifests
(replicated); freight, service, label and manifest columns on shipments; a carrier's parcel limit

Revision ID: 0014b_dispatch_ship
Revises: 0015_tracking

Columns are added with ALTER TABLE ADD COLUMN (NOT NULL with a server default), so ``shipment``
and ``carrier`` are not rebuilt and keep their change-capture triggers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0014b_dispatch_ship"
down_revision = "0015_tracking"
branch_labels = None
depends_on = None

REPLICATED = ["carton_type", "manifest", "carton", "shipment_label", "shipment_line", "carton_line"]
MONEY = app.models.types.Money()

#: (table, column, type, server default or None for a NULL column)
COLUMNS: list[tuple[str, str, Any, str | None]] = [
    ("shipment", "service_code", sa.String(20), "''"),
    ("shipment", "override_reason", sa.String(200), "''"),
    ("shipment", "freight_quoted", MONEY, None),
    ("shipment", "freight_billed", MONEY, None),
    ("shipment", "freight_currency", sa.String(3), "'USD'"),
    ("shipment", "quotes", sa.Text(), "''"),
    ("shipment", "label_id", sa.Uuid(), None),
    ("shipment", "label_number", sa.String(40), "''"),
    ("carrier", "max_parcel_g", sa.Integer(), "0"),
]


def upgrade() -> None:
    op.create_table('carton_type',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('max_weight_g', sa.Integer(), nullable=False),
    sa.Column('tare_g', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carton_type')),
    sa.UniqueConstraint('code', name=op.f('uq_carton_type_code'))
    )
    op.create_index(op.f('ix_carton_type_owner_branch_id'), 'carton_type', ['owner_branch_id'], unique=False)
    op.create_table('manifest',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('carrier_id', sa.Uuid(), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('shipments', sa.Integer(), nullable=False),
    sa.Column('cartons', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.BigInteger(), nullable=False),
    sa.Column('close_ref', sa.String(length=120), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_manifest_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_manifest_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest')),
    sa.UniqueConstraint('number', name=op.f('uq_manifest_number'))
    )
    op.create_index(op.f('ix_manifest_owner_branch_id'), 'manifest', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_manifest_ship_date'), 'manifest', ['ship_date'], unique=False)
    op.create_table('carton',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('carton_type_id', sa.Uuid(), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('weight_g >= 0', name=op.f('ck_carton_weight_not_negative')),
    sa.ForeignKeyConstraint(['carton_type_id'], ['carton_type.id'], name=op.f('fk_carton_carton_type_id_carton_type')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_carton_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carton')),
    sa.UniqueConstraint('sscc', name=op.f('uq_carton_sscc'))
    )
    op.create_index(op.f('ix_carton_owner_branch_id'), 'carton', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_carton_shipment_id'), 'carton', ['shipment_id'], unique=False)
    op.create_index(op.f('ix_carton_status'), 'carton', ['status'], unique=False)
    op.create_table('shipment_label',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('tracking_number', sa.String(length=40), nullable=False),
    sa.Column('service_code', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=4), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('amount', app.models.types.Money(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('carrier_ref', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('voided_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['carrier_account.id'], name=op.f('fk_shipment_label_account_id_carrier_account')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_label_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_label'))
    )
    op.create_index(op.f('ix_shipment_label_owner_branch_id'), 'shipment_label', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_shipment_label_shipment_id'), 'shipment_label', ['shipment_id'], unique=False)
    op.create_index(op.f('ix_shipment_label_tracking_number'), 'shipment_label', ['tracking_number'], unique=False)
    op.create_table('shipment_line',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', app.models.types.Money(), nullable=False),
    sa.Column('serials', sa.Text(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_shipment_line_qty_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_shipment_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_shipment_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_shipment_line_order_id_sales_order')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_shipment_line_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_line_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_line'))
    )
    op.create_index(op.f('ix_shipment_line_order_id'), 'shipment_line', ['order_id'], unique=False)
    op.create_index(op.f('ix_shipment_line_order_line_id'), 'shipment_line', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_shipment_line_owner_branch_id'), 'shipment_line', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_shipment_line_shipment_id'), 'shipment_line', ['shipment_id'], unique=False)
    op.create_table('carton_line',
    sa.Column('carton_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('serial_no', sa.String(length=60), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_carton_line_qty_positive')),
    sa.ForeignKeyConstraint(['carton_id'], ['carton.id'], name=op.f('fk_carton_line_carton_id_carton')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_carton_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_carton_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_carton_line_order_line_id_sales_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carton_line'))
    )
    op.create_index(op.f('ix_carton_line_carton_id'), 'carton_line', ['carton_id'], unique=False)
    op.create_index(op.f('ix_carton_line_order_line_id'), 'carton_line', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_carton_line_owner_branch_id'), 'carton_line', ['owner_branch_id'], unique=False)
    # a foreign key on an added column: SQLite accepts REFERENCES in ADD COLUMN when it defaults to NULL
    op.execute("ALTER TABLE shipment ADD COLUMN manifest_id CHAR(32) REFERENCES manifest (id)")
    for table, column, type_, default in COLUMNS:
        if default is None:
            op.add_column(table, sa.Column(column, type_, nullable=True))
        else:
            op.add_column(table, sa.Column(column, type_, nullable=False, server_default=sa.text(default)))
    install_capture(REPLICATED)


def downgrade() -> None:
    drop_capture(REPLICATED)
    for table, column, _t, _d in reversed(COLUMNS):
        op.drop_column(table, column)
    op.drop_column("shipment", "manifest_id")
    for t in reversed(REPLICATED):
        op.drop_table(t)
