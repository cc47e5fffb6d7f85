"""Which carrier a tracking number belongs to, where its shape says so beyond doubt.

Only distinctive formats are claimed (UPS 1Z, USPS IMpb and S10, DHL eCommerce JD/JJD, the Depot
sandbox's SBX); a bare 10-15 digit number could be several carriers' and is left to the carrier.
"""

from __future__ import annotations

import re

_PATTERNS = (
    ("ups", re.compile(r"^1Z[0-9A-Z]{16}$")),
    ("usps", re.compile(r"^(9[2-5]\d{20}|[A-Z]{2}\d{9}US)$")),  # not 82 + 8 digits: a DHL Express waybill too
    ("dhl", re.compile(r"^(JD\d{18}|JJD\d{8,})$")),
    ("sandbox", re.compile(r"^SBX\d{6,}$")),
)


def carrier_of(number: str) -> str | None:
    n = number.strip().upper().replace(" ", "")
    for api, pattern in _PATTERNS:
        if pattern.match(n):
            return api
    return None
