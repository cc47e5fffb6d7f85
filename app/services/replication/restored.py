"""Noticing a server restored from a backup older than what this site has seen, and re-syncing.

After such a restore the server has lost what this site pushed after the backup was taken (its
outbox rows were cleared on the receipt) and its pull cursor may point past the server's history:
xids are reused from the backup's point on, so rows written after the restore could be skipped.
A site notices at the start of a sync, from what it remembers of the server:

* its cursor is beyond every transaction id the server has handed out (a restore into a new cluster);
* the cursor the server holds for it (``depot_site``, reported after pulls) is older than the one it
  last reported, or gone;
* the receipt of its newest pushed batch is gone (``server purge`` always keeps a site's newest;
  checked only under the login that pushed it: receipts are per login).

Then it re-syncs, losing nothing: every row of its own branch here (and the master rows it edited)
goes back into the outbox (pushes are idempotent: ledgers insert once, versions keep the newest
HLC), and its cursor goes back to the one the restored server holds for it (0 when none: a full
re-read, applied as upserts over what is here).
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Engine, text

from app.models.base import MASTER
from app.models.types import id_bytes
from app.services.replication.conn import set_state_sql
from app.services.replication.tables import sync_tables


def server_was_restored(engine: Engine, pg: psycopg.Connection[Any], site_id: str) -> str:
    """Why the server looks older than this site's knowledge of it ('' when it does not)."""
    with engine.connect() as c:
        local = {str(k): str(v) for k, v in c.execute(text(
            "SELECT key, value FROM sync_state WHERE key IN ('cursor', 'reported_cursor', 'last_receipt')")).all()}
    return restored_since(pg, site_id, local)


def restored_since(pg: psycopg.Connection[Any], site_id: str, local: dict[str, str]) -> str:
    """``server_was_restored`` from the site's ``cursor``, ``reported_cursor`` and ``last_receipt``
    (its server statement; the bench's replay sends it from a simulated site's state)."""
    cursor = int(local.get("cursor") or 0)
    reported = int(local.get("reported_cursor") or 0)
    login, _sp, receipt = (local.get("last_receipt") or "").rpartition(" ")  # 'login seq'
    if not cursor and not reported and not receipt:
        return ""
    with pg.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint, "
                    "(SELECT cursor::text::bigint FROM depot_site WHERE site_id = %s), "
                    "%s = '' OR %s IS DISTINCT FROM current_user::text OR EXISTS (SELECT 1 FROM depot_receipt "
                    "WHERE login = current_user AND site_id = %s AND first_seq = NULLIF(%s, '')::bigint)",
                    (site_id, receipt, login, site_id, receipt))
        row = cur.fetchone()
    pg.rollback()
    assert row is not None
    xmax, held, receipt_there = int(row[0]), (int(row[1]) if row[1] is not None else None), bool(row[2])
    if cursor > xmax:
        return f"this site's cursor ({cursor}) is beyond the server's newest transaction ({xmax})"
    if reported and (held is None or held < reported):
        return f"the server holds an older cursor for this site ({held or 'none'}) than it reported ({reported})"
    if not receipt_there:
        return f"the receipt of this site's last pushed batch (from seq {receipt}) is gone"
    return ""


def resync(engine: Engine, pg: psycopg.Connection[Any], site_id: str, branch_id: str | None) -> int:
    """Queue this branch's rows (and the master rows this site edited) for pushing again and move the
    cursor back to the restored server's record of this site. Returns how many rows were queued."""
    with pg.cursor() as cur:
        cur.execute("SELECT cursor::text, snapshot::text FROM depot_site WHERE site_id = %s", (site_id,))
        row = cur.fetchone()
    pg.rollback()
    cursor, snapshot = (str(row[0]), str(row[1] or "")) if row and row[0] is not None else ("0", "")
    queued = 0
    params: dict[str, object]
    with engine.begin() as c:
        for t in sync_tables().values():
            if t.sync == MASTER:
                if not branch_id:
                    continue
                where, params = "hlc_site = :site", {"site": site_id}
            elif branch_id:
                where, params = "owner_branch_id = :b", {"b": id_bytes(branch_id)}
            else:  # a file with no branch (an owner's bootstrap) owns every row it holds
                where, params = "1 = 1", {}
            r = c.execute(text(
                f"INSERT INTO sync_outbox (tbl, row_id, op, changed_at) SELECT '{t.name}', lower(hex(id)), 'U', "
                f"strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM \"{t.name}\" WHERE {where} "
                f"AND lower(hex(id)) NOT IN (SELECT row_id FROM sync_outbox WHERE tbl = '{t.name}')"), params)
            queued += r.rowcount or 0
        set_state_sql(c, {"cursor": cursor, "snapshot": snapshot, "own_txids": "", "reported_at": "",
                          "reported_cursor": "", "last_receipt": ""})
    return queued
