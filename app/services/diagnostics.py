""""Copy diagnostics": what a support person asks first, as text a user can paste into an e-mail.

Version, platform, the database (path, size, schema, whether it is current), this workstation's site,
branch and workstation number, the sync state, the last backup and the backup folder, the folders
in use, and the last warnings of the log and the newest internal-error reports. Never a secret: the
server address is shown without its password, no keyring value is read, and the text goes through
the log's redaction once more.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from app import version_line
from app.models.types import hex_of
from app.services import backup, crashlog, logfile, schema
from app.services.paths import user_config_dir, user_data_dir
from app.services.replication.conn import redact as redact_dsn
from app.services.replication.engine import status as sync_status


def _db_facts(engine: Engine) -> list[str]:
    path = Path(str(engine.url.database))
    out = [f"database: {path}"]
    try:
        out.append(f"database size: {path.stat().st_size / 1e6:.1f} MB")
    except OSError as e:
        out.append(f"database size: unknown ({e.strerror})")
    try:
        heads = schema.db_heads(engine)
        try:
            schema.check_current(engine)
            current = "current"
        except Exception as e:  # noqa: BLE001 - the sentence is what we want to show
            current = str(e)
        out.append(f"schema: {', '.join(sorted(heads)) or 'none'} ({current})")
        with engine.connect() as c:
            site = c.execute(text("SELECT s.site_id, b.code FROM local_site s LEFT JOIN branch b ON b.id = s.branch_id "
                                  "WHERE s.id = 1")).first()
            state: dict[str, str] = dict(c.execute(text("SELECT key, value FROM sync_state WHERE key IN "
                                        "('workstation', 'restored_from', 'restored_at')")).all())
        out.append(f"site: {hex_of(site[0]) if site else 'not yet'}; branch: {(site[1] if site else '') or 'not set'}; "
                   f"workstation: {state.get('workstation', '1')}")
        if state.get("restored_from"):
            out.append(f"restored: from {state['restored_from']} at {state.get('restored_at', '?')}")
        st = sync_status(engine)
        out.append(f"sync: {st.line()}; server: {redact_dsn(st.server) if st.server else 'none'}; "
                   f"conflicts logged: {st.conflicts}")
    except Exception as e:  # noqa: BLE001 - a damaged file still gives the rest of the report
        out.append(f"database could not be read: {type(e).__name__}: {e}")
    return out


def report(engine: Engine | None, settings: Any = None, *, extra: dict[str, str] | None = None) -> str:
    """The diagnostics as plain text (``extra``: lines the caller knows, e.g. the Qt version)."""
    lines = [version_line(),
             f"python {sys.version.split()[0]} on {platform.platform()}",
             *(f"{k}: {v}" for k, v in (extra or {}).items())]
    if engine is not None:
        lines += _db_facts(engine)
    last = settings.get("backup.last") if settings is not None else None
    lines.append(f"backup folder: {backup.folder_from(settings)}")
    lines.append(f"last backup: {last.get('line', '?')} ({last.get('at', '?')})" if isinstance(last, dict)
                 else "last backup: none recorded")
    lines += [f"data folder: {user_data_dir()}", f"settings folder: {user_config_dir()}",
              f"log file: {logfile.log_path()}"]
    problems = logfile.recent_problems(15)
    lines.append("last warnings and errors:" if problems else "last warnings and errors: none")
    lines += [f"  {p}" for p in problems]
    reports = sorted(crashlog.log_dir().glob("internal-error-*.txt"))[-5:]
    lines.append("internal-error reports: " + (", ".join(p.name for p in reports) if reports else "none"))
    return logfile.redact("\n".join(lines)) + "\n"
