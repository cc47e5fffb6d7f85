"""Connecting a site to the server: DSN and password, readable errors, the schema gate.

Every failure a user can meet (wrong password, server down, TLS demanded, schema too
old or too new) becomes one ``SyncError`` with a sentence that says what to do; the sync
engine turns it into the "offline: ..." status and keeps the outbox.
"""

from __future__ import annotations

import functools
import json
import random
import time
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import Engine, text

from app.services.errors import DomainError
from app.services.replication.server import ServerInfo, schema_fingerprint, server_info

SECRET_PREFIX = "sync:"


class SyncError(DomainError):
    """Sync could not run; nothing local was lost (the outbox is kept)."""

    kind = "error"


class ServerUnreachable(SyncError):
    kind = "unreachable"


class ServerAuthFailed(SyncError):
    kind = "auth"


class SchemaMismatch(SyncError):
    kind = "schema"


class ServerNotTrusted(SyncError):
    """TLS: the server's certificate is not signed by the CA we trust, or names another host."""

    kind = "tls"


def get_state(engine: Engine, key: str, default: str = "") -> str:
    with engine.connect() as c:
        v = c.execute(text("SELECT value FROM sync_state WHERE key = :k"), {"k": key}).scalar_one_or_none()
    return str(v) if v is not None else default


def set_state_sql(conn: Any, values: dict[str, str]) -> None:
    """Write sync_state keys on an open SQLAlchemy connection (inside the caller's transaction)."""
    for k, v in values.items():
        conn.execute(text("INSERT INTO sync_state (key, value) VALUES (:k, :v) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value"), {"k": k, "v": v})


def set_state(engine: Engine, **values: str) -> None:
    with engine.begin() as c:
        set_state_sql(c, values)


def secret_name(user: str) -> str:
    return f"{SECRET_PREFIX}{user}"


def store_password(user: str, password: str) -> None:
    from app.services.settings import Settings

    Settings().set_secret(secret_name(user), password)


def resolve_dsn(dsn: str) -> str:
    """Add the password from the OS keyring when the DSN names a user but carries none."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        raise SyncError(f"server address: {e}") from None
    if parts.get("user") and not parts.get("password"):
        from app.services.settings import Settings

        try:
            pw = Settings().get_secret(secret_name(str(parts["user"])))
        except Exception:  # noqa: BLE001 - no usable keyring here: connect without (trust/peer/.pgpass)
            pw = None
        if pw:
            parts["password"] = pw
    return make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})


def redact(dsn: str) -> str:
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unreadable address)"
    parts.pop("password", None)
    return make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})


def explain(e: BaseException, dsn: str = "") -> SyncError:
    """Turn a psycopg connection error into a sentence a user can act on."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    low = str(e).lower()
    where = redact(dsn) if dsn else "the server"
    if "password authentication failed" in low or "no password supplied" in low:
        return ServerAuthFailed(f"server login refused: wrong password or unknown role ({where}); "
                                "ask head office for the branch login ('depot server add-branch')")
    if "certificate verify failed" in low or "unable to get local issuer" in low:
        return ServerNotTrusted(f"server certificate is not trusted: set sslrootcert to head office's CA file "
                                f"({where}; {msg})")
    if "does not match host name" in low:
        return ServerNotTrusted(f"server certificate names another host: connect by the name on the certificate "
                                f"({where}; {msg})")
    if "no encryption" in low or ("ssl" in low and ("required" in low or "no pg_hba.conf entry" in low
                                                    or "not support" in low or "sslmode" in low)):
        return SyncError(f"server requires TLS: set sslmode=require or verify-full in the server address ({msg})")
    if "pg_hba.conf" in low:
        return ServerAuthFailed(f"server refused this login from here ({msg})")
    if "does not exist" in low and "database" in low:
        return SyncError(f"server database does not exist: {msg}")
    return ServerUnreachable(f"server unreachable: {msg}")


#: seconds a new connection may take to be answered
CONNECT_TIMEOUT_S = 5
#: a connect that timed out is tried once more after this long (plus up to as much again, so that
#: workstations that timed out together do not come back together)
RETRY_AFTER_S = 0.5


def open_server(dsn: str) -> psycopg.Connection[Any]:
    """A new connection to the server; a connect that timed out is tried once more.

    A timeout is what a busy server or pooler gives while its queue of new connections is full (60 of
    2,000 syncs of ``bench sync_scale``'s 1,000 sites through PgBouncer); it clears within a second or
    two, where the sync would otherwise wait for its next attempt (30 s or more). A refused connection
    (nothing listens: the server is down) or a refused login is final at once."""
    full = resolve_dsn(dsn)
    try:
        return _connect(full)
    except psycopg.errors.ConnectionTimeout:
        time.sleep(RETRY_AFTER_S * (1 + random.random()))
    except psycopg.OperationalError as e:
        raise explain(e, dsn) from None
    try:
        return _connect(full)
    except psycopg.OperationalError as e:
        raise explain(e, dsn) from None


def _connect(conninfo: str) -> psycopg.Connection[Any]:
    # no server-side prepared statements: a pooler in transaction mode (PgBouncer) may hand each
    # transaction another server connection; Depot keeps no other session state
    return psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_S, prepare_threshold=None)


def check_gate(conn: psycopg.Connection[Any], client_revisions: set[str]) -> ServerInfo:
    """Refuse to exchange rows when either side's schema is outside what the other accepts.

    Too old: the server lists revisions every client must have (expand-then-contract: set
    once the server no longer carries what old clients need). Too new: the client has
    revisions the server schema was never built for and its tables as the server sees them
    differ from the server's (``schema_fingerprint``: new tables or columns).
    """
    try:
        info = server_info(conn)
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        raise SchemaMismatch("server has no Depot schema: run 'depot server init --dsn ...' as its owner") from None
    conn.rollback()
    missing = set(info.min_client_revisions) - client_revisions
    if missing:
        raise SchemaMismatch(
            f"this Depot is too old for the server (schema {', '.join(sorted(missing))} required): "
            "install the newer version; changes stay queued")
    unknown = client_revisions - set(info.revisions)
    if unknown and not (info.fingerprint and info.fingerprint == schema_fingerprint()):
        # revisions the server was not built for that change nothing it holds (SQLite-only
        # migrations) pass: the fingerprint of the tables as the server sees them is the same
        raise SchemaMismatch(
            f"the server schema is older than this Depot ({', '.join(sorted(unknown))} unknown there): "
            "head office must run 'depot server init' with this version; changes stay queued")
    return info


def client_revisions(engine: Engine) -> set[str]:
    """Every revision applied to this database (its heads and all their ancestors)."""
    from app.services import schema

    return set(_ancestry(frozenset(schema.db_heads(engine))))


@functools.cache
def _ancestry(heads: frozenset[str]) -> frozenset[str]:
    """Walking the migration scripts costs ~100 ms; heads change only with an upgrade."""
    from alembic.script import ScriptDirectory

    from app.services import schema

    script = ScriptDirectory.from_config(schema._config())
    out: set[str] = set()
    for h in heads:
        try:
            for rev in script.iterate_revisions(h, "base"):
                out.add(rev.revision)
        except Exception:  # an unknown (newer) revision: keep it, the gate will name it
            out.add(h)
    return frozenset(out)


def dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str, sort_keys=True)
