"""``Sandbox``: a ThreadingHTTPServer on loopback that answers like UPS, FedEx, DHL and USPS.

Paths, auth and error envelopes are the carriers' own: OAuth token endpoints (UPS Basic auth,
FedEx form, USPS JSON), Bearer tokens that expire (``/sandbox/expire-tokens`` forces it mid-run),
DHL's API key header, per-client rate limits answered with 429 + Retry-After, and "not found" as
a 200 (UPS, FedEx) or a 404 problem (DHL). ``/sandbox/*`` are control endpoints for tests and
demos (status, faults, limits). The routes live in ``routes``; this module is the server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.services.carriers.sandbox import routes, routes_more  # noqa: F401 - routes_more registers the other carriers
from app.services.carriers.sandbox.state import FAULT_KINDS as FAULT_KINDS
from app.services.carriers.sandbox.state import Answer as Answer
from app.services.carriers.sandbox.state import State, js

#: the client secret (and DHL API key) the sandbox accepts unless told otherwise; public by design
DEMO_SECRET = "sandbox-demo-secret"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: a sandbox serving thousands of calls must not flood the terminal

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The answer's Date header is the sandbox world's clock, as a carrier's is its own (the poller
        compares event times with it: app.services.tracking.ingest.FUTURE_ALLOWANCE)."""
        if timestamp is None:
            timestamp = self.server.state.world.now().timestamp()
        return email.utils.formatdate(timestamp, usegmt=True)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body()
        state = self.server.state
        route = routes.match(method, url.path)
        if route is None:
            self._send(js(404, {"title": "Not Found", "status": 404, "detail": f"no route {method} {url.path}"}))
            return
        name, fn, params = route
        state.count(name)
        if not name.startswith("sandbox"):
            kind = state.fault()
            if kind is not None and self._fault(kind, name):
                return
        req = routes.Request(method, url.path, parse_qs(url.query), dict(self.headers.items()), body, params, state)
        try:
            answer = fn(req)
        except Exception as e:  # noqa: BLE001 - a sandbox bug answers 500 like a carrier would
            answer = js(500, {"title": "Internal Server Error", "status": 500, "detail": type(e).__name__})
        self._send(answer)

    def _fault(self, kind: str, route: str) -> bool:
        """Misbehave; True when the answer was (not) sent and the request is done."""
        state = self.server.state
        if kind == "slow":
            time.sleep(state.slow_seconds)
            return False
        if kind == "reset":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return True
        if kind == "garbage":
            self._send(Answer(200, b'{"output": {"completeTrackResults": [{"trackingNumber": "1Z\x00\xff\xfe'))
        elif kind == "html":
            self._send(Answer(200, b"<html><head><title>Maintenance</title></head><body><h1>We'll be right back"
                                   b"</h1><p>Scheduled maintenance.</p></body></html>", "text/html"))
        elif kind == "html502":
            self._send(Answer(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"))
        elif kind == "429":
            self._send(js(429, {"title": "Too many requests", "status": 429, "detail": "Too many requests"},
                          **{"Retry-After": "2"}))
        elif kind == "500":
            self._send(js(503, {"errors": [{"code": "SERVICE.UNAVAILABLE.ERROR",
                                            "message": "The service is currently unavailable."}]}))
        elif kind == "truncated":
            body = json.dumps({"output": {"completeTrackResults": [{"trackingNumber": "x" * 200}]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        return True

    def _send(self, a: Answer) -> None:
        self.send_response(a.status)
        self.send_header("Content-Type", a.content_type)
        self.send_header("Content-Length", str(len(a.body)))
        for k, v in a.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(a.body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr: tuple[str, int], state: State) -> None:
        self.state = state
        self.open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(addr, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Drop kept-alive connections too: a stopped sandbox answers nobody."""
        with self._sockets_lock:
            socks = list(self.open_sockets)
            self.open_sockets.clear()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timeout, reset) is ordinary here; anything else is printed."""
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """Start/stop a sandbox in this process: ``with Sandbox() as sb: ... sb.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, speed: float = 60.0, secret: str = DEMO_SECRET,
                 token_ttl: float = 3600.0, per_minute: int = 60_000, fault_rate: float = 0.0,
                 slow_seconds: float = 3.0, seed: int | None = None, epoch: dt.datetime | None = None) -> None:
        self.host, self.port = host, port
        self.state = State(speed, secret, token_ttl, per_minute, fault_rate, slow_seconds, seed, epoch)
        self.httpd: SandboxHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None, "start() the sandbox first"
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    def start(self) -> Sandbox:
        self.httpd = SandboxHTTPServer((self.host, self.port), self.state)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="carrier-sandbox", daemon=True)
        self.thread.start()
        return self

    def wait(self) -> None:
        while self.thread is not None and self.thread.is_alive():
            self.thread.join(0.5)

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.close_all()
            self.httpd = None

    def force_faults(self, *kinds: str) -> None:
        with self.state.lock:
            self.state.forced.extend(kinds)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
