"""Unit conversions the carriers' requests need (grams to pounds, millimetres to inches), exact."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

GRAMS_PER_LB = Decimal("453.59237")


def pounds(grams: int, step: str = "0.1") -> Decimal:
    """Rounded up: a carrier bills the next increment."""
    return (Decimal(grams) / GRAMS_PER_LB).quantize(Decimal(step), rounding=ROUND_CEILING)


def kilograms(grams: int) -> Decimal:
    return (Decimal(grams) / 1000).quantize(Decimal("0.001"), rounding=ROUND_CEILING)


def inches(mm: int) -> Decimal:
    return (Decimal(mm) / Decimal("25.4")).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def centimetres(mm: int) -> Decimal:
    return (Decimal(mm) / 10).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def money(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.0001"))
    except (ArithmeticError, ValueError, TypeError):
        return None
