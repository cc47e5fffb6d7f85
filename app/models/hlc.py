"""Hybrid logical clock: 48-bit wall milliseconds + 16-bit counter in one int64.

Orders writes across sites without trusting their clocks; ties break on site id.
The replication engine merges remote clocks with ``observe``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1
#: refuse remote clocks further ahead of our wall clock than this
MAX_SKEW_MS = 5 * 60 * 1000


class ClockSkewError(ValueError):
    pass


def pack(ms: int, counter: int) -> int:
    return (ms << COUNTER_BITS) | (counter & COUNTER_MASK)


def unpack(value: int) -> tuple[int, int]:
    return value >> COUNTER_BITS, value & COUNTER_MASK


class HLC:
    def __init__(self, wall_ms: Callable[[], int] | None = None) -> None:
        self._wall = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last = 0

    def now(self) -> int:
        """A new timestamp, strictly greater than every one issued or observed before."""
        with self._lock:
            wall = self._wall()
            last_ms, counter = unpack(self._last)
            if wall > last_ms:
                self._last = pack(wall, 0)
            elif counter < COUNTER_MASK:
                self._last = pack(last_ms, counter + 1)
            else:
                self._last = pack(last_ms + 1, 0)
            return self._last

    def observe(self, remote: int) -> int:
        """Merge a remote timestamp; refuse one too far in the future (a broken clock)."""
        with self._lock:
            wall = self._wall()
            r_ms, _ = unpack(remote)
            if r_ms - wall > MAX_SKEW_MS:
                raise ClockSkewError(f"remote clock is {(r_ms - wall) / 1000:.0f} s ahead of ours")
            if remote > self._last:
                self._last = remote
            return self._last


#: the process clock
clock = HLC()
