"""The sandbox's shared state and answers: what the routes read and the HTTP server sends.

Its own module so the routes (which answer) and the server (which dispatches to them) do not
import each other.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets as pysecrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.services.carriers.sandbox.world import World

FAULT_KINDS = ("garbage", "html", "html502", "truncated", "reset", "slow", "429", "500")


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def js(status: int, data: Any, **headers: str) -> Answer:
    return Answer(status, json.dumps(data).encode(), "application/json", dict(headers))


@dataclass
class Bucket:
    tokens: float
    at: float


class State:
    """Everything the sandbox remembers (thread-safe)."""

    def __init__(self, speed: float, secret: str, token_ttl: float, per_minute: int, fault_rate: float,
                 slow_seconds: float, seed: int | None, epoch: dt.datetime | None = None) -> None:
        # an epoch (when this world began, real time) makes a restarted sandbox tell the same
        # stories at the same times, as a real carrier does after its servers restart
        self.world = World(speed=speed) if epoch is None else \
            World(speed=speed, started=epoch.astimezone(dt.UTC).replace(microsecond=0),
                  started_real=epoch.replace(microsecond=0).timestamp())
        self.secret = secret
        self.token_ttl = token_ttl
        self.per_minute = per_minute
        self.fault_rate = fault_rate
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.slow_seconds = slow_seconds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.tokens: dict[str, tuple[str, str, float]] = {}  # token -> (carrier, client, expires)
        self.buckets: dict[str, Bucket] = {}
        self.forced: list[str] = []
        self.requests = 0
        self.counts: dict[str, int] = {}

    def issue_token(self, carrier: str, client: str) -> tuple[str, int]:
        tok = pysecrets.token_urlsafe(24)
        with self.lock:
            self.tokens[tok] = (carrier, client, time.time() + self.token_ttl)
        return tok, int(self.token_ttl)

    def check_token(self, carrier: str, header: str) -> str | None:
        """The client id of a live token of this carrier, or None."""
        tok = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with self.lock:
            got = self.tokens.get(tok)
        if got is None or got[0] != carrier or got[2] < time.time():
            return None
        return got[1]

    def expire_tokens(self) -> int:
        with self.lock:
            n = len(self.tokens)
            self.tokens = {t: (c, k, 0.0) for t, (c, k, _e) in self.tokens.items()}
            return n

    def take(self, client: str) -> float:
        """0 when this client may call now, else the seconds until it may (its Retry-After)."""
        rate = self.per_minute / 60.0
        cap = max(1.0, min(float(self.per_minute), 50.0))
        now = time.monotonic()
        with self.lock:
            b = self.buckets.setdefault(client, Bucket(cap, now))
            b.tokens = min(cap, b.tokens + (now - b.at) * rate)
            b.at = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / rate

    def fault(self) -> str | None:
        with self.lock:
            if self.forced:
                return self.forced.pop(0)
            if self.fault_rate and self.rng.random() < self.fault_rate:
                return self.rng.choice(self.fault_kinds)
        return None

    def count(self, route: str) -> None:
        with self.lock:
            self.requests += 1
            self.counts[route] = self.counts.get(route, 0) + 1
