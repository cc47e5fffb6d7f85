"""The sandbox's price list: a zone from the distance between ZIP code regions, the billed
weight, and the service level (next day, two day, ground). Deterministic, in cents, so tests can
assert exact quotes."""

from __future__ import annotations

import math
from decimal import Decimal

#: service level -> (base cents, cents per lb per zone, transit days)
LEVELS = {"next_day": (2650, 95, 1), "two_day": (1475, 55, 2), "three_day": (1180, 42, 3),
          "ground": (895, 18, 5), "economy": (640, 12, 7)}

#: each carrier's service codes on the wire -> (level, name)
SERVICES: dict[str, dict[str, tuple[str, str]]] = {
    "ups": {"01": ("next_day", "UPS Next Day Air"), "02": ("two_day", "UPS 2nd Day Air"),
            "12": ("three_day", "UPS 3 Day Select"), "03": ("ground", "UPS Ground")},
    "fedex": {"PRIORITY_OVERNIGHT": ("next_day", "FedEx Priority Overnight"),
              "FEDEX_2_DAY": ("two_day", "FedEx 2Day"), "FEDEX_EXPRESS_SAVER": ("three_day", "FedEx Express Saver"),
              "FEDEX_GROUND": ("ground", "FedEx Ground")},
    "sandbox": {"NEXT": ("next_day", "Sandbox Next Day"), "2DAY": ("two_day", "Sandbox 2 Day"),
                "GROUND": ("ground", "Sandbox Ground")},
    "dhl": {"N": ("next_day", "EXPRESS DOMESTIC"), "G": ("two_day", "DOMESTIC ECONOMY SELECT"),
            "EXPRESS": ("two_day", "DHL Express"), "GROUND": ("economy", "DHL Parcel Ground")},
    "usps": {"PRIORITY_MAIL_EXPRESS": ("next_day", "Priority Mail Express"),
             "PRIORITY_MAIL": ("two_day", "Priority Mail"), "USPS_GROUND_ADVANTAGE": ("ground", "USPS Ground Advantage")},
}


def zone(origin_zip: str, dest_zip: str) -> int:
    """2..8 like the carriers' zone charts: the further apart the ZIP regions, the higher."""
    try:
        a, b = int(origin_zip[:3]), int(dest_zip[:3])
    except ValueError:
        return 5
    return min(8, 2 + abs(a - b) // 120)


def price(level: str, origin_zip: str, dest_zip: str, weight_lb: Decimal) -> Decimal:
    base, per_lb, _days = LEVELS[level]
    billed = max(1, math.ceil(weight_lb))
    cents = base + per_lb * billed * zone(origin_zip, dest_zip) // 2
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def days(level: str, origin_zip: str, dest_zip: str) -> int:
    d = LEVELS[level][2]
    return d + (1 if level in ("ground", "economy") and zone(origin_zip, dest_zip) >= 7 else 0)
