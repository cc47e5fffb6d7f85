"""The paced phase of ``sync_scale``: every site syncs once every ``period`` seconds, from several processes.

One Python process could not offer the load of 1,000 workstations syncing every 30 s (33 syncs/s:
it managed about 22, the GIL and SQLite work of 1,000 sites in one interpreter). Here ``procs``
client processes each own a share of the sites (site i belongs to process i mod procs) and start
each site's sync at its own time in the period (site i at i/N of it), so the offered rate is N /
period whatever the server answers; a thread pool per process runs the syncs that are due. Like a
workstation, each site writes its moves (local SQLite work) and then syncs, keeping its server
connection from one round to the next (``replication.link``); a first round opens them and is
done unpaced before the paced rounds start (a workstation that syncs every 30 s is connected).
Lag is how late a sync started against its schedule: a client that cannot keep up
shows it there, not as a slower server.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass
class Paced:
    """What the client processes saw, and what the server did meanwhile (filled by the caller)."""

    n: int
    period: float
    rounds: int
    procs: int
    syncs: list[dict[str, Any]] = field(default_factory=list)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0  # during the measured rounds (all but the first)
    window_s: float = 0.0
    peak_conn: int = 0
    peak_active: int = 0
    replay: bool = False  # simulated sites (bench._replay): no local work

    def lines(self) -> list[str]:
        kind = "replayed sites (server statements only)" if self.replay else "sites"
        out = [f"  paced: {self.n} {kind} each syncing every {self.period:.0f} s from {self.procs} client processes "
               f"(offered {self.n / self.period:.1f} syncs/s), {self.rounds} rounds after one unpaced round that connects"]
        for label, rows in (("connecting", [r for r in self.syncs if r["round"] == 0]),
                            ("paced", [r for r in self.syncs if r["round"] > 0])):
            if not rows:
                continue
            ok = [r for r in rows if r["ok"]]
            w = sorted(r["end"] - r["start"] for r in ok) or [0.0]
            lag = sorted(r["start"] - r["due"] for r in rows)
            span = max(r["end"] for r in rows) - min(r["due"] for r in rows)
            errors = sorted({_reason(str(r["error"])) for r in rows if not r["ok"]})
            out.append(f"    {label:<13} {len(rows):>5} syncs, {len(rows) - len(ok)} refused or failed, done "
                       f"{len(rows) / max(span, 1e-9):5.1f}/s; sync wall p50 {statistics.median(w) * 1000:5.0f} ms "
                       f"p95 {_p95(w) * 1000:5.0f} ms max {w[-1] * 1000:5.0f} ms; start lag p95 "
                       f"{_p95(lag) * 1000:5.0f} ms; pulled {sum(r['pulled'] for r in rows) / len(rows):.1f} "
                       f"pushed {sum(r['pushed'] for r in rows) / len(rows):.1f} rows/sync"
                       + (f"; errors: {errors[:3]}" if errors else ""))
        later = [r for r in self.syncs if r["round"] > 0]
        if later and self.window_s:
            out.append(f"    server over the paced rounds: {self.server_cpu_s / len(later) * 1000:.2f} ms CPU/sync, "
                       f"{self.server_cpu_s / self.window_s:.3f} cores; peak {self.peak_conn} server connections "
                       f"({self.peak_active} active); client processes {self.client_cpu_s / len(later) * 1000:.1f} "
                       f"ms CPU/sync (writes + sync), {self.client_cpu_s / (self.rounds * self.period):.2f} cores; "
                       f"of which the moves' writes {sum(r['write_cpu'] for r in later) / len(later) * 1000:.1f} ms and "
                       f"sync_once {sum(r['sync_cpu'] for r in later) / len(later) * 1000:.1f} ms a sync (thread CPU)")
        return out


def _reason(error: str) -> str:
    """An error's gist: a connect error's last clause is the server's answer (its start names the host)."""
    return error.rsplit(": ", 1)[-1][:100] if "connection failed" in error else error[:100]


def _p95(xs: list[float]) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * 0.95))]


@dataclass
class Replay:
    """What the replay client needs (``bench._replay``): the sites' schema revisions and, per branch,
    the batch of moves whose copies each site pushes."""

    revisions: set[str]
    templates: dict[str, Any]


def run(share: list[tuple[int, Any, str]], n: int, period: float, rounds: int, threads: int, rows: int,
        barrier: Any, out: Any, replay: Replay | None = None) -> None:
    """One client process: ``share`` is (site index, Site without engine, dsn), or (index, ReplaySite,
    dsn) with ``replay``."""
    from app.services import wiring
    from app.services.db import open_database
    from app.services.replication import link
    from app.services.replication.engine import sync_once
    from bench import _replay
    from bench.sync_scale import _write

    wiring.install()
    link.KEEP_IDLE_S = max(link.KEEP_IDLE_S, 3600.0)  # as in sync_scale: a late site must not lose its connection
    if replay is None:
        for _i, site, _dsn in share:
            site.engine = open_database(site.path)
    results: list[dict[str, Any]] = []

    def one(i: int, site: Any, dsn: str, due: float, rnd: int) -> None:
        c0 = time.thread_time()
        if replay is not None:  # no local work: the batch is made in the sync's own CPU
            start, c1 = time.monotonic(), c0
            res: Any = _replay.sync(site, replay.revisions, replay.templates[site.branch_id].batch(site))
        else:
            _write(site, rows)
            start, c1 = time.monotonic(), time.thread_time()
            res = sync_once(site.engine, dsn)
        results.append({"round": rnd, "site": i, "due": due, "start": start, "end": time.monotonic(), "ok": res.ok,
                        "error": res.error, "pulled": res.pulled, "pushed": res.pushed,
                        "write_cpu": c1 - c0, "sync_cpu": time.thread_time() - c1})

    with ThreadPoolExecutor(threads) as pool:  # round 0, unpaced: every site connects (and this process warms up)
        for i, site, dsn in share:
            pool.submit(one, i, site, dsn, time.monotonic(), 0)
    barrier.wait()
    t0 = time.monotonic() + 0.2
    plan = sorted((t0 + (r - 1) * period + i / n * period, r, i, site, dsn)
                  for r in range(1, rounds + 1) for i, site, dsn in share)
    cpu0 = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        for due, r, i, site, dsn in plan:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(one, i, site, dsn, due, r)
    cpu = time.process_time() - cpu0
    for _i, site, _dsn in share:
        if replay is not None:
            site.close()
        else:
            site.engine.dispose()
    out.put((results, cpu))


def paced(sites: list[Any], n_procs: int, period: float, rounds: int, threads: int, rows: int,
          server_cpu: Callable[[], float], admin_dsn: str, replay: Replay | None = None) -> Paced:
    """Run the phase; ``server_cpu()`` reads the server's CPU seconds so far (from the second round on
    is what counts: the first opens every site's connection), ``admin_dsn`` counts its connections.
    With ``replay``, ``sites`` are ``bench._replay.ReplaySite``s."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(n_procs + 1)
    queue = ctx.Queue()
    shares: list[list[tuple[int, Any, str]]] = [[] for _ in range(n_procs)]
    for i, s in enumerate(sites):
        shares[i % n_procs].append((i, s, s.dsn) if replay else (i, type(s)(s.path, s.branch), s.branch.dsn))
    procs = [ctx.Process(target=run, args=(sh, len(sites), period, rounds, threads, rows, barrier, queue, replay),
                         daemon=True)
             for sh in shares]
    for p in procs:
        p.start()
    res = Paced(len(sites), period, rounds, n_procs, replay=replay is not None)
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            while not stop.is_set():
                row = c.execute("SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
                                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()
                if row:
                    res.peak_conn, res.peak_active = max(res.peak_conn, int(row[0])), max(res.peak_active, int(row[1]))
                stop.wait(0.25)  # each look is server CPU too

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    barrier.wait()  # every site has connected; the paced rounds start now
    cpu0, w0 = server_cpu(), time.monotonic()
    for _ in procs:
        rows_, cpu = queue.get()
        res.syncs += rows_
        res.client_cpu_s += cpu
    res.server_cpu_s, res.window_s = server_cpu() - cpu0, time.monotonic() - w0
    for p in procs:
        p.join()
    stop.set()
    watcher.join()
    return res
