"""The composition root of the services: load the modules of the capability packages that register
something, once, so each registers its follow-up handlers (``@on``), settlers (``@settler``) and
background jobs (``jobs.register``) where it defines them.

Why here: follow-ups point against the chain (goods received in Receiving roll up the PO in Buying
and release orders in Inventory), so the package that emits an event cannot import the packages
that react to it. Something above all of them has to load them; this module is that one place, and
nothing in app/services imports it. The entry points call ``install()`` at start (the ``depot``
command, the window, the benchmarks; the tests ``load()`` at once): then the first ``events.emit``
or ``ownership.settle_all`` loads the packages, on whatever thread does that first write, and work
that never writes never pays for the imports (not the window's first paint, not a read-only
command). Without either, emit and settle refuse to run, so a follow-up is never silently skipped;
``tests/test_architecture.py`` fails when a module that registers one lies outside ``PACKAGES``.
The background jobs ``load()`` (their registry is in those modules) on the I/O pool.

``load`` also settles the heap (``settle_heap``): once every service module is imported, the
objects that live as long as the process (modules, classes, mappers, SQL constructs: ~170,000)
are frozen out of the cyclic collector, and its youngest generation collects every 10,000
allocations instead of 700. A poll cycle spent 14 % of its CPU in that collector, most of it in
full collections walking those same start-up objects again and again (docs/tracking.md).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import pkgutil
import threading
from pathlib import Path

from app.services import events

#: the packages whose modules register follow-up handlers or settlers, in chain order (a new
#: capability package adds its name here)
PACKAGES = ("replenishment", "inventory", "buying", "edi", "receiving", "anomaly", "sales", "allocation", "tracking",
            "dispatch", "billing")
#: single modules that register some (follow-ups, settlers, background jobs)
MODULES = ("exception_inbox", "mail", "replication.engine", "backup")

_lock = threading.Lock()
#: allocations between two collections of the youngest generation (CPython's default: 700)
GC_YOUNG = 10_000


#: what a module that registers something contains (``@on(``, ``@settler(``, ``jobs.register(``,
#: ``printing.register(``: a printable document kind)
MARKERS = ("@on(", "@settler(", "jobs.register(", "printing.register(")


def _registers(name: str) -> bool:
    """Does the module's source register anything? (Unreadable source, as in a frozen build: assume so.)
    Skipping the others keeps report and EDI-format code out of a process that never uses them."""
    spec = importlib.util.find_spec(name)
    try:
        text = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    except OSError:
        return True
    return not text or any(m in text for m in MARKERS)


def modules() -> list[str]:
    """Every module ``load`` imports, by name: the ones of ``PACKAGES`` that register something."""
    out = [f"app.services.{m}" for m in MODULES]
    for name in PACKAGES:
        pkg = importlib.import_module(f"app.services.{name}")
        out += [n for n in (f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)) if _registers(n)]
    return out


def install() -> None:
    """Let the first follow-up or settlement load the packages (cheap; what the entry points call)."""
    events.install_loader(load)


def load() -> None:
    """Import every capability module (idempotent, thread-safe); then follow-ups may run."""
    with _lock:
        if events.loaded():
            return
        for name in modules():
            importlib.import_module(name)
        events.mark_loaded()
        settle_heap()


def settle_heap() -> None:
    """Freeze what exists now out of the cyclic collector and let the young generation grow
    larger (process-wide, once the modules are loaded: see the module doc). No collection first:
    it would cost a full walk (~120 ms CPU) to free the few hundred cyclic objects the imports leave
    (629 measured), and ``load`` may run on a worker of the window, where a collection could destroy
    a Qt object off its thread (``app.views.collector``); freezing frees nothing, so it is safe on
    any thread."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if 0 < young < GC_YOUNG:
        gc.set_threshold(GC_YOUNG, middle, old)
