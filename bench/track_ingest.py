"""Ingesting carrier events: 100,000 events for 10,000 shipments, applied as the poller applies
an account's answers (1,000 shipments a transaction): events stored once, statuses derived from the
newest event, follow-ups (orders, cases, the invoices queued), notices queued. Then the billing job
settles the queued invoices (its own figure), and the same answers come again (all known).

    depot bench track_ingest [--shipments 10000] [--events 10] [--batch 1000] [--keep FILE | --db FILE] [--profile OUT]

``--keep FILE`` also saves the seeded file (before any event) and ``--db FILE`` starts from a copy
of such a file instead of seeding again (seeding takes longer than the figure; A/B runs reuse one).
``--profile OUT``: cProfile of the first ingest written to OUT (pstats).

Target: 100,000 events in under 10 s. Network and parsing are not in this figure (track_poll and
carrier_parse have them).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from bench.track_poll import seeded

STEPS = [("label_created", "OC", "Shipment information sent"), ("picked_up", "PU", "Picked up"),
         ("in_transit", "DP", "Departed"), ("in_transit", "AR", "Arrived at hub"), ("in_transit", "DP", "Departed hub"),
         ("in_transit", "AR", "Arrived at destination"), ("in_transit", "DP", "Left the sort centre"),
         ("in_transit", "AR", "At the local depot"), ("out_for_delivery", "OD", "On the vehicle for delivery"),
         ("delivered", "DL", "Delivered")]


def _queued(engine: object) -> int:
    from sqlalchemy import func, select

    from app.models.billing import BillingDue
    from app.services.db import session_scope

    with session_scope(engine, write=False) as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count(func.distinct(BillingDue.shipment_id)))) or 0)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench track_ingest")
    ap.add_argument("--shipments", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=10, help="events a shipment (at most 10)")
    ap.add_argument("--batch", type=int, default=1000, help="shipments an answer (one transaction)")
    ap.add_argument("--keep", type=Path, help="also save the seeded file here (before any event)")
    ap.add_argument("--db", type=Path, help="start from a copy of a file --keep saved (same --shipments)")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the first ingest here")
    args = ap.parse_args(argv)
    from sqlalchemy import func, select

    from app.models.parties import Carrier
    from app.models.shipping import Shipment
    from app.models.tracking import TrackingEvent
    from app.services.carriers.accounts import list_accounts
    from app.services.carriers.model import Outcome, ProofOfDelivery, TrackEvent, TrackReply, TrackResult
    from app.services.db import open_database, session_scope
    from app.services.tracking import poller

    with tempfile.TemporaryDirectory(prefix="depot-ingest-") as tmp:
        path = Path(tmp) / "ingest.db"
        seeded(path, args.db, args.shipments, args.keep)
        engine = open_database(path)
        with session_scope(engine) as s:
            accounts = {(a.branch_code, a.carrier_code): a for a in list_accounts(s, None, all_branches=True)}
            rows = s.execute(select(Shipment.id, Shipment.tracking_number, Shipment.number)
                             .where(Shipment.number.like("%-SHB-%"))).all()
            codes = dict(s.execute(select(Shipment.id, Shipment.carrier_id)).all())
            carrier_code = dict(s.execute(select(Carrier.id, Carrier.code)).all())
        t0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
        work: list[tuple[poller.Work, list[TrackResult]]] = []
        groups: dict[tuple[str, str], list[tuple[object, str]]] = {}
        for sid, number, ship_no in rows:
            groups.setdefault((ship_no.split("-")[0], carrier_code[codes[sid]]), []).append((sid, number))
        total_events = 0
        for (branch, carrier), items in groups.items():
            info = accounts[(branch, carrier)]
            for n in range(0, len(items), args.batch):
                chunk = items[n:n + args.batch]
                results = []
                for i, (_sid, number) in enumerate(chunk):
                    base = t0 + dt.timedelta(minutes=i % 600)
                    evs = [TrackEvent(base + dt.timedelta(hours=5 * k), st, code, text, "MEMPHIS, TN, US")
                           for k, (st, code, text) in enumerate(STEPS[:args.events])]
                    total_events += len(evs)
                    last = evs[-1]
                    pod = ProofOfDelivery("R. CHEN", last.at, "ref:pod") if last.status == "delivered" else None
                    results.append(TrackResult(number, Outcome.OK, last.status, last.raw_code, last.description,
                                               (base + dt.timedelta(days=3)).date(), None, evs, pod))
                w = poller.Work(info.id, info.label, info, carrier, {num: sid for sid, num in chunk})  # type: ignore[misc]
                work.append((w, results))
        now = dt.datetime.now(dt.UTC)
        p = poller.Plan(now)

        def run_all(profile: Path | None = None) -> tuple[float, float, int]:
            prof = cProfile.Profile(time.process_time) if profile else None  # CPU, as the figure
            wall0, cpu0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            stored = 0
            for w, results in work:
                with session_scope(engine) as s:
                    rep = poller.apply(s, p, poller.Fetched(w, TrackReply(Outcome.OK, shipments=results), 1, 0.0), now)
                stored += rep.new_events
            if prof:
                prof.disable()
                prof.dump_stats(str(profile))
            return time.perf_counter() - wall0, time.process_time() - cpu0, stored

        print(f"ingesting {total_events:,} events for {len(rows):,} shipments in {len(work)} answers ...", flush=True)
        wall, cpu, stored = run_all(args.profile)
        from app.services.billing import settle

        queued = _queued(engine)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        billed = settle.run(engine)
        bill_wall, bill_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        again_wall, again_cpu, again = run_all()
        with session_scope(engine) as s:
            in_ledger = s.scalar(select(func.count()).select_from(TrackingEvent))
            delivered = s.scalar(select(func.count()).select_from(Shipment).where(Shipment.status == "delivered",
                                                                                  Shipment.number.like("%-SHB-%")))
        engine.dispose()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"ingested {stored:,} events in {wall:.2f} s ({stored / wall:,.0f} events/s; {cpu:.2f} s CPU), "
          f"{delivered:,} shipments delivered, {in_ledger:,} rows in the ledger")
    print(f"the billing job settled the {queued:,} queued follow-ups in {bill_wall:.2f} s ({bill_cpu:.2f} s CPU): "
          f"{billed.line()}")
    print(f"the same answers again: {again} new events in {again_wall:.2f} s ({again_cpu:.2f} s CPU)")
    return 0
