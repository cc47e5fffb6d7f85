"""The replenishment maths, in one place, for one pair or for whole arrays of pairs.

Why these formulas (see docs/replenishment.md for the worked example):

* Demand is read from weekly buckets of sales history (zero weeks count) and converted to
  days: ``d = mean_week / 7`` and ``sigma_d = sd_week / sqrt(7)`` (weeks assumed independent,
  days within a week too). Weekly buckets smooth the day-of-week pattern that would
  otherwise inflate the daily deviation.
* Safety stock covers both demand and lead-time variability:
  ``SS = z * sqrt(LT * sigma_d**2 + d**2 * sigma_LT**2)`` with ``z = NormalDist().inv_cdf(p)``
  for the service-level target ``p`` of the item's velocity class.
* Reorder point ``ROP = d * LT + SS``; order-up-to level ``OUL = ROP + d * R`` where ``R``
  is the review period of the class (a periodic-review (R, s, S) policy: the order must
  last until the next review). EOQ is not used: holding and ordering costs are not kept.
* Position = on hand + on order + inbound transfers + open requisitions - allocated.
  Order when position <= ROP; raw quantity = ceil(OUL - position), rounded UP to the pack
  size and to at least the minimum order (itself rounded up to the pack).

Statistics are floats (they are estimates, not stock); every quantity that leaves this
module is an integer number of base units, and every cost a Decimal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

#: service-level targets per velocity class when no replenishment_class row overrides them
DEFAULT_SERVICE_LEVEL_PCT: dict[str, Decimal] = {"A": Decimal("98"), "B": Decimal("95"), "C": Decimal("90")}
#: review period (days) per class when not configured
DEFAULT_REVIEW_DAYS = 7
#: weeks of sales history read by default
DEFAULT_HISTORY_WEEKS = 26
#: transfer lane defaults when no transfer_lane row exists for a pair of warehouses
DEFAULT_TRANSFER_DAYS = 2
DEFAULT_TRANSFER_COST_PER_UNIT = Decimal("0.05")
DEFAULT_TRANSFER_COST_PER_SHIPMENT = Decimal("25.00")

FloatArray = npt.NDArray[np.float64]


def z_for(service_level_pct: Decimal | float) -> float:
    """Standard-normal quantile for a service level given in percent (95 -> 1.6449)."""
    p = float(service_level_pct) / 100.0
    if not 0.0 < p < 1.0:
        raise ValueError(f"service level {service_level_pct}% must be between 0 and 100 (exclusive)")
    return NormalDist().inv_cdf(p)


def demand_from_weeks(total: FloatArray, total_sq: FloatArray, weeks: int) -> tuple[FloatArray, FloatArray]:
    """Daily mean and standard deviation from per-pair sums of weekly sales and their squares.

    ``weeks`` is the number of buckets including weeks without sales (they are zeros).
    Sample standard deviation (n - 1); one week of history gives zero deviation.
    """
    n = float(weeks)
    mean_w = total / n
    if weeks > 1:
        var_w = np.maximum((total_sq - n * mean_w * mean_w) / (n - 1.0), 0.0)
    else:
        var_w = np.zeros_like(total)
    return mean_w / 7.0, np.sqrt(var_w) / math.sqrt(7.0)


def safety_stock(z: FloatArray | float, d: FloatArray | float, sigma_d: FloatArray | float,
                 lt: FloatArray | float, sigma_lt: FloatArray | float) -> FloatArray:
    """``z * sqrt(LT * sigma_d^2 + d^2 * sigma_LT^2)`` (vectorised)."""
    return np.asarray(z * np.sqrt(np.asarray(lt) * np.square(sigma_d) + np.square(d) * np.square(sigma_lt)),
                      dtype=np.float64)


def levels(z: FloatArray | float, d: FloatArray | float, sigma_d: FloatArray | float, lt: FloatArray | float,
           sigma_lt: FloatArray | float, review_days: FloatArray | float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(SS, ROP, OUL) for arrays of pairs."""
    ss = safety_stock(z, d, sigma_d, lt, sigma_lt)
    rop = np.asarray(np.asarray(d) * np.asarray(lt) + ss, dtype=np.float64)
    oul = np.asarray(rop + np.asarray(d) * np.asarray(review_days), dtype=np.float64)
    return ss, rop, oul


@dataclass(frozen=True)
class Rounded:
    qty: int
    note: str


def round_order(raw: int, pack_size: int, min_order: int) -> Rounded:
    """Round a raw need UP to whole packs and to at least the minimum order (in whole packs)."""
    pack = max(int(pack_size), 1)
    moq = max(int(min_order), 1)
    if raw <= 0:
        return Rounded(0, "no need")
    qty = -(-raw // pack) * pack
    notes = []
    if qty != raw:
        notes.append(f"{raw} rounded up to {qty} (pack of {pack})")
    if qty < moq:
        moq_packs = -(-moq // pack) * pack
        notes.append(f"raised to minimum order {moq}" + (f" = {moq_packs} in packs of {pack}" if moq_packs != moq else ""))
        qty = moq_packs
    return Rounded(qty, "; ".join(notes) or "none")


def need_qty(position: int, rop: float, oul: float) -> int:
    """Raw quantity to order for one pair: 0 unless position <= ROP."""
    if position > rop:
        return 0
    return max(math.ceil(oul - position - 1e-9), 0)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))
