"""A first sync's reader: the server's rows fetched on a thread, a chunk ahead of the SQLite writer.

Reading a chunk (the server's scan, the network, psycopg building the rows) and writing the
previous one (SQLite's steps, which run without the GIL) overlap instead of taking turns. The
queue holds at most ``DEPTH`` chunks, so memory stays bounded; an error of the reader (a dropped
connection) is raised in the writer at the chunk where it happened, so the caller's SQLite
transaction rolls back with the cursor exactly as when it read the rows itself; and a writer that
fails (or stops early) stops the reader before the server connection is used again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from app.services.replication.apply import Row

#: chunks waiting for the writer (plus one being read and one being written)
DEPTH = 1
#: rows per FETCH: psycopg builds a fetched batch in C without letting the GIL go, so smaller
#: batches let the writer bind its next rows sooner (a round trip per 5,000 rows costs nothing)
FETCH_ROWS = 5_000

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Reader:
    """Reads ``jobs`` ((table, query), in order) on a thread; ``table(name)`` yields that table's
    chunks of ``chunk_rows`` rows. Tables must be taken in the order of ``jobs``, each to its end.

    Use as a context manager: leaving stops and joins the thread (so the server connection is free
    again), whatever happened.
    """

    def __init__(self, pg: psycopg.Connection[Any], jobs: Sequence[tuple[str, sql.Composed]],
                 chunk_rows: int) -> None:
        self._pg = pg
        self._jobs = list(jobs)
        self._chunk = chunk_rows
        self._q: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="depot-first-sync-reader", daemon=True)

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():  # a reader blocked on a full queue sees the stop within its timeout
            self._drain()
            self._thread.join(0.05)
        self._drain()

    def _drain(self) -> None:
        _drain(self._q)

    def _put(self, item: object) -> bool:
        return _put(self._q, item, self._stop)

    def _run(self) -> None:
        try:
            for n, (name, query) in enumerate(self._jobs, 1):
                # one server-side cursor per table, planned for all its rows (the caller set
                # cursor_tuple_fraction = 1 in the snapshot's transaction)
                with self._pg.cursor(name=f"depot_pull_{n}") as cur:
                    cur.execute(query)
                    chunk: list[Row] = []
                    while rows := cur.fetchmany(FETCH_ROWS):
                        chunk += rows
                        if len(chunk) >= self._chunk:
                            if not self._put((name, chunk)):
                                return
                            chunk = []
                    if chunk and not self._put((name, chunk)):
                        return
                if not self._put((name, _END)):
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the writer, which raises it
            self._put(_Failed(e))

    def table(self, name: str) -> Iterator[list[Row]]:
        """The next table's chunks, as the reader delivers them; raises the reader's error."""
        while True:
            item = self._q.get()
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, tuple)
            got, chunk = item
            if got != name:
                raise RuntimeError(f"first sync reader: expected {name}, got {got}")
            if chunk is _END:
                return
            yield chunk


class Prefetch:
    """Chunks of an iterator read on a thread, one chunk ahead of the writer.

    The digests a first sync takes from the server (``replication.ahead``: summed on the second
    connection while the tables streamed in) were fetched on the writer's thread between its
    inserts: the network, the server's output and psycopg building the rows (~1.5M weekly-sales
    rows on the large set) all lay on the writer's path. Here the next chunk is fetched while SQLite
    inserts this one. One thread per ``chunks`` call, started when the writer first asks for its
    rows (a step that does not read them leaves them unread), ending with its iterator; use as a
    context manager: leaving stops and joins every thread (so the connection is free again).
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running: list[tuple[threading.Thread, queue.Queue[object]]] = []

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        for thread, q in self._running:
            while thread.is_alive():  # blocked on a full queue: sees the stop within its timeout
                _drain(q)
                thread.join(0.05)
            _drain(q)
        self._running.clear()

    def _run(self, source: Iterable[Sequence[Row]], q: queue.Queue[object]) -> None:
        try:
            for chunk in source:
                if not _put(q, chunk, self._stop):
                    return
            _put(q, _END, self._stop)
        except BaseException as e:  # noqa: BLE001 - handed to the writer, which raises it
            _put(q, _Failed(e), self._stop)

    def chunks(self, source: Iterable[Sequence[Row]]) -> Iterator[Sequence[Row]]:
        """``source``'s chunks, fetched a chunk ahead on a thread; raises the thread's error."""
        q: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
        thread = threading.Thread(target=self._run, args=(source, q), name="depot-first-sync-prefetch", daemon=True)
        self._running.append((thread, q))
        thread.start()
        while True:
            item = q.get()
            if isinstance(item, _Failed):
                raise item.error
            if item is _END:
                return
            assert isinstance(item, list | tuple)
            yield item


def _drain(q: queue.Queue[object]) -> None:
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass


def _put(q: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
