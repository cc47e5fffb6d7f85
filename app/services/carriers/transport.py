"""HTTP for the adapters: one pooled ``requests.Session``, timeouts, failures as outcomes, OAuth
tokens cached per account behind one lock, and secret redaction for every message.

A network failure never raises out of here: ``send`` returns a ``Raw`` answer or a ``Reply``
with the outcome (timeout and reset are transient, a truncated body is malformed).
"""

from __future__ import annotations

import functools
import http.client
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import requests
from requests.adapters import HTTPAdapter

from app.services.carriers.model import Outcome, Reply

USER_AGENT = "Depot/0.1 (+carrier adapters)"
DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read (seconds)


@dataclass
class Raw:
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float = 0.0


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Remove every secret (and any bearer token) from a message before it is shown or logged."""
    for sec in secrets:
        if sec and len(sec) >= 3:
            text = text.replace(sec, "***")
    return text


_session_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}


def shared_session(pool: int = 16) -> requests.Session:
    """One pooled session per process (keep-alive to each carrier host); urllib3's pool is thread-safe."""
    with _session_lock:
        sess = _sessions.get(pool)
        if sess is None:
            sess = requests.Session()
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool, max_retries=0)
            sess.mount("http://", adapter)
            sess.mount("https://", adapter)
            sess.headers["User-Agent"] = USER_AGENT
            sess.trust_env = False  # a carrier call never goes through a desktop's proxy settings by surprise
            _sessions[pool] = sess
        return sess


def send(method: str, url: str, *, session: requests.Session | None = None,
         timeout: tuple[float, float] = DEFAULT_TIMEOUT, secrets: Iterable[str | None] = (),
         **kwargs: Any) -> Raw | Reply:
    started = time.monotonic()
    host = url.split("/")[2] if "://" in url else url
    secrets = list(secrets)
    if session is None and method == "GET" and kwargs.keys() <= {"headers", "params"}:
        # the tracking calls (one number a request for UPS, DHL, USPS): straight over a kept-alive
        # http.client connection; requests' per-call machinery cost ~0.5 ms CPU a request
        return _plain_get(url, host, kwargs.get("headers"), kwargs.get("params"), timeout, started)
    sess = session or shared_session()
    try:
        try:
            r = sess.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        except requests.ConnectionError as e:
            # a kept-alive connection the server closed meanwhile: once more on a fresh one, for
            # requests that are safe to repeat (never a label purchase)
            if method not in ("GET", "PUT", "DELETE", "HEAD") or "RemoteDisconnected" not in str(e):
                raise
            r = sess.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        body = r.content  # reads the whole body: a short one raises here
    except requests.Timeout:
        return Reply(Outcome.TRANSIENT, f"{host} did not answer within {timeout[1]:g} s (timeout)")
    except requests.exceptions.ChunkedEncodingError as e:
        return Reply(Outcome.MALFORMED, redact(f"{host} cut the answer short (truncated body: {_short(e)})", secrets))
    except requests.exceptions.ContentDecodingError as e:
        return Reply(Outcome.MALFORMED, redact(f"{host} sent an unreadable body ({_short(e)})", secrets))
    except requests.ConnectionError as e:
        text = str(e)
        if "IncompleteRead" in text or "incomplete" in text.lower():
            return Reply(Outcome.MALFORMED, f"{host} cut the answer short (truncated body)")
        why = ("connection refused (is the service running?)" if "refused" in text.lower()
               else "connection reset by the server" if "reset" in text.lower() or "aborted" in text.lower()
               else "could not connect")
        return Reply(Outcome.TRANSIENT, f"{host}: {why}")
    except requests.RequestException as e:
        return Reply(Outcome.TRANSIENT, redact(f"{host}: {_short(e)}", secrets))
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > len(body) and method != "HEAD":
        return Reply(Outcome.MALFORMED, f"{host} cut the answer short ({len(body)} of {declared} bytes)")
    return Raw(r.status_code, dict(r.headers), body, time.monotonic() - started)


_BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "keep-alive"}
_idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
_idle_lock = threading.Lock()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """requests' trust store (certifi), so both paths accept the same certificates; made once."""
    return ssl.create_default_context(cafile=certifi.where())


def _connection(key: tuple[str, str, int], timeout: tuple[float, float]) -> tuple[http.client.HTTPConnection, bool]:
    """An idle kept-alive connection to the host (reused: True) or a new one."""
    while True:
        with _idle_lock:
            pool = _idle.get(key)
            conn = pool.pop() if pool else None
        if conn is None:
            break
        if conn.sock is None or select.select([conn.sock], [], [], 0)[0]:
            conn.close()  # the server closed it while idle (readable = at its end)
            continue
        _read_timeout(conn, timeout[1])
        return conn, True
    scheme, hostname, port = key
    if scheme == "https":
        return http.client.HTTPSConnection(hostname, port, timeout=timeout[0], context=_tls_context()), False
    return http.client.HTTPConnection(hostname, port, timeout=timeout[0]), False


def _read_timeout(conn: http.client.HTTPConnection, seconds: float) -> None:
    sock: Any = conn.sock
    if sock is not None:
        sock.settimeout(seconds)


def _give_back(key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
    with _idle_lock:
        pool = _idle.setdefault(key, [])
        if len(pool) < 16:
            pool.append(conn)
            return
    conn.close()


def _plain_get(url: str, host: str, headers: Mapping[str, str] | None, params: Mapping[str, str] | None,
               timeout: tuple[float, float], started: float) -> Raw | Reply:
    """A GET over a pooled keep-alive connection, with send()'s outcomes: a timeout or reset is
    transient, a short body malformed; a kept-alive connection the server closed meanwhile is
    tried once more on a fresh one (a GET is safe to repeat)."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    target = parts.path or "/"
    query = "&".join(q for q in (parts.query, urlencode(params) if params else "") if q)
    if query:
        target += "?" + query
    hdrs = dict(_BASE_HEADERS)
    if headers:
        hdrs.update(headers)
    for attempt in (1, 2):
        conn, reused = _connection(key, timeout)
        try:
            if conn.sock is None:
                conn.connect()  # within the connect timeout; then the read timeout for the answer
                _read_timeout(conn, timeout[1])
            conn.request("GET", target, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
        except TimeoutError:
            conn.close()
            return Reply(Outcome.TRANSIENT, f"{host} did not answer within {timeout[1]:g} s (timeout)")
        except http.client.IncompleteRead:
            conn.close()
            return Reply(Outcome.MALFORMED, f"{host} cut the answer short (truncated body: IncompleteRead)")
        except http.client.RemoteDisconnected:
            conn.close()
            if reused and attempt == 1:
                continue  # closed between our check and the request: once more on a fresh one
            return Reply(Outcome.TRANSIENT, f"{host}: connection reset by the server")
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            conn.close()
            return Reply(Outcome.TRANSIENT, f"{host}: connection reset by the server")
        except ConnectionRefusedError:
            conn.close()
            return Reply(Outcome.TRANSIENT, f"{host}: connection refused (is the service running?)")
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            return Reply(Outcome.TRANSIENT, f"{host}: could not connect ({_short(e)})")
        answer = dict(resp.getheaders())
        if resp.will_close:
            conn.close()
        else:
            _give_back(key, conn)
        return Raw(resp.status, answer, body, time.monotonic() - started)
    raise AssertionError("unreachable")


def _short(e: Exception) -> str:
    return type(e).__name__


@dataclass
class Token:
    value: str
    expires_at: float  # time.monotonic()


@dataclass
class TokenCache:
    """One OAuth token per account, refreshed behind one lock so concurrent callers share a fetch.

    ``fetch`` returns (token, lifetime seconds) or a Reply saying why there is none."""

    margin: float = 60.0
    _tokens: dict[str, Token] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    fetches: int = 0

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: str, fetch: Callable[[], tuple[str, float] | Reply]) -> str | Reply:
        with self._lock(key):
            tok = self._tokens.get(key)
            if tok is not None and tok.expires_at - self.margin > time.monotonic():
                return tok.value
            got = fetch()
            self.fetches += 1
            if isinstance(got, Reply):
                return got
            value, lifetime = got
            self._tokens[key] = Token(value, time.monotonic() + max(lifetime, self.margin + 1))
            return value

    def invalidate(self, key: str, value: str) -> None:
        """Drop the token a 401 came back for (only if no other thread replaced it already)."""
        with self._lock(key):
            tok = self._tokens.get(key)
            if tok is not None and tok.value == value:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


#: the process's token cache (tokens live in memory only, never on disk)
TOKENS = TokenCache()
