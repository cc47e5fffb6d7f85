"""Per-account pacing: a token bucket (requests per minute, a burst), a daily quota, and a
"blocked until" set from a carrier's Retry-After. The state survives a restart through a store
(``carrier_limit_state``, a local-only table), so a restart neither refills the bucket nor forgets
today's count or a carrier's back-off.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass
class LimitState:
    tokens: float
    updated: float          # wall clock (time.time()) of the last refill
    day: str                # UTC date of used_today
    used_today: int
    blocked_until: float    # wall clock; 0 = not blocked


class LimitStore(Protocol):
    def load(self, account_id: str) -> LimitState | None: ...

    def save(self, account_id: str, state: LimitState) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self.states: dict[str, LimitState] = {}

    def load(self, account_id: str) -> LimitState | None:
        st = self.states.get(account_id)
        return LimitState(**vars(st)) if st else None

    def save(self, account_id: str, state: LimitState) -> None:
        self.states[account_id] = LimitState(**vars(state))


def _today(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()


def seconds_to_midnight(now: float) -> float:
    t = dt.datetime.fromtimestamp(now, dt.UTC)
    nxt = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time(0), dt.UTC)
    return (nxt - t).total_seconds()


class RateLimiter:
    """Thread-safe pacing for one account. ``acquire`` returns 0 when a request may go now, else
    how many seconds to wait (the caller sleeps or reports rate_limited with that retry_after)."""

    def __init__(self, account_id: str, per_minute: int, burst: int | None = None, daily_quota: int = 0,
                 store: LimitStore | None = None, flush_every: float = 1.0) -> None:
        self.account_id = account_id
        self.rate = max(per_minute, 1) / 60.0
        self.capacity = float(burst if burst else max(1, min(per_minute, 10)))
        self.daily_quota = daily_quota
        self.store = store
        self.flush_every = flush_every
        self._lock = threading.Lock()
        now = time.time()
        loaded = store.load(account_id) if store else None
        self.state = loaded or LimitState(self.capacity, now, _today(now), 0, 0.0)
        self.state.tokens = min(self.state.tokens, self.capacity)
        self._flushed = now

    def _refill(self, now: float) -> None:
        st = self.state
        if now > st.updated:
            st.tokens = min(self.capacity, st.tokens + (now - st.updated) * self.rate)
            st.updated = now
        day = _today(now)
        if day != st.day:
            st.day, st.used_today = day, 0

    def acquire(self, n: int = 1) -> float:
        with self._lock:
            now = time.time()
            self._refill(now)
            st = self.state
            if st.blocked_until > now:
                return st.blocked_until - now
            if self.daily_quota and st.used_today + n > self.daily_quota:
                return seconds_to_midnight(now)
            if st.tokens >= 1.0:
                st.tokens -= 1.0
                st.used_today += n
                self._maybe_flush(now)
                return 0.0
            return (1.0 - st.tokens) / self.rate

    def quota_left(self) -> int | None:
        with self._lock:
            self._refill(time.time())
            return None if not self.daily_quota else max(0, self.daily_quota - self.state.used_today)

    def block(self, seconds: float) -> None:
        """The carrier said 429 (Retry-After): nobody on this account calls before then."""
        with self._lock:
            now = time.time()
            self.state.blocked_until = max(self.state.blocked_until, now + max(seconds, 0.0))
            self.state.tokens = 0.0
            self._flush(now)

    def _maybe_flush(self, now: float) -> None:
        if self.store is not None and now - self._flushed >= self.flush_every:
            self._flush(now)

    def _flush(self, now: float) -> None:
        if self.store is not None:
            self.store.save(self.account_id, self.state)
            self._flushed = now

    def flush(self) -> None:
        with self._lock:
            self._flush(time.time())
