"""The daily intelligence job: fresh demand forecasts, an anomaly scan and the ETA model trained
again on the delivered shipments, once a day, on its own.

Registered with ``app.services.jobs`` (the window runs it on the I/O pool; ``depot forecast run``
and ``depot anomaly scan`` do the same by hand). It checks hourly and works only when the newest
forecast run is from an earlier day, in the jobs' three steps so SQLite's write lock is held only
while the results are written: read the weekly history and the findings, compute the forecasts
with no transaction open (the ETA model too: it is a file next to the database), write forecasts
and exceptions in one short write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.forecasting import ForecastRun
from app.services import jobs
from app.services.anomaly import scan
from app.services.changes import Change
from app.services.eta import service as eta
from app.services.forecast import demand
from app.services.forecast import selection as sel


@dataclass
class Work:
    today: dt.date
    hist: demand.WeeklyHistory
    found: scan.ScanResult
    #: delivered shipments and the ETA model file (None: the database is not a file)
    eta_rows: list[eta.Row] = field(default_factory=list)
    eta_path: Path | None = None


@dataclass
class Report:
    series: int
    raised: int
    ok: bool = True
    changed: bool = True


def due(session: Session, today: dt.date | None = None) -> Work | None:
    """Nothing when today's forecasts are there; else the history to forecast and the findings."""
    today = today or dt.date.today()
    last = session.scalar(select(func.max(ForecastRun.run_at)))
    if last is not None and last.astimezone().date() >= today:
        return None
    path = eta.session_model_path(session)
    return Work(today, demand.weekly_history(session, today), scan.find(session, today),
                eta.delivered(session) if path is not None else [], path)


def compute(work: Work) -> sel.Result:
    if work.eta_path is not None and work.eta_rows:
        eta.train_rows(work.eta_rows, work.eta_path)
    return demand.compute(work.hist)


def record(session: Session, work: Work, res: sel.Result) -> Report:
    summary = demand.store(session, work.hist, res, demand.DEFAULT_HORIZON)
    found = scan.raise_found(session, None, work.found, work.today)
    return Report(summary.series, found.raised)


def _run(engine: Any, _settings: Any) -> Report | None:
    return jobs.three_step(due, compute, record)(engine, _settings)


DAILY = jobs.register(jobs.Job("intelligence.daily", _run, interval_s=3600, first_s=120,
                               kinds=(Change.FORECAST, Change.EXCEPTION), label="forecasts and anomaly alerts"))
