"""Predictive ETA as empirical quantiles of lateness in a hierarchy of shipment cells.

What is learnt is how late (in days, negative = early) shipments arrived against the
carrier's own promised time, per cell of a chain of ever finer keys:

    all -> carrier+service -> + lane (origin branch -> destination) -> + ship day (weekday,
    Friday, weekend) and after-cutoff hour -> + season (peak Nov-Dec or not)

A shipment is predicted from its finest cell, each level's median, 90th percentile and share
late shrunk towards its parent's by n / (n + K): a cell with 3 shipments says little, one with
300 says a lot. A shipment whose lane has no history stops at the carrier+service level (or the
whole branch) and says so. Why quantiles in cells rather than a learned regressor: training on
100,000 shipments is one sort (well under a second), every prediction can name the cell and
its count (the "why"), and lateness is heavy-tailed, which a mean-squared model handles badly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_VERSION = 2
#: shrinkage strength (a cell of K shipments weighs as much as its parent)
K = 20
MIN_CELL = 3
#: a shipment is at risk when at least this share of its (shrunk) cell arrived after the promise:
#: on the seeded history about 1.2x the base rate of late arrivals (docs/intelligence.md)
RISK_SHARE = 0.35
LEVELS = ("all", "carrier+service", "lane", "ship day", "season")
F = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Shipment:
    """What the model knows of a shipment before it arrives."""

    carrier: str
    service: str
    origin: str
    destination: str
    shipped_at: dt.datetime
    promised: dt.datetime  # the carrier's own promised delivery time


def _day_kind(t: dt.datetime) -> str:
    wd = t.weekday()
    late = "late" if t.hour >= 15 else "early"
    return ("fri" if wd == 4 else "wkend" if wd >= 5 else "wkday") + "-" + late


def keys_of(s: Shipment) -> tuple[str, ...]:
    """The cell key at each level (finer levels extend coarser ones)."""
    k1 = f"{s.carrier}|{s.service}"
    k2 = f"{k1}|{s.origin}>{s.destination}"
    k3 = f"{k2}|{_day_kind(s.shipped_at)}"
    k4 = f"{k3}|{'peak' if s.shipped_at.month in (11, 12) else 'base'}"
    return ("*", k1, k2, k3, k4)


@dataclass
class Model:
    """Per level: key -> (n, median, p90, share late) of lateness in days."""

    levels: list[dict[str, tuple[int, float, float, float]]]
    trained_at: str = ""
    shipments: int = 0
    version: int = MODEL_VERSION
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "trained_at": self.trained_at, "shipments": self.shipments,
                           "levels": [{k: list(v) for k, v in lv.items()} for lv in self.levels]})

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


class ModelUnusable(Exception):
    """The model file cannot be used; the text says why (scoring falls back to the carrier's promise)."""


def load(path: Path) -> Model:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelUnusable(f"no ETA model at {path} (depot eta train)") from None
    except (OSError, ValueError) as e:
        raise ModelUnusable(f"the ETA model {path} cannot be read ({e}); train it again (depot eta train)") from None
    ver = doc.get("version") if isinstance(doc, dict) else None
    if ver != MODEL_VERSION:
        raise ModelUnusable(f"the ETA model {path.name} is from model version {ver}, this Depot reads version "
                            f"{MODEL_VERSION}: train it again (depot eta train)")
    try:
        levels = [{str(k): (int(v[0]), float(v[1]), float(v[2]), float(v[3])) for k, v in lv.items()}
                  for lv in doc["levels"]]
    except (KeyError, TypeError, ValueError, IndexError):
        raise ModelUnusable(f"the ETA model {path.name} is damaged: train it again (depot eta train)") from None
    return Model(levels, str(doc.get("trained_at", "")), int(doc.get("shipments", 0)))


def lateness_days(delivered: dt.datetime, promised: dt.datetime) -> float:
    return (delivered - promised).total_seconds() / 86_400.0


def train(shipments: list[Shipment], lateness: F) -> Model:
    """Quantiles of ``lateness`` (days) per cell of every level (one sort per level)."""
    y = np.asarray(lateness, dtype=np.float64)
    ok = np.isfinite(y)
    keys = [keys_of(s) for s, good in zip(shipments, ok, strict=True) if good]
    y = y[ok]
    levels: list[dict[str, tuple[int, float, float, float]]] = []
    for lv in range(len(LEVELS)):
        col = np.array([k[lv] for k in keys]) if keys else np.array([], dtype=str)
        out: dict[str, tuple[int, float, float, float]] = {}
        if len(col):
            uniq, inv = np.unique(col, return_inverse=True)
            order = np.lexsort((y, inv))
            ys, gs = y[order], inv[order]
            bounds = np.searchsorted(gs, np.arange(len(uniq) + 1))
            for g, name in enumerate(uniq):
                a, b = bounds[g], bounds[g + 1]
                n = int(b - a)
                if n < MIN_CELL and lv > 0:
                    continue
                seg = ys[a:b]
                out[str(name)] = (n, float(np.quantile(seg, 0.5)), float(np.quantile(seg, 0.9)),
                                  float((seg > 0).mean()))
        levels.append(out)
    return Model(levels, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), int(len(y)))


@dataclass(frozen=True)
class Prediction:
    median: dt.datetime
    p90: dt.datetime
    late_share: float
    level: str
    cell_n: int
    reason: str

    @property
    def at_risk(self) -> bool:
        return self.late_share >= RISK_SHARE


def predict(model: Model, s: Shipment) -> Prediction:
    """Median and 90th-percentile arrival and the chance of arriving after the carrier's promise."""
    ks = keys_of(s)
    root = model.levels[0].get("*") if model.levels else None
    if root is None:
        return Prediction(s.promised, s.promised, 0.0, "carrier promise", 0, "the model holds no shipments: "
                          "the carrier's promise")
    n, med, p90, late = root
    level, cell_n = "all", n
    for lv in range(1, len(LEVELS)):
        cell = model.levels[lv].get(ks[lv]) if lv < len(model.levels) else None
        if cell is None:
            break
        cn, cm, cp, cl = cell
        w = cn / (cn + K)
        med, p90, late = w * cm + (1 - w) * med, w * cp + (1 - w) * p90, w * cl + (1 - w) * late
        level, cell_n = LEVELS[lv], cn
    reason = f"{cell_n} past shipments at level '{level}'"
    if LEVELS.index(level) < 2:
        reason += f"; no history for lane {s.origin}>{s.destination}: {s.carrier} {s.service} as a whole" \
            if level == "carrier+service" else "; no history for this carrier and service: all shipments"
    p90 = max(p90, med)
    return Prediction(s.promised + dt.timedelta(days=med), s.promised + dt.timedelta(days=p90),
                      float(min(max(late, 0.0), 1.0)), level, cell_n, reason)


def finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


__all__ = ["Model", "ModelUnusable", "Prediction", "Shipment", "load", "predict", "train", "lateness_days", "Any"]
