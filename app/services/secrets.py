"""Where secrets live: the OS keyring, or, on a machine without one, a fallback the user chose.

A stock Linux desktop without a Secret Service, a server or a container has the ``keyring``
package but no backend: every call raises ``NoKeyringError``. Depot detects that once
(``os_keyring()``) and then keeps secrets, as the user chooses:

* in Depot's **encrypted file** (``secrets.enc`` in the config dir; scrypt-derived key, Fernet
  from the ``cryptography`` package), unlocked by a passphrase typed once per session (Settings >
  General) or given as ``DEPOT_SECRETS_PASSPHRASE`` to the command line and background jobs; or
* for **this session only** (in memory; asked for again next time).

Until one is chosen, reading a secret finds none and storing one is refused with a sentence that
says what to do; nothing is written. Why not ``keyrings.cryptfile``: it registers itself as a
keyring backend (so every keyring user on the machine would start prompting on a terminal), has
not been released since 2022, and derives its key on every read.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.services.errors import DomainError
from app.services.paths import user_config_dir

SERVICE = "depot"
PASSPHRASE_ENV = "DEPOT_SECRETS_PASSPHRASE"
FILE_NAME = "secrets.enc"
_CHECK = b"depot secrets file"


class SecretStoreError(DomainError):
    """No place to keep a secret (or the one there refused); the text says what to do."""


class Store(Protocol):
    kind: str

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class MemoryStore:
    """A dict for the process: tests (DEPOT_KEYRING=memory) and the "this session only" choice."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        with self._lock:
            self._values[name] = value

    def delete(self, name: str) -> None:
        with self._lock:
            self._values.pop(name, None)


class OsKeyring:
    """The ``keyring`` package's backend; its errors become one sentence."""

    kind = "os"

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def _call(self, what: str, fn: Any, *args: str) -> Any:
        from keyring.errors import KeyringError

        try:
            return fn(SERVICE, *args)
        except KeyringError as e:
            raise SecretStoreError(f"the system keyring refused to {what} ({type(e).__name__}: {e}); "
                                   "unlock it, or keep Depot's secrets in its encrypted file (Settings > General)") from None

    def get(self, name: str) -> str | None:
        value = self._call(f"read {name}", self.backend.get_password, name)
        return str(value) if value is not None else None

    def set(self, name: str, value: str) -> None:
        self._call(f"store {name}", self.backend.set_password, name, value)

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._call(f"delete {name}", self.backend.delete_password, name)
        except SecretStoreError:
            pass  # absent, or a refusal: deleting is best effort
        except PasswordDeleteError:
            pass


class EncryptedFileStore:
    """Secrets in one JSON file, each value a Fernet token under a key derived (scrypt) from a passphrase."""

    kind = "file"

    def __init__(self, path: Path, passphrase: str) -> None:
        if not passphrase:
            raise SecretStoreError("the passphrase of Depot's secrets file is empty")
        self.path = path
        self._lock = threading.Lock()
        data = self._read()
        if data is None:
            salt = os.urandom(16)
            self._fernet = self._derive(passphrase, salt)
            self._data: dict[str, Any] = {"salt": base64.b64encode(salt).decode(), "secrets": {},
                                          "check": self._fernet.encrypt(_CHECK).decode()}
        else:
            self._data = data
            self._fernet = self._derive(passphrase, base64.b64decode(data["salt"]))
            from cryptography.fernet import InvalidToken

            try:
                ok = self._fernet.decrypt(str(data["check"]).encode()) == _CHECK
            except InvalidToken:
                ok = False
            if not ok:
                raise SecretStoreError(f"that passphrase does not open {path}: nothing was read or stored")

    @staticmethod
    def _derive(passphrase: str, salt: bytes) -> Any:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        key = Scrypt(salt=salt, length=32, n=2 ** 15, r=8, p=1).derive(passphrase.encode())
        return Fernet(base64.urlsafe_b64encode(key))

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise SecretStoreError(f"Depot's secrets file {self.path} cannot be read ({e}); move it away to start "
                                   "a new one") from None
        if not isinstance(data, dict) or not {"salt", "check", "secrets"} <= set(data):
            raise SecretStoreError(f"{self.path} is not a Depot secrets file; move it away to start a new one")
        return data

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def get(self, name: str) -> str | None:
        with self._lock:
            token = self._data["secrets"].get(name)
            return self._fernet.decrypt(token.encode()).decode() if token else None

    def set(self, name: str, value: str) -> None:
        with self._lock:
            self._data["secrets"][name] = self._fernet.encrypt(value.encode()).decode()
            self._write()

    def delete(self, name: str) -> None:
        with self._lock:
            if self._data["secrets"].pop(name, None) is not None:
                self._write()


class NoStore:
    """No OS keyring and no fallback chosen yet: nothing is found, nothing can be stored."""

    kind = "none"

    def get(self, name: str) -> str | None:
        return None

    def set(self, name: str, value: str) -> None:
        raise SecretStoreError(NO_KEYRING + f": {name} was not stored. Choose where Depot keeps secrets in Settings > "
                               f"General (an encrypted file with a passphrase, or this session only), or set "
                               f"{PASSPHRASE_ENV} for the command line")

    def delete(self, name: str) -> None:
        return None


NO_KEYRING = "this machine has no system keyring (no Secret Service, Keychain or Credential Manager)"


def os_keyring() -> Any | None:
    """The OS keyring backend, or None when the ``keyring`` package finds none that works."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


@dataclass(frozen=True)
class StoreStatus:
    kind: str  # os | file | session | memory | none
    text: str  # one sentence for the Settings page and `depot` commands
    file: str = ""


_state: dict[str, Any] = {}
_state_lock = threading.Lock()
_TEST_MEMORY = MemoryStore("memory")


def file_path() -> Path:
    return user_config_dir() / FILE_NAME


def current() -> Store:
    """The store secrets go to now (see the module doc for the order)."""
    if os.environ.get("DEPOT_KEYRING") == "memory":
        return _TEST_MEMORY
    with _state_lock:
        chosen = _state.get("store")
        if chosen is not None and _state.get("path") == str(file_path()):
            return chosen  # type: ignore[no-any-return]
    backend = os_keyring()
    if backend is not None:
        return OsKeyring(backend)
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        return unlock_file(passphrase)
    return NoStore()


def unlock_file(passphrase: str) -> EncryptedFileStore:
    """Open (or create) Depot's encrypted secrets file with ``passphrase`` for the rest of this session."""
    store = EncryptedFileStore(file_path(), passphrase)
    with _state_lock:
        _state.update(store=store, path=str(file_path()))
    return store


def use_session_only() -> MemoryStore:
    """Keep secrets in memory for this session (they are asked for again next time)."""
    store = MemoryStore("session")
    with _state_lock:
        _state.update(store=store, path=str(file_path()))
    return store


def forget_choice() -> None:
    """Back to detection (tests; a user who locks the file again)."""
    with _state_lock:
        _state.clear()


def status() -> StoreStatus:
    store = current()
    if store.kind == "memory":
        return StoreStatus("memory", "Secrets are kept in memory for tests (DEPOT_KEYRING=memory).")
    if isinstance(store, OsKeyring):
        name = type(store.backend).__name__
        mod = type(store.backend).__module__.split(".")[-1]
        return StoreStatus("os", f"Secrets are kept in the system keyring ({mod} {name}).")
    path = str(file_path())
    if store.kind == "file":
        return StoreStatus("file", f"No system keyring on this machine: secrets are kept in Depot's encrypted file "
                                   f"{path} (unlocked for this session).", path)
    if store.kind == "session":
        return StoreStatus("session", "No system keyring on this machine: secrets are kept for this session only "
                                      "and asked for again next time.", path)
    exists = Path(path).exists()
    return StoreStatus("none", ("No system keyring on this machine: " +
                                (f"unlock Depot's encrypted secrets file {path} with its passphrase"
                                 if exists else "choose where Depot keeps secrets: an encrypted file with a passphrase, "
                                 "or this session only") + "."), path)
