"""Money as people read it, shared by screens, the CLI and documents.

The data keeps the exact figure (1/10,000 of the currency unit); what a person reads is rounded
to the currency's decimals (ISO 4217 minor units), and a document's total is the sum of the
extensions *as printed*, so a supplier adding up the PO gets our total to the cent. Unit prices
may carry more decimals where the price list has them: a list of prices is shown with one number
of decimals for all of them (the most any of them needs, at least the currency's), so 10.48 and
36.5760 never stand in one column as "10.48" and "36.576".
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

#: currencies whose minor unit is not 2 digits (ISO 4217); every other code has 2
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3,
                "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3}
#: the most decimals a stored price has (Money() keeps 1/10,000)
MAX_PRICE_DECIMALS = 4


def decimals(currency: str) -> int:
    return _MINOR_UNITS.get((currency or "").strip().upper(), 2)


def _q(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """``amount`` rounded half-up to the currency's decimals (what a person reads and adds up)."""
    return Decimal(amount).quantize(_q(decimals(currency)), rounding=ROUND_HALF_UP)


def line_total(qty: int, unit_price: Decimal, currency: str = "USD") -> Decimal:
    """A line's extension as printed: quantity x unit price, rounded to the currency's decimals."""
    return round_money(Decimal(qty) * Decimal(unit_price), currency)


def document_total(extensions: Iterable[Decimal], currency: str = "USD") -> Decimal:
    """The total of printed extensions (each rounded first), so the printed figures add up."""
    return sum((round_money(e, currency) for e in extensions), Decimal(0))


def fmt_money(amount: Decimal, currency: str = "USD", *, code: bool = False) -> str:
    """'12,768.47' (or '12,768.47 USD'): thousands separated, the currency's decimals."""
    text = f"{round_money(amount, currency):,.{decimals(currency)}f}"
    return f"{text} {currency.upper()}" if code else text


def price_places(prices: Iterable[Decimal], currency: str = "USD") -> int:
    """The decimals one column of unit prices is shown with: the currency's, or more when a price has them."""
    places = decimals(currency)
    for p in prices:
        exp = Decimal(p).normalize().as_tuple().exponent
        need = -exp if isinstance(exp, int) and exp < 0 else 0
        places = max(places, min(need, MAX_PRICE_DECIMALS))
    return places


def fmt_price(price: Decimal, places: int) -> str:
    """A unit price with the column's decimals (see ``price_places``)."""
    return f"{Decimal(price).quantize(_q(places), rounding=ROUND_HALF_UP):,.{places}f}"


def price_unit(uom: str, base_units: int = 1) -> str:
    """What a price is per: 'per EA', 'per CS of 24'."""
    u = (uom or "EA").strip().upper()
    return f"per {u}" + (f" of {base_units:,}" if base_units > 1 else "")
