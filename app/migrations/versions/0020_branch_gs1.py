"""branch.gs1_prefix: each branch's GS1 company prefix for the SSCCs of its cartons (issue 14)

Revision ID: 0020_branch_gs1
Revises: 0014_dispatch_pick

Added with ALTER TABLE ADD COLUMN ('' default = GS1's example prefix, as before), so the table is
not rebuilt and keeps its change-capture triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_branch_gs1"
down_revision = "0014_dispatch_pick"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("branch", sa.Column("gs1_prefix", sa.String(10), nullable=False, server_default=sa.text("''")))


def downgrade() -> None:
    op.drop_column("branch", "gs1_prefix")
