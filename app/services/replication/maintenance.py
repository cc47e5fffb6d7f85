"""Looking after a server with many workstations: settings check, statistics, receipt purge.

What decides a shared server's cost at scale (issue 20) is mostly outside Depot's statements:
whether autovacuum runs (planner statistics, dead rows), whether a transaction is left open
for hours, whether the connection limit fits the number of workstations. ``check_server``
reads each of those and says what to do in one sentence; ``analyze`` refreshes the planner
statistics of the replicated tables (run after publishing, and by ``check --fix``);
``purge_receipts`` drops the batch receipts their sites have acknowledged. All run with an
owner/superuser DSN.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from app.services.replication.link import KEEP_SHARE
from app.services.replication.server import SITE_EXPIRY_DAYS, connect
from app.services.replication.tables import sync_tables

#: a transaction open longer than this holds back vacuum and tombstone purge
LONG_XACT_MINUTES = 10
#: a replicated table bigger than this without planner statistics is worth an ANALYZE
NO_STATS_BYTES = 1 << 20
#: connections a server holds sensibly: every connected backend keeps ~25-30 MB of private memory
#: (catalog and plan caches for the replicated tables), and about 700 of them filled 24 GB in the
#: 1,000-workstation runs of issue 20; beyond this a pooler is the deployment, not a bigger limit
SENSIBLE_CONNECTIONS = 300
#: server memory one kept backend holds, as measured there (for the sentence)
BACKEND_MB = 30


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'WARN'} {self.name}: {self.detail}"


def analyze(dsn: str) -> int:
    """ANALYZE every replicated table and the bookkeeping tables; returns how many."""
    names = [*sync_tables(), "depot_site", "depot_receipt", "depot_purged"]
    with connect(dsn, autocommit=True) as conn:
        for n in names:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(n)))
    return len(names)


def purge_receipts(dsn: str) -> int:
    """Delete the receipts their sites have acknowledged.

    A receipt exists so that a batch resent after a crash (server committed, outbox not yet
    cleared) is recognised. A site sends its next batch only after clearing the previous one's
    outbox, so once a later batch of the same site is on the server the earlier receipt can go.
    """
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM depot_receipt r WHERE EXISTS (SELECT 1 FROM depot_receipt n WHERE n.login = r.login "
                    "AND n.site_id = r.site_id AND n.first_seq > r.last_seq)")
        n = cur.rowcount or 0
        conn.commit()
    return max(n, 0)


def check_server(dsn: str, *, site_expiry_days: int = SITE_EXPIRY_DAYS) -> list[Finding]:
    """The server settings and state that decide what a sync costs, each with what to do."""
    out: list[Finding] = []
    tables = list(sync_tables())
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('autovacuum'), current_setting('track_counts'), "
                    "current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, "
                    "current_setting('idle_in_transaction_session_timeout')")
        av, tc, max_conn, reserved, idle_to = cur.fetchone()  # type: ignore[misc]
        good = av == "on" and tc == "on"
        out.append(Finding("autovacuum", good, "on" if good else
                           f"autovacuum={av}, track_counts={tc}: set both on in postgresql.conf (without them no "
                           "planner statistics and no vacuum: dead rows pile up and plans guess)"))
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace "
                    "WHERE ns.nspname = 'public' AND c.relname = ANY(%s) AND c.reltuples < 0 "
                    "AND pg_relation_size(c.oid) > %s ORDER BY 1", (tables, NO_STATS_BYTES))
        bare = [str(r[0]) for r in cur.fetchall()]
        out.append(Finding("statistics", not bare, "every replicated table has planner statistics" if not bare else
                           f"{len(bare)} tables were never analyzed ({', '.join(bare[:5])}{' ...' if len(bare) > 5 else ''}): "
                           "run 'depot server check --fix' (ANALYZE), and turn autovacuum on"))
        cur.execute("SELECT count(*), count(*) FILTER (WHERE last_seen > now() - interval '1 day'), "
                    "count(*) FILTER (WHERE cursor IS NOT NULL AND last_seen <= now() - make_interval(days => %s)) "
                    "FROM depot_site", (int(site_expiry_days),))
        sites, active, expired = (int(v) for v in cur.fetchone())  # type: ignore[union-attr]
        out.append(connections_finding(max_conn, reserved, active))
        cur.execute("SELECT count(*), COALESCE(max(extract(epoch FROM now() - xact_start)), 0)::int FROM pg_stat_activity "
                    "WHERE (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) AND pid <> pg_backend_pid() "
                    "AND xact_start < now() - make_interval(mins => %s)", (LONG_XACT_MINUTES,))
        n_long, oldest = (int(v) for v in cur.fetchone())  # type: ignore[union-attr]
        out.append(Finding("long transactions", n_long == 0, "none" if not n_long else
                           f"{n_long} open for more than {LONG_XACT_MINUTES} min (oldest {oldest // 60} min): they hold "
                           "back vacuum and tombstone purge (pulls are not slowed); end them, and set "
                           "idle_in_transaction_session_timeout"))
        out.append(Finding("idle_in_transaction_session_timeout", idle_to not in ("0", "0ms"),
                           str(idle_to) if idle_to not in ("0", "0ms") else
                           "0 (off): set it (e.g. 15min) so a forgotten session cannot hold the cluster's xmin"))
        out.append(Finding("sites", True, f"{sites} workstations known, {active} seen today, {expired} expired "
                           f"(unseen {site_expiry_days} days: tombstone purge no longer waits for them)"))
        cur.execute("SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM depot_receipt n WHERE "
                    "n.login = r.login AND n.site_id = r.site_id AND n.first_seq > r.last_seq)) FROM depot_receipt r")
        receipts, done = (int(v) for v in cur.fetchone())  # type: ignore[union-attr]
        out.append(Finding("receipts", done < 10_000, f"{receipts} batch receipts, {done} acknowledged"
                           + ("" if done < 10_000 else ": run 'depot server purge'")))
        conn.rollback()
    return out


def connections_finding(max_conn: int, reserved: int, active: int) -> Finding:
    """Whether the server's connections fit the workstations seen today, and what to do if not.

    A workstation keeps one connection between syncs (``replication.link``) while the server's
    backends stay within ``KEEP_SHARE`` of the room; beyond that the others connect anew for every
    sync (about 3x the server CPU of an idle sync). A limit that would fit them all is advised only
    while it stays a sensible number of backends (``SENSIBLE_CONNECTIONS``); more workstations than
    that need a pooler in transaction mode, whatever ``max_connections`` says (a limit raised to fit
    them would hold a backend, and its memory, per workstation)."""
    room = max_conn - reserved
    keep = int(room * KEEP_SHARE)
    need = reserved + -(-active * 4 // 3) + 10  # every workstation kept within KEEP_SHARE, and 10 to spare
    head = f"max_connections {max_conn} ({room} for clients) for {active} workstations seen today"
    pooler = ("put PgBouncer in front (pool_mode = transaction: Depot keeps no session state; max_client_conn "
              "and the pooler's open-files limit above the number of workstations; default_pool_size about 20) "
              "and point the workstations' --dsn at it")
    if need > SENSIBLE_CONNECTIONS:
        return Finding("connections", False,
                       f"{head}: a kept connection each would need max_connections of at least {need} and about "
                       f"{-(-active * BACKEND_MB // 1024)} GB of server memory for their backends ({BACKEND_MB} MB "
                       f"each), more than a server holds sensibly (about {SENSIBLE_CONNECTIONS}); {pooler}, so "
                       "that the server holds the pooler's few connections instead (if they already connect "
                       "through one, this line counts workstations, not the pooler's connections: ignore it)")
    if active <= keep:
        return Finding("connections", True, f"{head}: each keeps one connection between syncs (up to {keep})")
    return Finding("connections", False,
                   f"{head}: workstations keep their connection between syncs only up to {keep} client connections, "
                   "the others connect anew for every sync (about 3x the server CPU of an idle sync); raise "
                   f"max_connections to at least {need}, or {pooler} (this line counts workstations, not the "
                   "pooler's connections: ignore it then)")
