"""Alembic environment for the branch SQLite database (run through app.services.schema)."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (register every model)
from app.models.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # plain `alembic` CLI use: build an engine from the URL
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url")).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
    compare_type=True,
    on_version_apply=config.attributes.get("on_version_apply"),  # schema.upgrade's progress
)
with context.begin_transaction():
    context.run_migrations()
