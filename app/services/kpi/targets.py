"""KPI targets: each KPI has a default; Settings > Dashboard stores a different one per workstation
(``kpi.target.<key>`` in the settings file). A target is a plain number in the KPI's unit."""

from __future__ import annotations

import math

from app.services.errors import ValidationError
from app.services.kpi.compute import kpis_for
from app.services.kpi.core import REGISTRY
from app.services.settings import Settings

PREFIX = "kpi.target."


def targets(settings: Settings | None) -> dict[str, float]:
    """Key -> target (the setting, else the KPI's default); KPIs with neither are left out."""
    out: dict[str, float] = {}
    for kpi in kpis_for():
        v = settings.get(PREFIX + kpi.key) if settings is not None else None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[kpi.key] = float(v)
        elif v is None and kpi.target is not None:
            out[kpi.key] = kpi.target
    return out


def parse_target(key: str, text: str) -> float | None:
    """'95', '95 %', '' (no target) -> a checked number in the KPI's unit."""
    kpis_for()
    kpi = REGISTRY.get(key)
    if kpi is None:
        raise ValidationError("kpi", f"unknown KPI {key!r}")
    t = (text or "").strip().rstrip("%").strip().replace(",", "")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        raise ValidationError(kpi.title, f"{text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise ValidationError(kpi.title, "a target is a number of 0 or more")
    if kpi.unit == "%" and v > 100:
        raise ValidationError(kpi.title, "a percentage target is at most 100")
    return v


def set_target(settings: Settings, key: str, text: str) -> float | None:
    """Store a target ('' removes it: no target, not even the default)."""
    v = parse_target(key, text)
    settings.set(PREFIX + key, v if v is not None else "none")
    return v
