"""Predictive ETA at scale: training on 100,000 delivered shipments, scoring 5,000.

    depot bench eta [--train 100000] [--score 5000]       # made-up shipments of the seed's shape
    depot bench eta --db PATH                              # train on the database's delivered shipments

The issue's figures: training under 60 s, scoring 5,000 under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from pathlib import Path


def _ships(n: int, seed: int) -> tuple[list, list[float]]:  # type: ignore[type-arg]
    from app.services.eta import model as em

    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
    carriers = [("UPS", s) for s in ("GND", "2DA", "NDA")] + [("FEDEX", s) for s in ("GROUND", "2DAY")] + \
        [("DHL", "EXP"), ("USPS", "PRI")]
    out, late = [], []
    for _ in range(n):
        c, s = rng.choice(carriers)
        t = start + dt.timedelta(days=rng.randint(0, 360), hours=rng.randint(8, 19))
        out.append(em.Shipment(c, s, rng.choice(("DAL1", "HOU1", "PHX1")), rng.choice(("DAL", "HOU", "PHX", "AUS",
                                                                                          "ELP", "OKC", "TUL")),
                               t, t + dt.timedelta(days=rng.randint(1, 5))))
        late.append(rng.gauss(0.2, 0.8))
    return out, late


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="depot bench eta")
    p.add_argument("--train", type=int, default=100_000)
    p.add_argument("--score", type=int, default=5_000)
    p.add_argument("--db", type=Path, default=None)
    a = p.parse_args(argv)
    import numpy as np

    from app.services.eta import model as em

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if a.db is not None:
        from app.services.db import open_database, session_scope
        from app.services.eta import service

        engine = open_database(a.db)
        try:
            with session_scope(engine) as s:
                t0 = time.perf_counter()
                res = service.train(s, None, service.model_path(a.db))
                print(f"trained on {res.shipments} delivered shipments of {a.db} in {time.perf_counter() - t0:.2f} s "
                      "(read included)")
                t0 = time.perf_counter()
                risks, note = service.risks(s, service.model_path(a.db))
                print(f"scored {len(risks)} open shipments in {time.perf_counter() - t0:.2f} s {note}")
        finally:
            engine.dispose()
        return 0
    ships, late = _ships(a.train, 1)
    t0 = time.perf_counter()
    m = em.train(ships, np.array(late))
    print(f"train {a.train} shipments: {time.perf_counter() - t0:.2f} s; cells per level {[len(x) for x in m.levels]}")
    query, _ = _ships(a.score, 2)
    t0 = time.perf_counter()
    for q in query:
        em.predict(m, q)
    print(f"score {a.score} shipments: {time.perf_counter() - t0:.3f} s")
    return 0
