"""forecast: local-only demand forecasts per item x warehouse and forecast run summaries

Revision ID: 0018_forecast
Revises: 0003

Both tables are derived caches (rewritten by ``depot forecast run``): never replicated, so no
change capture. ``demand_forecast`` is clustered by (item, warehouse) like ``sales_week`` so the
replenishment run reads it in one ordered pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0018_forecast"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demand_forecast",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("computed_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("origin_week", sa.Integer(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("path", sa.LargeBinary(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("klass", sa.String(length=16), nullable=False),
        sa.Column("mae", sa.Float(), nullable=True),
        sa.Column("rmse", sa.Float(), nullable=True),
        sa.Column("scale", sa.Float(), nullable=True),
        sa.Column("weeks_known", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "warehouse_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "forecast_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_at", app.models.types.UTCDateTime(length=32), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("mase_mean", sa.Float(), nullable=True),
        sa.Column("mase_median", sa.Float(), nullable=True),
        sa.Column("avg_rel_mae", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("forecast_run")
    op.drop_table("demand_forecast")
