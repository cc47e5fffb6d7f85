"""UUIDv7 keys: time-ordered, born where the row is born, so branches never collide.

Python 3.11 has no uuid7(); this follows RFC 9562 section 5.7 with a monotonic
counter in rand_a so ids made in the same millisecond still sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    """Return a new UUIDv7 (48-bit unix ms, 12-bit counter, 62 random bits)."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = 0
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand
    return uuid.UUID(int=value)


def uuid7_time_ms(u: uuid.UUID) -> int:
    """The unix millisecond a UUIDv7 was made at."""
    return u.int >> 80
