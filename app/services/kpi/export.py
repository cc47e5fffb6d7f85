"""How figures read to people, and their CSV exports (the screen's "Export data" and
``depot kpi --csv`` write the same files)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from app.services.kpi.compute import DRILL_COLUMNS, Figure


def format_value(unit: str, value: float | None) -> str:
    """'97.3 %', '4.2 days', '12.5 h', '1,234.56', '12', '6.1x'; '—' for no data."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.1f}x"


def figures_csv(figures: Iterable[Figure]) -> str:
    """One row per KPI x bucket (x group when split): the data behind every chart."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["kpi", "title", "unit", "bucket", "group", "value", "numerator", "denominator", "target"])
    for f in figures:
        if f.state != "ok":
            w.writerow([f.key, f.title, f.unit, "", "", "", "", "", _num(f.target)])
            continue
        for p in f.series:
            w.writerow([f.key, f.title, f.unit, p.bucket, "", _num(p.value), _num(p.num), _num(p.den), _num(f.target)])
        for g in f.groups:
            for p in g.series:
                w.writerow([f.key, f.title, f.unit, p.bucket, g.label, _num(p.value), _num(p.num), _num(p.den),
                            _num(f.target)])
    return out.getvalue()


def rows_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(DRILL_COLUMNS)
    for r in rows:
        w.writerow([_num(r.get(c)) if isinstance(r.get(c), float) else r.get(c, "") for c in DRILL_COLUMNS])
    return out.getvalue()


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.4f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
