"""replicated times: every replicated row's created_at, updated_at and deleted_at as microseconds (issue 19)

Revision ID: 0027_replicated_times
Revises: 0026_kpi_times

Every replicated table carries ``created_at`` (and the versioned ones ``updated_at`` and ``deleted_at``)
as 33 bytes of ISO text; the stock ledger's and the sales history's ``created_at`` became microseconds
in 0023 and 0025. This does the same for the other 80 tables (70 versioned, 10 ledgers): an
INTEGER of microseconds since 1970-01-01 UTC (9 bytes), with a CHECK that refuses text, as
``app.models.stamps.UTCMicros`` stores them (~60 MB of the large data set: purchase order lines,
locations, sister figures, shipments, units of measure, ...). The server and the replication wire
keep the ISO text. Each table is rebuilt (``app.migrations.numeric``). No trigger reads these
columns; one that does stops the migration (it would answer wrong with numbers). Downgrade does the
reverse.

The tables are frozen here (the registry may change later).
"""

from __future__ import annotations

from alembic import op

from app.migrations.numeric import MICROS, Plan, convert

revision = "0027_replicated_times"
down_revision = "0026_kpi_times"
branch_labels = None
depends_on = None

#: versioned tables (documents and master data): created_at, updated_at, deleted_at
VERSIONED = (
    "approval_rule", "branch", "carrier", "carton_type", "company", "edi_counter", "email_outbox", "item",
    "replenishment_class", "supplier", "tax_rate", "tracking_policy", "app_user", "carrier_account",
    "carrier_service", "customer", "item_supplier", "item_tax_class", "item_uom", "number_series",
    "warehouse", "allocation_policy", "carrier_cutoff", "customer_billing", "dispatch_setting",
    "exception_item", "manifest", "price_list", "purchase_order", "recommendation_decision",
    "replenishment_policy", "requisition", "sales_order", "tracking_lease", "transfer_lane", "user_role",
    "warehouse_figures", "wave", "zone", "customer_message", "expected_receipt", "location",
    "price_list_line", "purchase_order_line", "rma", "sales_order_line", "shipment", "carton", "count_task",
    "credit_request", "expected_receipt_line", "pick_line", "receipt", "replenish_task", "rma_line",
    "shipment_label", "shipment_line", "supplier_message", "transfer_order", "carton_line", "count_line",
    "invoice", "receipt_line", "serial_number", "supplier_message_line", "transfer_line", "invoice_line",
    "invoice_tax", "putaway_task", "quality_hold",
)
#: ledgers: created_at (stock_move's and sales_history's are numbers already)
LEDGERS = (
    "audit_entry", "print_record", "lot", "allocation_run", "payment", "receivable_entry",
    "approval_decision", "credit_release", "allocation", "tracking_event",
)


def _plans() -> list[Plan]:
    times = {t: ("created_at", "updated_at", "deleted_at") for t in VERSIONED} | {t: ("created_at",) for t in LEDGERS}
    return [Plan(table=t, columns={c: MICROS for c in cols}, watch=[r"\b(created_at|updated_at|deleted_at)\b"],
                 revision=revision) for t, cols in times.items()]


def upgrade() -> None:
    convert(op.get_bind(), _plans(), numeric=True)


def downgrade() -> None:
    convert(op.get_bind(), _plans(), numeric=False)
