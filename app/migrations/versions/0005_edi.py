"""edi: supplier messages and lines, EDI control counters, the generic exception inbox

Revision ID: 0005
Revises: 0001

All four tables are branch documents (replicated, change capture installed). Foreign keys
point only at foundation (0001) tables: supplier, purchase_order, purchase_order_line,
expected_receipt, item, app_user.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

REPLICATED = ["supplier_message", "supplier_message_line", "edi_counter", "exception_item"]


def upgrade() -> None:
    op.create_table(
        "edi_counter",
        sa.Column("partner_key", sa.String(length=80), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_counter")),
        sa.UniqueConstraint(
            "owner_branch_id", "partner_key", name=op.f("uq_edi_counter_owner_branch_id_partner_key")
        ),
    )
    op.create_index(op.f("ix_edi_counter_owner_branch_id"), "edi_counter", ["owner_branch_id"], unique=False)
    op.create_table(
        "exception_item",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("entity_ref", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("acknowledged_by_id", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["app_user.id"],
            name=op.f("fk_exception_item_acknowledged_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["app_user.id"], name=op.f("fk_exception_item_resolved_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_item")),
    )
    op.create_index(op.f("ix_exception_item_entity_id"), "exception_item", ["entity_id"], unique=False)
    op.create_index(op.f("ix_exception_item_key"), "exception_item", ["key"], unique=False)
    op.create_index(op.f("ix_exception_item_kind"), "exception_item", ["kind"], unique=False)
    op.create_index(
        op.f("ix_exception_item_owner_branch_id"), "exception_item", ["owner_branch_id"], unique=False
    )
    op.create_index(op.f("ix_exception_item_role"), "exception_item", ["role"], unique=False)
    op.create_index(op.f("ix_exception_item_status"), "exception_item", ["status"], unique=False)
    op.create_table(
        "supplier_message",
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("standard", sa.String(length=8), nullable=False),
        sa.Column("msg_type", sa.String(length=8), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("partner_ref", sa.String(length=40), nullable=False),
        sa.Column("interchange_control", sa.String(length=20), nullable=False),
        sa.Column("control_number", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("po_id", sa.Uuid(), nullable=True),
        sa.Column("po_number", sa.String(length=24), nullable=False),
        sa.Column("doc_ref", sa.String(length=40), nullable=False),
        sa.Column("expected_receipt_id", sa.Uuid(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["expected_receipt_id"],
            ["expected_receipt.id"],
            name=op.f("fk_supplier_message_expected_receipt_id_expected_receipt"),
        ),
        sa.ForeignKeyConstraint(
            ["po_id"], ["purchase_order.id"], name=op.f("fk_supplier_message_po_id_purchase_order")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_supplier_message_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_supplier_message_dedupe_key")),
    )
    op.create_index(op.f("ix_supplier_message_msg_type"), "supplier_message", ["msg_type"], unique=False)
    op.create_index(
        op.f("ix_supplier_message_owner_branch_id"), "supplier_message", ["owner_branch_id"], unique=False
    )
    op.create_index(op.f("ix_supplier_message_po_id"), "supplier_message", ["po_id"], unique=False)
    op.create_index(op.f("ix_supplier_message_status"), "supplier_message", ["status"], unique=False)
    op.create_index(
        op.f("ix_supplier_message_supplier_id"), "supplier_message", ["supplier_id"], unique=False
    )
    op.create_table(
        "supplier_message_line",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("po_line_id", sa.Uuid(), nullable=True),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("item_ref", sa.String(length=60), nullable=False),
        sa.Column("qty_ordered", sa.BigInteger(), nullable=True),
        sa.Column("qty_confirmed", sa.BigInteger(), nullable=True),
        sa.Column("price_ordered", app.models.types.Money(), nullable=True),
        sa.Column("price_confirmed", app.models.types.Money(), nullable=True),
        sa.Column("date_ordered", sa.Date(), nullable=True),
        sa.Column("date_confirmed", sa.Date(), nullable=True),
        sa.Column("line_status", sa.String(length=12), nullable=False),
        sa.Column("difference", sa.Text(), nullable=False),
        sa.Column("sscc", sa.String(length=20), nullable=False),
        sa.Column("lot_code", sa.String(length=40), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_supplier_message_line_item_id_item")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["supplier_message.id"],
            name=op.f("fk_supplier_message_line_message_id_supplier_message"),
        ),
        sa.ForeignKeyConstraint(
            ["po_line_id"],
            ["purchase_order_line.id"],
            name=op.f("fk_supplier_message_line_po_line_id_purchase_order_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_message_line")),
    )
    op.create_index(
        op.f("ix_supplier_message_line_message_id"), "supplier_message_line", ["message_id"], unique=False
    )
    op.create_index(
        op.f("ix_supplier_message_line_owner_branch_id"),
        "supplier_message_line",
        ["owner_branch_id"],
        unique=False,
    )
    install_capture(REPLICATED)


def downgrade() -> None:
    drop_capture(REPLICATED)
    for table in ("supplier_message_line", "supplier_message", "exception_item", "edi_counter"):
        op.drop_table(table)
