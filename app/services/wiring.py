"""The composition root of the services: load every module of the capability packages once, so
each registers its follow-up handlers (``@on``), settlers (``@settler``) and background jobs
(``jobs.register``) where it defines them.

Why here: follow-ups point against the chain (goods received in Receiving roll up the PO in Buying
and release orders in Inventory), so the package that emits an event cannot import the packages
that react to it. Something above all of them has to load them; this module is that one place, and
nothing in app/services imports it. The entry points call ``load()`` before the first write: the
``depot`` command, the window's op runner and background jobs, the benchmarks and the tests.
``events.emit`` and ``ownership.settle_all`` refuse to run before it, so a follow-up is never
silently skipped; ``tests/test_architecture.py`` fails when a module that registers one lies
outside ``PACKAGES``.

The window does not load on its first paint (importing every package costs ~0.25 s): the op runner
loads on the worker of the first write op or sync.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from app.services import events

#: the packages whose modules register follow-up handlers or settlers, in chain order (a new
#: capability package adds its name here)
PACKAGES = ("replenishment", "inventory", "buying", "edi", "receiving", "anomaly", "sales", "allocation")
#: single modules that register some (follow-ups, settlers, background jobs)
MODULES = ("exception_inbox", "mail", "replication.engine")

_lock = threading.Lock()


def modules() -> list[str]:
    """Every module ``load`` imports, by name."""
    out = [f"app.services.{m}" for m in MODULES]
    for name in PACKAGES:
        pkg = importlib.import_module(f"app.services.{name}")
        out.append(pkg.__name__)
        out += [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]
    return out


def load() -> None:
    """Import every capability module (idempotent, thread-safe); then follow-ups may run."""
    with _lock:
        if events.loaded():
            return
        for name in modules():
            importlib.import_module(name)
        events.mark_loaded()
