"""The KPI areas, in the order the dashboard shows them. A new area is one module that calls
``core.register`` for each of its KPIs, plus one import here."""

from __future__ import annotations

from app.services.kpi import (  # noqa: F401 - imported for their registrations, in display order
    delivery,
    dispatch,
    exceptions,
    forecast,
    inventory,
    purchasing,
    receivables,
    receiving,
    sales,
)

AREAS = ("sales", "delivery", "purchasing", "receiving", "inventory", "dispatch", "receivables",
         "exceptions", "forecast")


def load() -> None:
    """Nothing to do: importing this module registered every area's KPIs."""
