"""The shared PostgreSQL server: schema, roles, row-level security, the schema-version gate.

``init_server`` is idempotent and only ever expands (CREATE ... IF NOT EXISTS, ADD COLUMN
IF NOT EXISTS), so running it from a newer Depot upgrades a live server without locking
older clients out; the table list and column types come from the model registry at run
time, so tables added by later migrations replicate without touching this module.
(This is our "generated-DDL revision": the server's revision list is recorded in
``depot_meta`` instead of an Alembic version table, because the server schema is a pure
function of the client's metadata.)

Security model: one LOGIN role per branch, member of the group role ``<prefix>branch``; the
prefix is the server database's own name unless chosen at the first init, each role is marked
with the database it was made for, and only the group may CONNECT to the database, so two
Depot databases on one cluster keep their branch logins apart (``init_server``, ``add_branch``).
Every replicated table has RLS *forced*; policies read ``depot_branch()`` (the branch of
``current_user``). A branch inserts ledger rows and documents it owns, updates only its own
documents, and updates master rows only in their branch-editable fields (a trigger checks
that); head office inserts and updates master data. No role gets DELETE. Posted or
cancelled documents refuse edits, and clocks far in the future are refused, by trigger.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from app.models.base import DOCUMENT, LEDGER, MASTER
from app.models.hlc import MAX_SKEW_MS
from app.services.errors import ValidationError
from app.services.replication.probe import function_ddl as changed_tables_ddl
from app.services.replication.tables import SyncTable, sync_tables

SERVER_SCHEMA_VERSION = 2


def schema_fingerprint() -> str:
    """What the server schema is made of, as a hash: the server objects' version and every replicated
    table as the server sees it (columns with their server types, sync kind, branch-editable fields,
    final states). A migration that changes only SQLite (indexes, how a time is stored) leaves it
    as it was, so a workstation that installs the new version before head office's ``server init``
    keeps syncing (``conn.check_gate``); one that adds a table or a column changes it."""
    import hashlib

    shape = [SERVER_SCHEMA_VERSION] + [
        [t.name, t.sync, [[c.name, c.pg_type, c.nullable] for c in t.columns], sorted(t.branch_editable),
         sorted(t.final_states), t.derived_ids] for t in sync_tables().values()]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]
META_DDL = """
CREATE TABLE IF NOT EXISTS depot_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS depot_role (
    role name PRIMARY KEY, branch_id uuid NOT NULL, is_head_office boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS depot_receipt (
    login name NOT NULL DEFAULT current_user,
    site_id text NOT NULL, first_seq bigint NOT NULL, last_seq bigint NOT NULL, n_rows integer NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (login, site_id, first_seq));
CREATE TABLE IF NOT EXISTS depot_site (
    site_id text PRIMARY KEY, branch_id uuid, cursor xid8, last_seen timestamptz NOT NULL DEFAULT now(),
    login name NOT NULL DEFAULT current_user);
ALTER TABLE depot_site ADD COLUMN IF NOT EXISTS workstation integer;
ALTER TABLE depot_site ADD COLUMN IF NOT EXISTS snapshot pg_snapshot;
CREATE UNIQUE INDEX IF NOT EXISTS depot_site_workstation ON depot_site (branch_id, workstation);
CREATE TABLE IF NOT EXISTS depot_purged (
    tbl text NOT NULL, id uuid NOT NULL, purged_at timestamptz NOT NULL DEFAULT now(),
    purge_xid xid8 NOT NULL DEFAULT pg_current_xact_id(), PRIMARY KEY (tbl, id));
CREATE INDEX IF NOT EXISTS depot_purged_xid ON depot_purged (purge_xid);
"""

#: a site unseen for this long no longer holds tombstone purge back; when it returns, its pull
#: makes the rows purged meanwhile tombstones there too (``depot_purged``, pull._mark_purged)
SITE_EXPIRY_DAYS = 30

#: A branch's workstations each number documents on a series of their own (services.numbering):
#: the server hands out the workstation number once per site, 1, 2, ... per branch, serialised
#: per branch by an advisory lock. Asking again returns the same number.
WORKSTATION_DDL = """
CREATE OR REPLACE FUNCTION depot_claim_workstation(p_site text) RETURNS integer LANGUAGE plpgsql
  SET search_path = public AS $$
DECLARE b uuid := depot_branch(); n integer;
BEGIN
  IF b IS NULL THEN RETURN NULL; END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('depot_workstation:' || b::text, 0));
  SELECT workstation INTO n FROM depot_site WHERE site_id = p_site AND branch_id = b AND workstation IS NOT NULL;
  IF n IS NOT NULL THEN RETURN n; END IF;
  SELECT COALESCE(max(workstation), 0) + 1 INTO n FROM depot_site WHERE branch_id = b;
  INSERT INTO depot_site (site_id, branch_id, workstation) VALUES (p_site, b, n)
    ON CONFLICT (site_id) DO UPDATE SET workstation = EXCLUDED.workstation, branch_id = EXCLUDED.branch_id;
  RETURN n;
END $$;
"""

#: receipts and cursors belong to the login that wrote them: a branch can neither forge another
#: site's receipt (which would make that site drop its outbox) nor move its purge cursor
BOOK_POLICIES = """
ALTER TABLE depot_receipt ENABLE ROW LEVEL SECURITY;
ALTER TABLE depot_receipt FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS p_receipt_own ON depot_receipt;
CREATE POLICY p_receipt_own ON depot_receipt TO {group} USING (login = current_user) WITH CHECK (login = current_user);
ALTER TABLE depot_site ENABLE ROW LEVEL SECURITY;
ALTER TABLE depot_site FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS p_site_read ON depot_site;
CREATE POLICY p_site_read ON depot_site FOR SELECT TO {group} USING (true);
DROP POLICY IF EXISTS p_site_ins ON depot_site;
CREATE POLICY p_site_ins ON depot_site FOR INSERT TO {group} WITH CHECK (login = current_user);
DROP POLICY IF EXISTS p_site_upd ON depot_site;
CREATE POLICY p_site_upd ON depot_site FOR UPDATE TO {group} USING (login = current_user) WITH CHECK (login = current_user);
"""

FUNCS_DDL = f"""
CREATE OR REPLACE FUNCTION depot_branch() RETURNS uuid LANGUAGE sql STABLE
  SET search_path = public AS $$ SELECT branch_id FROM depot_role WHERE role = current_user $$;
CREATE OR REPLACE FUNCTION depot_is_ho() RETURNS boolean LANGUAGE sql STABLE
  SET search_path = public AS $$
  SELECT COALESCE((SELECT is_head_office FROM depot_role WHERE role = current_user), false) $$;
CREATE OR REPLACE FUNCTION depot_is_admin() RETURNS boolean LANGUAGE sql STABLE
  SET search_path = public AS $$
  SELECT NOT EXISTS (SELECT 1 FROM depot_role WHERE role = current_user)
         AND (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) $$;

-- planner statistics after a big push: a branch login may not ANALYZE (it owns no table), so the
-- owner's function does it, for replicated tables only
CREATE OR REPLACE FUNCTION depot_analyze(p_tables text[]) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public AS $$
DECLARE t text; n integer := 0; known jsonb := (SELECT value::jsonb FROM depot_meta WHERE key = 'tables');
BEGIN
  FOREACH t IN ARRAY p_tables LOOP
    IF known ? t THEN EXECUTE format('ANALYZE %I', t); n := n + 1; END IF;
  END LOOP;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION depot_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.txid := pg_current_xact_id(); RETURN NEW; END $$;

-- versioned rows: clock skew limit, final documents, branch-editable master fields.
-- TG_ARGV[0] = table class, TG_ARGV[1] = JSON list of final states, TG_ARGV[2] = JSON list of
-- fields a branch may change.
CREATE OR REPLACE FUNCTION depot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  old_j jsonb; new_j jsonb; keep text[];
BEGIN
  IF (NEW.hlc >> 16) > now_ms + {MAX_SKEW_MS} THEN
    RAISE EXCEPTION 'depot: %.% hlc is % s ahead of the server clock (site clock wrong?)',
      TG_TABLE_NAME, NEW.id, ((NEW.hlc >> 16) - now_ms) / 1000 USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    old_j := to_jsonb(OLD) - 'txid'; new_j := to_jsonb(NEW) - 'txid';
    IF TG_ARGV[0] = 'document' AND old_j ? 'status'
       AND (TG_ARGV[1]::jsonb ? (old_j->>'status')) AND old_j IS DISTINCT FROM new_j THEN
      RAISE EXCEPTION 'depot: %.% is % and refuses edits', TG_TABLE_NAME, NEW.id, old_j->>'status'
        USING ERRCODE = 'check_violation';
    END IF;
    IF TG_ARGV[0] = 'document' AND NEW.owner_branch_id IS DISTINCT FROM OLD.owner_branch_id THEN
      RAISE EXCEPTION 'depot: %.% owner_branch_id may not change', TG_TABLE_NAME, NEW.id
        USING ERRCODE = 'check_violation';
    END IF;
    IF TG_ARGV[0] = 'master' AND NOT depot_is_ho() AND NOT depot_is_admin() THEN
      SELECT array_agg(x) INTO keep FROM jsonb_array_elements_text(TG_ARGV[2]::jsonb) x;
      keep := COALESCE(keep, '{{}}') || ARRAY['updated_at', 'hlc', 'hlc_site'];
      IF (old_j - keep) IS DISTINCT FROM (new_j - keep) THEN
        RAISE EXCEPTION 'depot: %.% is head-office master data; a branch may change only %',
          TG_TABLE_NAME, NEW.id, TG_ARGV[2] USING ERRCODE = 'insufficient_privilege';
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END $$;
"""


@dataclass(frozen=True)
class ServerInfo:
    version: int
    role_prefix: str
    revisions: list[str]
    min_client_revisions: list[str]
    tables: list[str]
    #: branch logins pull only their scope (replication.scope)
    selective: bool = False
    #: ``schema_fingerprint()`` of the Depot that last ran ``server init`` ('' before 2026-12-06)
    fingerprint: str = ""


def connect(dsn: str, **kw: Any) -> psycopg.Connection[Any]:
    """An owner connection; a bad address or an unreachable server is a sentence, not a traceback.
    (conn.explain words a site's connection problems; this module is below conn, so the owner's
    commands say it more plainly.)"""
    try:
        return psycopg.connect(dsn, connect_timeout=5, **kw)
    except psycopg.ProgrammingError as e:  # the address itself cannot be read
        raise ValidationError("server address", f"{str(e).strip()} (write it as 'host=... dbname=... user=...' "
                                                f"or postgresql://user@host/dbname)") from None
    except psycopg.OperationalError as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValidationError("server", f"cannot connect: {first}") from None


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _col_ddl(t: SyncTable) -> sql.Composed:
    parts: list[sql.Composable] = []
    for c in t.columns:
        null = sql.SQL("") if c.nullable else sql.SQL(" NOT NULL")
        parts.append(sql.SQL("{} {}{}").format(_ident(c.name), sql.SQL(c.pg_type), null))
    parts.append(sql.SQL("txid xid8 NOT NULL DEFAULT pg_current_xact_id()"))
    parts.append(sql.SQL("PRIMARY KEY (id)"))
    return sql.SQL(", ").join(parts)


def bytes_column(cur: psycopg.Cursor[Any], table: str, column: str) -> None:
    """A bytes column (a label's PDF, a mail's attachment) made text by servers before bytea: rows
    pushed by COPY then held bytea's hex text ('\\x2550...'); they become those bytes again."""
    cur.execute("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s AND column_name = %s", (table, column))
    found = cur.fetchone()
    if found is None or found[0] == "bytea":
        return
    c = _ident(column)
    cur.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE bytea USING CASE WHEN left({}, 2) = '\\x' "
                        "THEN decode(substr({}, 3), 'hex') ELSE convert_to({}, 'UTF8') END").format(
        _ident(table), c, c, c, c))


def _table_ddl(cur: psycopg.Cursor[Any], t: SyncTable, group: str) -> None:
    """Create or expand one replicated table with its txid trigger, guard, grants and policies.

    Only the primary key is kept as a constraint: the server is a replica store, and
    uniqueness and references are the sites' rules (enforcing them here would make push
    order matter and reject batches for reasons no user can fix).
    """
    tn = _ident(t.name)
    cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(tn, _col_ddl(t)))
    for c in t.columns:  # expand: columns added by later client migrations (nullable on the server)
        cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(tn, _ident(c.name), sql.SQL(c.pg_type)))
    for c in t.columns:
        if c.pg_type == "bytea":
            bytes_column(cur, t.name, c.name)
    cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (txid)").format(_ident(f"ix_{t.name}_txid"), tn))
    cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (owner_branch_id)").format(_ident(f"ix_{t.name}_owner"), tn))
    # inserts take txid from the column default; updates need the trigger (a default only fires on insert)
    cur.execute(sql.SQL("CREATE OR REPLACE TRIGGER {} BEFORE UPDATE ON {} "
                        "FOR EACH ROW EXECUTE FUNCTION depot_stamp_txid()").format(_ident(f"trg_{t.name}_txid"), tn))
    if t.versioned:
        args = [t.sync, json.dumps(sorted(t.final_states)), json.dumps(sorted(t.branch_editable))]
        cur.execute(sql.SQL("CREATE OR REPLACE TRIGGER {} BEFORE INSERT OR UPDATE ON {} "
                            "FOR EACH ROW EXECUTE FUNCTION depot_guard({})").format(
            _ident(f"trg_{t.name}_guard"), tn, sql.SQL(", ").join(sql.Literal(a) for a in args)))
    cur.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(tn))
    cur.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(tn))
    g = _ident(group)
    cur.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(tn))
    privs = "SELECT, INSERT" if t.sync == LEDGER else "SELECT, INSERT, UPDATE"
    cur.execute(sql.SQL("GRANT " + privs + " ON {} TO {}").format(tn, g))
    mine = "owner_branch_id = depot_branch()"
    policies: dict[str, tuple[str, str, str | None]] = {
        "read": ("SELECT", "true", None),
        "ins": ("INSERT", "", "depot_is_ho()" if t.sync == MASTER else mine),
    }
    if t.sync == DOCUMENT:
        policies["upd"] = ("UPDATE", mine, mine)
    elif t.sync == MASTER:  # which fields a branch may change is the guard trigger's job
        policies["upd"] = ("UPDATE", "true", "true")
    for suffix, (cmd, using, check) in policies.items():
        pname = _ident(f"p_{t.name}_{suffix}")
        cur.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(pname, tn))
        q = sql.SQL("CREATE POLICY {} ON {} FOR " + cmd + " TO {}").format(pname, tn, g)
        if using:
            q = q + sql.SQL(" USING (" + using + ")")
        if check:
            q = q + sql.SQL(" WITH CHECK (" + check + ")")
        cur.execute(q)


def _role_exists(cur: psycopg.Cursor[Any], role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return cur.fetchone() is not None


def check_prefix(prefix: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", prefix):
        raise ValidationError("role prefix", "must be lower-case letters, digits and _ (at most 31), starting with a letter")
    return prefix


def default_prefix(dbname: str) -> str:
    """Role names of a server database when none is asked for: its own name, so two Depot
    databases on one cluster (live and test, or two companies) never share a login:
    ``depot`` -> ``depot_dal``, ``depot_test`` -> ``depot_test_dal``."""
    base = re.sub(r"[^a-z0-9_]+", "_", dbname.lower()).strip("_") or "depot"
    if not base[0].isalpha():
        base = "d" + base
    return check_prefix(base[:30] + "_")


# PostgreSQL roles belong to the whole cluster, databases do not. Each role Depot makes carries a
# comment naming the server database it was made for (``depot server <id> database <name>``), so a
# second Depot database on the cluster never takes over (or resets the password of) the first one's
# logins, and a copy (CREATE DATABASE ... TEMPLATE) is told apart from its original by its name.
_MARK = re.compile(r"depot server (?P<id>[0-9a-f-]+) database (?P<db>.+)")


def _mark(server_id: str, dbname: str) -> str:
    return f"depot server {server_id} database {dbname}"


def _role_mark(cur: psycopg.Cursor[Any], role: str) -> tuple[bool, re.Match[str] | None, str]:
    """(exists, parsed marker or None, raw comment)."""
    cur.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (role,))
    row = cur.fetchone()
    if row is None:
        return False, None, ""
    comment = str(row[0] or "")
    return True, _MARK.fullmatch(comment), comment


def _other_database(cur: psycopg.Cursor[Any], role: str, server_id: str, dbname: str, *, legacy_ours: bool) -> str | None:
    """The Depot database (or '' for an unknown owner) that ``role`` belongs to, when not this one."""
    exists, mark, _comment = _role_mark(cur, role)
    if not exists:
        return None
    if mark is None:
        return None if legacy_ours else ""
    if mark["id"] != server_id:
        # made for another server id under this very name: that database was dropped and this one
        # created in its place (names are unique on a cluster), so nothing else holds these logins
        return None if mark["db"] == dbname else mark["db"]
    if mark["db"] == dbname:
        return None
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (mark["db"],))
    return mark["db"] if cur.fetchone() is not None else None  # a copy, or (gone) a renamed database


def _claim(cur: psycopg.Cursor[Any], role: str, server_id: str, dbname: str) -> None:
    cur.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(_ident(role), sql.Literal(_mark(server_id, dbname))))


def _refuse_shared(role: str, other: str, dbname: str, what: str) -> ValidationError:
    owner = f"the Depot database {other!r}" if other else "something else (another application, or a Depot database made before roles were per database)"
    return ValidationError("role prefix", f"role {role} on this PostgreSQL cluster belongs to {owner}, not to "
                           f"{dbname!r}: sharing it would let one database's branch logins reach the other. {what}")


def init_server(dsn: str, *, role_prefix: str | None = None, client_revisions: set[str] | None = None,
                min_client_revisions: set[str] | None = None, selective: bool | None = None) -> ServerInfo:
    """Create or expand the server schema (run with an owner/superuser DSN). Idempotent.

    The role prefix is fixed at the first init: ``role_prefix``, else the database's own name
    (``default_prefix``). A later ``role_prefix`` is ignored, except on a database whose roles
    belong to another Depot database on the cluster (a copy made with CREATE DATABASE ... TEMPLATE):
    there it gives the copy logins of its own. Only this database's group role may CONNECT to it.
    ``selective`` turns selective replication on or off (``replication.scope``); None keeps the
    stored setting (off on a new server)."""
    from app.services.schema import known_revisions

    if role_prefix is not None:
        check_prefix(role_prefix)
    revs = client_revisions if client_revisions is not None else known_revisions()
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(7301)")  # two inits at once (any database) would race on roles
        cur.execute(META_DDL)
        cur.execute("SELECT current_database()")
        dbname = str(cur.fetchone()[0])  # type: ignore[index]
        cur.execute("SELECT key, value FROM depot_meta WHERE key IN ('role_prefix', 'server_id')")
        meta_now = dict(cur.fetchall())
        server_id = str(meta_now.get("server_id") or uuid.uuid4())
        stored = meta_now.get("role_prefix")
        prefix = str(stored) if stored else (role_prefix or default_prefix(dbname))
        group = f"{prefix}branch"
        other = _other_database(cur, group, server_id, dbname, legacy_ours=bool(stored))
        if other is not None and stored and role_prefix and role_prefix != stored:
            # a copy of another Depot database: it gets logins of its own; the original's stay its own
            prefix, group = role_prefix, f"{role_prefix}branch"
            cur.execute("DELETE FROM depot_role")
            other = _other_database(cur, group, server_id, dbname, legacy_ours=False)
        if other is not None:
            hint = (f"Give this database roles of its own: depot server init --role-prefix "
                    f"{default_prefix(dbname + '_' + secrets.token_hex(2))}")
            raise _refuse_shared(group, other, dbname, hint)
        if not _role_exists(cur, group):
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(group)))
        _claim(cur, group, server_id, dbname)
        cur.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(_ident(dbname)))
        cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(_ident(dbname), _ident(group)))
        cur.execute(FUNCS_DDL)
        cur.execute(WORKSTATION_DDL)
        cur.execute(sql.SQL("GRANT SELECT ON depot_meta, depot_role, depot_purged TO {}").format(_ident(group)))
        cur.execute(sql.SQL("GRANT SELECT, INSERT ON depot_receipt TO {}").format(_ident(group)))
        cur.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON depot_site TO {}").format(_ident(group)))
        cur.execute(sql.SQL(BOOK_POLICIES.replace("{group}", "{g}")).format(g=_ident(group)))
        names = []
        for t in sync_tables().values():
            _table_ddl(cur, t, group)
            names.append(t.name)
        cur.execute(changed_tables_ddl(names))
        cur.execute("SELECT value FROM depot_meta WHERE key = 'revisions'")
        row = cur.fetchone()
        all_revs = sorted(set(json.loads(row[0]) if row else []) | revs)
        minimum = sorted(min_client_revisions) if min_client_revisions is not None else None
        meta = {"role_prefix": prefix, "version": str(SERVER_SCHEMA_VERSION), "revisions": json.dumps(all_revs),
                "tables": json.dumps(sorted(names)), "server_id": server_id,
                "fingerprint": schema_fingerprint()}
        if minimum is not None:
            meta["min_client_revisions"] = json.dumps(minimum)
        if selective is not None:
            meta["selective"] = "on" if selective else "off"
        for k, v in meta.items():
            cur.execute("INSERT INTO depot_meta (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (k, v))
        cur.execute("INSERT INTO depot_meta (key, value) VALUES ('min_client_revisions', '[]') ON CONFLICT DO NOTHING")
        conn.commit()
        cur.execute("SELECT pg_advisory_unlock(7301)")
        return server_info(conn)


def set_selective(dsn: str, on: bool) -> ServerInfo:
    """Turn selective replication on or off (owner DSN). Sites follow at their next pull: a branch
    that pulled everything keeps what it has; one first-synced selectively gets everything new."""
    with connect(dsn) as conn:
        conn.execute("INSERT INTO depot_meta (key, value) VALUES ('selective', %s) "
                     "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", ("on" if on else "off",))
        conn.commit()
        return server_info(conn)


def server_info(conn: psycopg.Connection[Any]) -> ServerInfo:
    with conn.cursor() as cur:
        cur.execute("SELECT key, value FROM depot_meta")
        meta = dict(cur.fetchall())
    return ServerInfo(
        version=int(meta.get("version", "0")),
        role_prefix=meta.get("role_prefix", ""),
        revisions=json.loads(meta.get("revisions", "[]")),
        min_client_revisions=json.loads(meta.get("min_client_revisions", "[]")),
        tables=json.loads(meta.get("tables", "[]")),
        selective=meta.get("selective") == "on",
        fingerprint=meta.get("fingerprint", ""),
    )


@dataclass(frozen=True)
class BranchLogin:
    code: str
    role: str
    password: str
    branch_id: uuid.UUID
    head_office: bool


def add_branch(dsn: str, code: str, *, password: str | None = None) -> BranchLogin:
    """Create (or reset the password of) the login role of branch ``code``.

    The branch must already be on the server (head office publishes master data first).
    """
    code = code.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,8}", code):
        raise ValidationError("branch code", f"{code!r} must be 1-8 letters or digits")
    pw = password or secrets.token_urlsafe(18)
    with connect(dsn) as conn, conn.cursor() as cur:
        info = server_info(conn)
        if not info.role_prefix:
            raise ValidationError("server", "has no Depot schema: run 'depot server init' first")
        cur.execute("SELECT replace(id::text, '-', ''), is_head_office FROM branch WHERE code = %s", (code,))
        row = cur.fetchone()
        if row is None:
            raise ValidationError("branch code", f"{code} is not on the server: publish master data from head office first")
        role = f"{info.role_prefix}{code.lower()}"
        cur.execute("SELECT current_database(), (SELECT value FROM depot_meta WHERE key = 'server_id')")
        dbname, server_id = (str(v or "") for v in cur.fetchone())  # type: ignore[union-attr]
        cur.execute("SELECT 1 FROM depot_role WHERE role = %s", (role,))
        ours = cur.fetchone() is not None
        other = _other_database(cur, role, server_id, dbname, legacy_ours=ours)
        if other is not None or not server_id:
            raise _refuse_shared(role, other or "", dbname, "Its password is not changed here. If this database is "
                                 "a copy, give it roles of its own first: depot server init --role-prefix NEW_"
                                 if server_id else "Run 'depot server init' on this database first.")
        q = "ALTER ROLE {} LOGIN PASSWORD {}" if _role_exists(cur, role) else "CREATE ROLE {} LOGIN PASSWORD {}"
        cur.execute(sql.SQL(q).format(_ident(role), sql.Literal(pw)))
        _claim(cur, role, server_id, dbname)
        cur.execute(sql.SQL("GRANT {} TO {}").format(_ident(f"{info.role_prefix}branch"), _ident(role)))
        cur.execute("INSERT INTO depot_role (role, branch_id, is_head_office) VALUES (%s, %s, %s) "
                    "ON CONFLICT (role) DO UPDATE SET branch_id = EXCLUDED.branch_id, is_head_office = EXCLUDED.is_head_office",
                    (role, row[0], bool(row[1])))
        conn.commit()
    return BranchLogin(code, role, pw, uuid.UUID(str(row[0])), bool(row[1]))


def drop_roles(dsn: str) -> list[str]:
    """Remove every login role and the group role of this server (tests, decommissioning);
    roles that belong to another Depot database on the cluster are left alone."""
    dropped = []
    with connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        info = server_info(conn)
        cur.execute("SELECT current_database(), (SELECT value FROM depot_meta WHERE key = 'server_id')")
        dbname, server_id = (str(v or "") for v in cur.fetchone())  # type: ignore[union-attr]
        cur.execute("SELECT role FROM depot_role")
        roles = [str(r[0]) for r in cur.fetchall()] + [f"{info.role_prefix}branch"]
        for r in roles:
            if _other_database(cur, r, server_id, dbname, legacy_ours=True) is not None:
                continue
            if _role_exists(cur, r):
                cur.execute(sql.SQL("DROP OWNED BY {}").format(_ident(r)))
                cur.execute(sql.SQL("DROP ROLE {}").format(_ident(r)))
                dropped.append(r)
    return dropped


def purge_tombstones(dsn: str, *, site_expiry_days: int = SITE_EXPIRY_DAYS) -> dict[str, int]:
    """Delete soft-deleted rows every known site has already pulled.

    A site has pulled a tombstone when it was visible in the snapshot of that site's last
    completed pull (``depot_site.snapshot``). Its cursor (the snapshot's xmin) alone would be
    too cautious: one unrelated long transaction anywhere on the cluster holds every xmin back.
    A site that reported only a cursor (an older client) is judged by it. A site unseen for
    ``site_expiry_days`` (a retired workstation) no longer counts; every purged id is logged in
    ``depot_purged``, from which such a site catches up if it returns. Run by an owner/superuser
    (branches have no DELETE grant).
    """
    out: dict[str, int] = {}
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM depot_site WHERE cursor IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return out
        for t in sync_tables().values():
            if not t.versioned:
                continue
            cur.execute(sql.SQL(
                "WITH gone AS (DELETE FROM {t} AS r WHERE r.deleted_at IS NOT NULL AND NOT EXISTS ("
                " SELECT 1 FROM depot_site s WHERE s.cursor IS NOT NULL"
                " AND s.last_seen > now() - make_interval(days => {days}) AND CASE WHEN s.snapshot IS NULL"
                " THEN r.txid >= s.cursor ELSE NOT pg_visible_in_snapshot(r.txid, s.snapshot) END) RETURNING r.id),"
                " logged AS (INSERT INTO depot_purged (tbl, id) SELECT {name}, id FROM gone ON CONFLICT (tbl, id)"
                " DO UPDATE SET purged_at = now(), purge_xid = pg_current_xact_id() RETURNING 1)"
                " SELECT count(*) FROM logged").format(
                t=_ident(t.name), name=sql.Literal(t.name), days=sql.Literal(int(site_expiry_days))))
            n = int(cur.fetchone()[0])  # type: ignore[index]
            if n:
                out[t.name] = n
        conn.commit()
    return out
