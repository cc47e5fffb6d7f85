"""dispatch (picking): waves, pick lines, carrier cut-offs and dispatch settings per warehouse
(replicated branch documents); the carrier an order ships with; a packing location per warehouse
(issue 14, items 1-3)

Revision ID: 0014_dispatch_pick
Revises: 0012_orders

``sales_order.carrier_id`` is added with ALTER TABLE ADD COLUMN (NULL default), so the table is not
rebuilt and keeps its change-capture triggers. Every existing warehouse gets its packing location
(kind ``pack``, code PACK) with the id ``pack_location_id`` derives from the warehouse: each site
makes the same row, so it is written with capture off (it is never pushed, it is everywhere).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture
from app.models.org import pack_location_id

revision = "0014_dispatch_pick"
down_revision = "0012_orders"
branch_labels = None
depends_on = None

REPLICATED = ["wave", "pick_line", "carrier_cutoff", "dispatch_setting"]


def upgrade() -> None:
    op.create_table('carrier_cutoff',
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('carrier_id', sa.Uuid(), nullable=False),
    sa.Column('cutoff', sa.String(length=5), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_carrier_cutoff_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_carrier_cutoff_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_cutoff')),
    sa.UniqueConstraint('warehouse_id', 'carrier_id', name=op.f('uq_carrier_cutoff_warehouse_id_carrier_id'))
    )
    op.create_index(op.f('ix_carrier_cutoff_owner_branch_id'), 'carrier_cutoff', ['owner_branch_id'], unique=False)
    op.create_table('dispatch_setting',
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('pick_rate', sa.Integer(), nullable=False),
    sa.Column('pickers', sa.Integer(), nullable=False),
    sa.Column('totes_per_cart', sa.Integer(), nullable=False),
    sa.Column('wave_max_lines', sa.Integer(), nullable=False),
    sa.Column('pack_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_dispatch_setting_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_setting')),
    sa.UniqueConstraint('warehouse_id', name=op.f('uq_dispatch_setting_warehouse_id'))
    )
    op.create_index(op.f('ix_dispatch_setting_owner_branch_id'), 'dispatch_setting', ['owner_branch_id'], unique=False)
    op.create_table('wave',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('warehouse_id', sa.Uuid(), nullable=False),
    sa.Column('carrier_id', sa.Uuid(), nullable=True),
    sa.Column('cutoff_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('pick_mode', sa.String(length=8), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('pick_minutes', sa.Integer(), nullable=False),
    sa.Column('done_by', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('walk_m', sa.Integer(), nullable=False),
    sa.Column('walk_line_order_m', sa.Integer(), nullable=False),
    sa.Column('planned_by', sa.String(length=40), nullable=False),
    sa.Column('released_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('released_by_id', sa.Uuid(), nullable=True),
    sa.Column('picked_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_wave_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_wave_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave')),
    sa.UniqueConstraint('number', name=op.f('uq_wave_number'))
    )
    op.create_index(op.f('ix_wave_owner_branch_id'), 'wave', ['owner_branch_id'], unique=False)
    op.create_index(op.f('ix_wave_status'), 'wave', ['status'], unique=False)
    op.create_index('ix_wave_warehouse_status', 'wave', ['warehouse_id', 'status'], unique=False)
    op.create_table('pick_line',
    sa.Column('wave_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('from_location_id', sa.Uuid(), nullable=False),
    sa.Column('tote', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('qty_picked', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('short_reason', sa.String(length=200), nullable=False),
    sa.Column('picked_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('picked_by_id', sa.Uuid(), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('hlc_site', sa.String(length=36), nullable=False),
    sa.Column('deleted_at', app.models.types.UTCDateTime(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_branch_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(length=32), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_pick_line_qty_positive')),
    sa.CheckConstraint('qty_picked >= 0 AND qty_picked <= qty', name=op.f('ck_pick_line_picked_within')),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_pick_line_from_location_id_location')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_pick_line_item_id_item')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_pick_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_pick_line_order_id_sales_order')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_pick_line_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_pick_line_wave_id_wave')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_line'))
    )
    op.create_index(op.f('ix_pick_line_order_id'), 'pick_line', ['order_id'], unique=False)
    op.create_index(op.f('ix_pick_line_order_line_id'), 'pick_line', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_pick_line_owner_branch_id'), 'pick_line', ['owner_branch_id'], unique=False)
    op.create_index('ix_pick_line_wave_seq', 'pick_line', ['wave_id', 'seq'], unique=False)
    # a foreign key on an added column: SQLite accepts REFERENCES in ADD COLUMN when it defaults to NULL
    op.execute("ALTER TABLE sales_order ADD COLUMN carrier_id CHAR(32) REFERENCES carrier (id)")
    install_capture(REPLICATED)
    _pack_locations()


def _pack_locations() -> None:
    """A PACK location for every warehouse that has none (capture off: every site makes the same row)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT w.id, w.owner_branch_id FROM warehouse w WHERE NOT EXISTS (SELECT 1 FROM location l "
        "WHERE l.warehouse_id = w.id AND l.kind = 'pack')")).fetchall()
    if not rows:
        return
    capture = conn.execute(sa.text("SELECT enabled FROM sync_capture WHERE id = 1")).scalar()
    conn.execute(sa.text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
    now = app.models.types.iso_utc(app.models.types.utcnow())
    for wid, owner in rows:
        loc_id = pack_location_id(uuid.UUID(str(wid)))
        conn.execute(sa.text(
            "INSERT INTO location (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, deleted_at, "
            "warehouse_id, zone_id, code, kind, role, capacity_volume_cm3, capacity_weight_g, temperature_class, "
            "hazmat_class, walk_seq, fixed_item_id, min_qty, max_qty, active) VALUES (:id, :owner, :now, :now, 0, '', "
            "NULL, :wid, NULL, 'PACK', 'pack', '', 0, 0, 'ambient', '', 0, NULL, 0, 0, 1)"),
            {"id": loc_id.hex, "owner": str(owner), "now": now, "wid": str(wid)})
    if capture is not None:
        conn.execute(sa.text("UPDATE sync_capture SET enabled = :e WHERE id = 1"), {"e": capture})


def downgrade() -> None:
    drop_capture(REPLICATED)
    op.execute("DELETE FROM location WHERE kind = 'pack'")
    op.drop_column("sales_order", "carrier_id")
    for t in ["pick_line", "wave", "dispatch_setting", "carrier_cutoff"]:
        op.drop_table(t)
