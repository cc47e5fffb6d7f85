"""Fault injection for the crash tests: ``DEPOT_SYNC_FAULT=<point>`` SIGKILLs this process there.

The points are the two places where a crash matters most: right after the server committed
a batch but before the outbox was cleared ("after-push-commit"), and in the middle of
applying pulled rows ("during-apply"), and in the middle of a bulk load, while indexes and
triggers are set aside ("during-bulk-load"). Unset in normal use, so it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal


def fault(point: str) -> None:
    if os.environ.get("DEPOT_SYNC_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
