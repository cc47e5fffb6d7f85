"""User settings without Qt: a small JSON file for plain values, the keyring for secrets.

Secrets (carrier client secrets, server and SMTP passwords) are never written to this file or
the database: they go to the OS keyring under service "depot", or, on a machine without one, to
the fallback the user chose (``app.services.secrets``). With ``DEPOT_KEYRING=memory`` an
in-process store is used, so tests never touch a developer's real keyring.
The JSON file lives in the user config dir (``DEPOT_CONFIG_DIR`` overrides it).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.sync import LocalSite
from app.services import secrets
from app.services.audit import record
from app.services.auth import Actor
from app.services.db import local_branch_id, site_id
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.paths import user_config_dir, user_data_dir

KEYRING_SERVICE = secrets.SERVICE
__all__ = ["user_config_dir", "user_data_dir"]  # where they used to live; app.services.paths now
_SECRET_WORDS = ("secret", "password", "token", "api_key")


def is_secret_key(key: str) -> bool:
    return any(w in key.lower() for w in _SECRET_WORDS)


@dataclass(frozen=True)
class CarrierAccount:
    """One carrier account; the secret itself is only in the keyring."""

    carrier: str
    account_id: str
    client_id: str = ""

    @property
    def secret_name(self) -> str:
        return f"carrier:{self.carrier}:{self.account_id}:secret"


class Settings:
    """Plain values in ``settings.json``; secrets in the keyring. Thread-safe, small, no Qt.

    Keys are dotted strings ("db.path", "server.dsn"). ``set`` refuses a secret-looking key:
    use ``set_secret`` for those, so a secret can never land in the file by mistake.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (user_config_dir() / "settings.json")
        self._lock = threading.RLock()
        self._values: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged settings file must not stop the app; it is rewritten on save
        return data if isinstance(data, dict) else {}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._values, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if is_secret_key(key):
            raise ValidationError(key, "is a secret; it is kept in the keyring (use set_secret)")
        try:
            json.dumps(value)
        except TypeError:
            raise ValidationError(key, "must be text, a number, a list or a mapping") from None
        with self._lock:
            self._values[key] = value
            self._save()

    def remove(self, key: str) -> None:
        with self._lock:
            if self._values.pop(key, None) is not None:
                self._save()

    # secrets -----------------------------------------------------------------------------
    # They go to ``app.services.secrets.current()``: the OS keyring, or on a machine without one
    # the encrypted file or session store the user chose; with neither, storing is refused with a
    # sentence (SecretStoreError) and reading finds nothing.
    def set_secret(self, name: str, value: str) -> None:
        if value:
            secrets.current().set(name, value)
        else:
            self.delete_secret(name)

    def get_secret(self, name: str) -> str | None:
        return secrets.current().get(name)

    def delete_secret(self, name: str) -> None:
        secrets.current().delete(name)

    def secret_store(self) -> secrets.StoreStatus:
        """Where secrets are kept now, as one sentence (shown on Settings > General)."""
        return secrets.status()

    # carrier accounts ------------------------------------------------------------------
    def carrier_accounts(self) -> list[CarrierAccount]:
        raw = self.get("carrier.accounts", [])
        return [CarrierAccount(**{k: str(v) for k, v in a.items()}) for a in raw if isinstance(a, dict)]

    def save_carrier_account(self, account: CarrierAccount, secret: str | None = None) -> None:
        """Add or replace an account; ``secret=None`` keeps the stored one, "" deletes it."""
        carrier = account.carrier.strip().upper()
        acct = account.account_id.strip()
        if not carrier:
            raise ValidationError("carrier", "is required")
        if not acct:
            raise ValidationError("account id", "is required")
        account = CarrierAccount(carrier, acct, account.client_id.strip())
        others = [a for a in self.carrier_accounts() if (a.carrier, a.account_id) != (carrier, acct)]
        if secret is not None:
            self.set_secret(account.secret_name, secret)
        self.set("carrier.accounts", [asdict(a) for a in [*others, account]])

    def delete_carrier_account(self, carrier: str, account_id: str) -> None:
        keep = [a for a in self.carrier_accounts() if (a.carrier, a.account_id) != (carrier, account_id)]
        self.delete_secret(CarrierAccount(carrier, account_id).secret_name)
        self.set("carrier.accounts", [asdict(a) for a in keep])

    def carrier_secret(self, carrier: str, account_id: str) -> str | None:
        return self.get_secret(CarrierAccount(carrier, account_id).secret_name)


# this database's branch (local_site) ------------------------------------------------------
@dataclass(frozen=True)
class BranchChoice:
    id: uuid.UUID
    code: str
    name: str


def branch_choices(session: Session) -> list[BranchChoice]:
    q = select(Branch.id, Branch.code, Branch.name).where(Branch.deleted_at.is_(None)).order_by(Branch.code)
    return [BranchChoice(i, c, n) for i, c, n in session.execute(q)]


def local_branch(session: Session) -> BranchChoice | None:
    """The branch this database file belongs to (local_site.branch_id), if set."""
    bid = local_branch_id(session)
    if bid is None:
        return None
    row = session.execute(select(Branch.id, Branch.code, Branch.name).where(Branch.id == bid)).first()
    return BranchChoice(row.id, row.code, row.name) if row else None


BRANCH_FROM_LOGIN = ("this workstation replicates with a server, so its branch is its server login's branch; "
                     "to work as another branch, use a database file synced with that branch's login")


def branch_fixed_reason(session: Session) -> str:
    """Why this file's branch cannot be changed here ('' when it can): once the file has synced
    (it has a pull cursor), its branch and its rows are its server login's. Before the first sync
    an admin may still choose it (a site with no branch adopts the login's at that sync)."""
    synced = session.scalar(text("SELECT 1 FROM sync_state WHERE key = 'cursor' LIMIT 1")) is not None
    return BRANCH_FROM_LOGIN if synced else ""


def set_local_branch(session: Session, actor: Actor, branch_id: uuid.UUID) -> BranchChoice:
    """Make this database file the given branch's (admin only; audited).

    Refused on a site that has synced: its branch is its server login's, and a different one here
    would make every later write belong to a branch the login is not (refused at push)."""
    actor.require("settings.edit")
    reason = branch_fixed_reason(session)
    if reason:
        raise PermissionDenied(reason)
    row = session.execute(
        select(Branch.id, Branch.code, Branch.name).where(Branch.id == branch_id, Branch.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound("branch", branch_id)
    site_id(session)  # make sure the local_site row exists
    site = session.get(LocalSite, 1)
    assert site is not None
    before = site.branch_id
    site.branch_id = branch_id
    record(session, actor, "settings.branch", "branch", branch_id, branch_id,
           before=str(before) if before else None, after=str(branch_id))
    session.flush()
    return BranchChoice(row.id, row.code, row.name)
