"""The last figures the dashboard showed, kept in a small JSON file beside the settings, so the
screen opens with them at once and refreshes after (the computation takes a second or two on a
big database). Keyed by database file and scope; a damaged file is ignored, never an error."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from app.services.kpi.compute import Figure, Group, Point

MAX_KEYS = 20


def _points(rows: list[dict[str, Any]]) -> list[Point]:
    return [Point(r["bucket"], r["value"], float(r.get("num", 0)), float(r.get("den", 0))) for r in rows]


def to_dict(f: Figure) -> dict[str, Any]:
    d = f.as_dict()
    d["definition"] = f.definition
    d["series"] = [{"bucket": p.bucket, "value": p.value, "num": p.num, "den": p.den} for p in f.series]
    d["groups"] = [{"key": g.key, "label": g.label, "value": g.value, "num": g.num, "den": g.den,
                    "series": [{"bucket": p.bucket, "value": p.value, "num": p.num, "den": p.den} for p in g.series]}
                   for g in f.groups]
    return d


def from_dict(d: dict[str, Any]) -> Figure:
    return Figure(d["key"], d["title"], d["area"], d["unit"], d["better"], d.get("definition", ""), d["value"],
                  float(d["numerator"] or 0), float(d["denominator"] or 0), d["state"], d["note"],
                  _points(d["series"]),
                  [Group(g["key"], g["label"], g["value"], float(g["num"]), float(g["den"]), _points(g["series"]))
                   for g in d["groups"]], d.get("target"))


def load(path: Path, key: str) -> tuple[str, list[Figure]] | None:
    """(when they were computed, the figures) or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = data[key]
        return str(entry["at"]), [from_dict(d) for d in entry["figures"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(path: Path, key: str, at: str, figures: list[Figure]) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.pop(key, None)
    data[key] = {"at": at, "figures": [to_dict(f) for f in figures]}
    while len(data) > MAX_KEYS:
        data.pop(next(iter(data)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kpi-cache.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs the next open a wait
