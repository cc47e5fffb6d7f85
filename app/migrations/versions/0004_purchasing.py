"""purchasing: approval rules, approval decisions, e-mail outbox

Revision ID: 0004
Revises: 0001

Approval decisions are an insert-only ledger (guarded by triggers). The rule and outbox
tables are replicated; the outbox is a branch document so a branch's other workstations
see what was sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types
from app.migrations.helpers import drop_capture, install_capture, install_ledger_guard

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

REPLICATED = ["approval_rule", "approval_decision", "email_outbox"]


def _versioned() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("updated_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("hlc_site", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(length=32), nullable=True),
    ]


def _replicated() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_branch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "approval_rule",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("amount", app.models.types.Money(), nullable=False),
        sa.Column("percent", app.models.types.Money(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("approver_role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_versioned(),
        *_replicated(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_rule")),
    )
    with op.batch_alter_table("approval_rule", schema=None) as b:
        b.create_index(b.f("ix_approval_rule_owner_branch_id"), ["owner_branch_id"], unique=False)

    op.create_table(
        "approval_decision",
        sa.Column("po_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Uuid(), nullable=False),
        sa.Column("approver_name", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        *_replicated(),
        sa.ForeignKeyConstraint(["po_id"], ["purchase_order.id"], name=op.f("fk_approval_decision_po_id_purchase_order")),
        sa.ForeignKeyConstraint(["approver_id"], ["app_user.id"], name=op.f("fk_approval_decision_approver_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_decision")),
    )
    with op.batch_alter_table("approval_decision", schema=None) as b:
        b.create_index("ix_approval_decision_po_rev", ["po_id", "revision"], unique=False)
        b.create_index(b.f("ix_approval_decision_approver_id"), ["approver_id"], unique=False)
        b.create_index(b.f("ix_approval_decision_owner_branch_id"), ["owner_branch_id"], unique=False)

    op.create_table(
        "email_outbox",
        sa.Column("to_addr", sa.String(length=400), nullable=False),
        sa.Column("cc_addr", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(length=120), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_ref", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("sent_at", app.models.types.UTCDateTime(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        *_versioned(),
        *_replicated(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as b:
        b.create_index(b.f("ix_email_outbox_status"), ["status"], unique=False)
        b.create_index(b.f("ix_email_outbox_owner_branch_id"), ["owner_branch_id"], unique=False)

    install_capture(REPLICATED)
    install_ledger_guard(["approval_decision"])


def downgrade() -> None:
    drop_capture(REPLICATED)
    for t in ("approval_decision", "approval_rule", "email_outbox"):
        for ev in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_{ev}")
    op.drop_table("email_outbox")
    op.drop_table("approval_decision")
    op.drop_table("approval_rule")
