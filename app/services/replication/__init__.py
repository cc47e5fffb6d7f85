"""Replication of the branch SQLite database with the shared PostgreSQL server.

Modules: ``tables`` (what replicates, from the registry), ``server`` (schema, roles, RLS,
gate), ``conn`` (connecting, readable errors), ``push``, ``pull``, ``apply`` (writing server
rows locally), ``engine`` (one sync run, status, back-off). See docs/replication.md.
"""

from app.services.replication.conn import SchemaMismatch, ServerAuthFailed, ServerUnreachable, SyncError
from app.services.replication.engine import (
    Backoff,
    SyncResult,
    SyncStatus,
    configure,
    publish_all,
    status,
    sync_once,
)

__all__ = [
    "Backoff", "SchemaMismatch", "ServerAuthFailed", "ServerUnreachable", "SyncError", "SyncResult", "SyncStatus",
    "configure", "publish_all", "status", "sync_once",
]
