"""Interpret one scan string: what a barcode scanner (or a person) typed into the scan field.

Pure functions, no database: ``parse_scan`` says what *kind* of thing was scanned; the
receiving session (``session.py``) then resolves codes against the receipt it is working on.

Scan grammar (leading/trailing blanks ignored; letters are case-insensitive)::

    *N | QN | Q N          quantity key: the next scan counts N times (N = 1..999999)
    R:DAMAGED              the next scan's units are damaged (they go to the QA hold)
    R:SHORT                the last scanned item was short-shipped (reason for an under-receipt)
    LOT:code               lot of the item waiting for one (or of the last lot item)
    SN:serial              serial of the item waiting for one
    EXP:YYYY-MM-DD|YYMMDD  expiry of the lot just given
    (AI)value(AI)value...  GS1-128 element string with parentheses, e.g. (01)00012345678905(10)L1(17)270131
    ]C1...  or digits with FNC1 (\\x1d) between variable fields: the same element string as the scanner
            sends it (AIM symbology prefix ]C1 optional)
    8/12/13/14 digits      GTIN-8/UPC-A/EAN-13/GTIN-14 of a base unit or a pack unit (check digit verified)
    18 digits              SSCC-18 of an ASN carton (check digit verified); 20 digits starting 00 = (00)SSCC
    anything else          an item SKU; or, when the session waits for a lot or a serial, that lot/serial

Supported AIs: (00) SSCC, (01) GTIN, (02) GTIN of contained items, (10) lot, (11) production date,
(17) expiry YYMMDD (day 00 = last day of the month), (21) serial, (30)/(37) count.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from app.services.errors import ValidationError

GS = "\x1d"

#: AI -> fixed length of its value (None = variable, ended by FNC1 or the end), max length
_AIS: dict[str, tuple[int | None, int]] = {
    "00": (18, 18), "01": (14, 14), "02": (14, 14), "10": (None, 20), "11": (6, 6), "13": (6, 6),
    "15": (6, 6), "17": (6, 6), "21": (None, 20), "30": (None, 8), "37": (None, 8),
}

_QTY_RE = re.compile(r"^(?:\*|Q\s*)(\d{1,6})$", re.IGNORECASE)
_PAREN_RE = re.compile(r"\((\d{2,4})\)([^()]*)")


@dataclass(frozen=True)
class Scan:
    """One interpreted scan. ``kind``: qty | reason | lot | serial | expiry | gtin | sscc | gs1 | text."""

    kind: str
    raw: str
    qty: int | None = None
    reason: str = ""
    gtin: str = ""
    sscc: str = ""
    lot: str = ""
    serial: str = ""
    expiry: dt.date | None = None
    count: int | None = None
    text: str = ""


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (the digits before the check digit)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def valid_check_digit(code: str) -> bool:
    return code.isdigit() and len(code) >= 2 and gs1_check_digit(code[:-1]) == int(code[-1])


def normalise_gtin(code: str) -> str:
    """GTIN-8/12/13/14 as the 14-digit form items store (left-padded with zeros)."""
    return code.zfill(14)


def parse_yymmdd(value: str, field: str = "expiry (17)") -> dt.date:
    """GS1 date YYMMDD; DD = 00 means the last day of the month. Years 00-49 are 20xx, 50-99 19xx
    (GS1 General Specifications use a sliding window; for expiry dates this is the same until 2049)."""
    if len(value) != 6 or not value.isdigit():
        raise ValidationError(field, f"{value!r} is not a YYMMDD date")
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    year = 2000 + yy if yy < 50 else 1900 + yy
    if not 1 <= mm <= 12:
        raise ValidationError(field, f"{value!r} has month {mm:02d}")
    if dd == 0:
        dd = calendar.monthrange(year, mm)[1]
    try:
        return dt.date(year, mm, dd)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a real date") from None


def parse_date(value: str, field: str = "expiry") -> dt.date:
    v = value.strip()
    if len(v) == 6 and v.isdigit():
        return parse_yymmdd(v, field)
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date (YYYY-MM-DD or YYMMDD)") from None


def parse_element_string(data: str) -> dict[str, str]:
    """Split a GS1 element string (parenthesised, or raw with FNC1 as \\x1d) into {AI: value}."""
    out: dict[str, str] = {}
    if data.startswith("("):
        pos = 0
        for m in _PAREN_RE.finditer(data):
            if m.start() != pos:
                raise ValidationError("scan", f"cannot read GS1 text near {data[pos:pos + 12]!r}")
            out[m.group(1)] = m.group(2)
            pos = m.end()
        if pos != len(data):
            raise ValidationError("scan", f"cannot read GS1 text near {data[pos:pos + 12]!r}")
    else:
        s = data
        while s:
            if s.startswith(GS):
                s = s[1:]
                continue
            ai = s[:2]
            if ai not in _AIS:
                raise ValidationError("scan", f"unsupported GS1 application identifier ({ai}) in {data!r}")
            fixed, maxlen = _AIS[ai]
            s = s[2:]
            if fixed is not None:
                value, s = s[:fixed], s[fixed:]
            else:
                end = s.find(GS)
                end = len(s) if end < 0 else end
                value, s = s[:end], s[end:]
            out[ai] = value
    for ai, value in out.items():
        if ai not in _AIS:
            raise ValidationError("scan", f"unsupported GS1 application identifier ({ai})")
        fixed, maxlen = _AIS[ai]
        if (fixed is not None and len(value) != fixed) or not value or len(value) > maxlen:
            raise ValidationError("scan", f"GS1 ({ai}) value {value!r} has the wrong length")
    return out


def _gs1_scan(raw: str, ais: dict[str, str]) -> Scan:
    gtin = ais.get("01") or ais.get("02") or ""
    sscc = ais.get("00", "")
    if gtin and not valid_check_digit(gtin):
        raise ValidationError("scan", f"GTIN {gtin} has a wrong check digit")
    if sscc and not valid_check_digit(sscc):
        raise ValidationError("scan", f"SSCC {sscc} has a wrong check digit")
    count_txt = ais.get("37") or ais.get("30")
    if count_txt is not None and (not count_txt.isdigit() or int(count_txt) == 0):
        raise ValidationError("scan", f"GS1 count {count_txt!r} is not a positive number")
    if not gtin and not sscc:
        raise ValidationError("scan", "GS1 code without (01) GTIN or (00) SSCC: cannot tell what it is")
    return Scan(
        kind="gs1", raw=raw, gtin=normalise_gtin(gtin) if gtin else "", sscc=sscc, lot=ais.get("10", ""),
        serial=ais.get("21", ""), expiry=parse_yymmdd(ais["17"]) if "17" in ais else None,
        count=int(count_txt) if count_txt else None,
    )


def parse_scan(raw: str) -> Scan:
    """Interpret one scan (see the module docstring for the grammar). Raises ValidationError."""
    s = raw.strip("\r\n\t ")
    if not s:
        raise ValidationError("scan", "empty scan")
    m = _QTY_RE.match(s)
    if m:
        n = int(m.group(1))
        if n == 0:
            raise ValidationError("quantity key", "must be more than zero")
        return Scan(kind="qty", raw=raw, qty=n)
    upper = s.upper()
    for prefix, kind in (("R:", "reason"), ("LOT:", "lot"), ("SN:", "serial"), ("EXP:", "expiry")):
        if upper.startswith(prefix):
            value = s[len(prefix):].strip()
            if not value:
                raise ValidationError("scan", f"{prefix} needs a value")
            if kind == "reason":
                reason = value.lower()
                if reason not in ("damaged", "short"):
                    raise ValidationError("reason", f"{value!r} is not a reason (DAMAGED or SHORT)")
                return Scan(kind="reason", raw=raw, reason=reason)
            if kind == "expiry":
                return Scan(kind="expiry", raw=raw, expiry=parse_date(value))
            if kind == "lot":
                return Scan(kind="lot", raw=raw, lot=value)
            return Scan(kind="serial", raw=raw, serial=value)
    if s.startswith("]C1"):
        return _gs1_scan(raw, parse_element_string(s[3:]))
    if s.startswith("("):
        return _gs1_scan(raw, parse_element_string(s))
    if GS in s:
        return _gs1_scan(raw, parse_element_string(s))
    if re.match(r"^(01\d{14}.|00\d{18}$)", s):
        return _gs1_scan(raw, parse_element_string(s))
    if s.isdigit():
        if len(s) in (8, 12, 13, 14):
            if not valid_check_digit(s):
                raise ValidationError("scan", f"{s} looks like a GTIN but its check digit is wrong")
            return Scan(kind="gtin", raw=raw, gtin=normalise_gtin(s))
        if len(s) == 18:
            if not valid_check_digit(s):
                raise ValidationError("scan", f"{s} looks like an SSCC but its check digit is wrong")
            return Scan(kind="sscc", raw=raw, sscc=s)
    return Scan(kind="text", raw=raw, text=s)
