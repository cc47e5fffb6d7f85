"""Demand forecasts per item x warehouse: a local-only cache the forecast run rewrites.

Forecasts are derived from the weekly sales digest (``sales_week``) like balances are from
the ledger, so every site computes its own and nothing is replicated. The replenishment run
reads ``demand_forecast`` by SQL (it does not import the forecasting package); the dashboard
reads the newest ``forecast_run``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LocalOnly
from app.models.types import UTCDateTime


class DemandForecast(LocalOnly, Base):
    """The chosen method's weekly forecast of one pair, its backtest error and why."""

    __tablename__ = "demand_forecast"
    __table_args__ = {"sqlite_with_rowid": False}

    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: first forecast week (Monday-based week number, as sales_week.week)
    origin_week: Mapped[int] = mapped_column(Integer)
    horizon: Mapped[int] = mapped_column(Integer)
    #: the weekly forecast, ``horizon`` little-endian float32 values
    path: Mapped[bytes] = mapped_column(LargeBinary)
    method: Mapped[str] = mapped_column(String(24))
    klass: Mapped[str] = mapped_column(String(16))
    #: backtest mean absolute error and root mean squared error per week (NULL: no backtest)
    mae: Mapped[float | None] = mapped_column(Float, default=None)
    rmse: Mapped[float | None] = mapped_column(Float, default=None)
    #: in-sample mean absolute (seasonal) naive change: MASE = mae / scale
    scale: Mapped[float | None] = mapped_column(Float, default=None)
    weeks_known: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(120), default="")


class ForecastRun(LocalOnly, Base):
    """One forecast run's summary: what the dashboard's accuracy figure shows."""

    __tablename__ = "forecast_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    series: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    #: backtest accuracy over the series with a backtest (NULL when none had one)
    mase_mean: Mapped[float | None] = mapped_column(Float, default=None)
    mase_median: Mapped[float | None] = mapped_column(Float, default=None)
    avg_rel_mae: Mapped[float | None] = mapped_column(Float, default=None)
    #: JSON: series per class, methods chosen, accuracy per class
    detail: Mapped[str] = mapped_column(Text, default="{}")
