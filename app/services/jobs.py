"""Background jobs: what a workstation does on its own on a timer (deliver e-mail, sync with the
server, and next poll carriers), registered where each is defined and run by one runner.

Why a shape of their own: a job talks to the network, and SQLite has one writer. Network work is
done in three steps so the write lock is never held while waiting on a server::

    1. read what is due          a read transaction (never blocks a writer)
    2. talk to the network       no transaction open at all
    3. write the outcomes        one short write transaction

``three_step(due, talk, record)`` builds a job's ``run`` from those three functions (the e-mail
outbox writes its own the same way; sync keeps each of its transactions short too). A job is
registered with ``register(Job(...))`` in its own module (``wiring.load`` imports them all); the
window starts every registered job in one place (``app.views.background``), on the op runner's
I/O pool, never on its single writer, and ``depot`` commands run the same ``run``.

A carrier poller registers like this and needs nothing else::

    POLL = jobs.register(jobs.Job("carriers.poll", three_step(due_shipments, track, record_events),
                                  interval_s=60, kinds=(Change.SHIPMENT, Change.TRACKING), label="poll carriers"))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.db import session_scope

W = TypeVar("W")
O = TypeVar("O")  # noqa: E741 - the outcome of the network step
R = TypeVar("R")


def _always(_settings: Any) -> bool:
    return True


@dataclass(frozen=True)
class Job:
    """One background job. ``run(engine, settings)`` does one round and returns a report (any object;
    ``report.ok`` False counts as a failure, ``report.changed`` False as a round that wrote nothing)."""

    name: str
    run: Callable[[Engine, Any], Any]
    #: seconds between rounds (``interval_setting`` names a setting that overrides it)
    interval_s: float = 60.0
    interval_setting: str = ""
    #: seconds after the window opens before the first round (never during start-up)
    first_s: float = 3.0
    #: after a failed round retry soon and back off (``Backoff``: 5 s doubling), else wait the interval
    backoff: bool = False
    #: change kinds a round may write (screens showing them refresh)
    kinds: tuple[Change, ...] = ()
    #: ``ready(settings)``: False skips the round without running it (e.g. no SMTP host set)
    ready: Callable[[Any], bool] = _always
    label: str = ""
    #: jobs whose every round ends with a round of this one (``following``): the billing queue
    #: settles at the end of each poll cycle, so a delivery is invoiced in the cycle that saw it
    follows: tuple[str, ...] = ()

    def interval(self, settings: Any) -> float:
        if self.interval_setting:
            try:
                return float(settings.get(self.interval_setting, self.interval_s) or self.interval_s)
            except (TypeError, ValueError):
                return self.interval_s
        return self.interval_s


_JOBS: dict[str, Job] = {}
_lock = threading.Lock()


def register(job: Job) -> Job:
    """Register (or re-register, same name) a background job; returns it."""
    with _lock:
        _JOBS[job.name] = job
    return job


def unregister(name: str) -> None:
    """Forget a job (tests that register one for their own duration)."""
    with _lock:
        _JOBS.pop(name, None)


def registered() -> list[Job]:
    with _lock:
        return sorted(_JOBS.values(), key=lambda j: j.name)


def following(name: str) -> list[Job]:
    """The jobs that run at the end of every round of job ``name`` (``Job.follows``)."""
    with _lock:
        return sorted((j for j in _JOBS.values() if name in j.follows), key=lambda j: j.name)


def get(name: str) -> Job:
    with _lock:
        return _JOBS[name]


def three_step(due: Callable[[Session], W | None], talk: Callable[[W], O],
               record: Callable[[Session, W, O], R]) -> Callable[[Engine, Any], R | None]:
    """A job's ``run`` from its three steps: ``due`` reads (None = nothing to do), ``talk`` uses the
    network with no transaction open, ``record`` writes the outcomes in one short write transaction."""
    def run(engine: Engine, _settings: Any) -> R | None:
        with session_scope(engine, write=False) as s:
            work = due(s)
        if work is None:
            return None
        outcome = talk(work)
        with session_scope(engine) as s:
            return record(s, work, outcome)
    return run


class Backoff:
    """When to try next: the normal interval after success, doubling delays after failures
    (5 s, 10 s ... capped at ``max_s``): a job that was offline comes back soon."""

    def __init__(self, interval_s: float = 30.0, first_retry_s: float = 5.0, max_s: float = 300.0) -> None:
        self.interval_s = interval_s
        self.first_retry_s = first_retry_s
        self.max_s = max_s
        self.failures = 0

    def next_delay(self, ok: bool) -> float:
        if ok:
            self.failures = 0
            return self.interval_s
        self.failures += 1
        return float(min(self.max_s, self.first_retry_s * 2.0 ** (self.failures - 1)))
