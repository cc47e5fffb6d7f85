"""Shared pieces of the pure parsers: reading a body that may be JSON, HTML, truncated or empty,
HTTP statuses to outcomes, Retry-After, and the carriers' many time formats.

Every function here is total: a carrier's odd answer becomes an ``Outcome``, never an exception.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.services.carriers.model import Outcome, TrackReply, TrackResult

Body = bytes | str


def text_of(body: Body) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def snippet(body: Body, n: int = 80) -> str:
    """A short, single-line excerpt for messages (tags stripped: HTML error pages are common)."""
    t = re.sub(r"<[^>]*>", " ", text_of(body))
    t = " ".join(t.split())
    return t[:n] + ("..." if len(t) > n else "")


def retry_after(headers: Mapping[str, str] | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110)."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def outcome_for_status(status: int | None) -> Outcome | None:
    """The outcome an HTTP status alone implies; None for 2xx (the body decides)."""
    if status is None or 200 <= status < 300:
        return None
    if status in (401, 403, 407):
        return Outcome.AUTH_FAILED
    if status == 404:
        return Outcome.NOT_FOUND
    if status == 429:
        return Outcome.RATE_LIMITED
    if status in (408, 425) or status >= 500:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


def load_json(body: Body, http_status: int | None, headers: Mapping[str, str] | None = None
              ) -> tuple[Any, TrackReply | None]:
    """(data, None) when the body is JSON; (None, reply) when it cannot be read.

    An unreadable body with an error status takes that status's outcome (an HTML 503 page is
    transient); at 2xx (or unknown) it is malformed."""
    text = text_of(body).strip()
    by_status = outcome_for_status(http_status)
    wait = retry_after(headers)
    if not text:
        if by_status is not None:
            return None, TrackReply(by_status, f"HTTP {http_status} with an empty body", wait, http_status)
        return None, TrackReply(Outcome.MALFORMED, "empty body", None, http_status)
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        kind = "an HTML page" if text[:1] == "<" else f"unreadable JSON ({e.msg} at {e.pos})"
        if by_status is not None:
            return None, TrackReply(by_status, f"HTTP {http_status}: {kind}: {snippet(text)}", wait, http_status)
        return None, TrackReply(Outcome.MALFORMED, f"{kind}: {snippet(text)}", None, http_status)


def brief(data: Any) -> str:
    """The words of an error body we do not otherwise know (title, detail, message)."""
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("title", "detail", "message", "error") if isinstance(data.get(k), str)]
        return ": ".join(dict.fromkeys(parts))[:160]
    return ""


def status_message(http_status: int | None, data: Any) -> str:
    words = brief(data)
    return f"HTTP {http_status}: {words}" if words else f"HTTP {http_status}"


def combine(shipments: list[TrackResult], http_status: int | None, message: str = "") -> TrackReply:
    """A reply whose outcome is ok when any shipment is, else the shipments' common outcome."""
    outcomes = {s.outcome for s in shipments}
    if not shipments:
        return TrackReply(Outcome.MALFORMED, message or "no shipment in the answer", None, http_status)
    if Outcome.OK in outcomes:
        outcome = Outcome.OK
    elif len(outcomes) == 1:
        outcome = outcomes.pop()
    else:
        outcome = Outcome.PERMANENT if Outcome.PERMANENT in outcomes else Outcome.NOT_FOUND
    msg = message or "; ".join(dict.fromkeys(s.message for s in shipments if s.message))
    return TrackReply(outcome, msg, None, http_status, shipments)


# -- values ------------------------------------------------------------------------------------
def s(v: Any) -> str:
    """A carrier scalar as clean text ("" for None, lists, objects)."""
    if type(v) is str:
        return v.strip()
    if v is None or isinstance(v, (dict, list)):
        return ""
    return str(v).strip()


def obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def arr(v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    return [v] if isinstance(v, dict) else []


def dig(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_EIGHT = re.compile(r"\d{8}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NON_DIGIT = re.compile(r"\D")
_OFFSET = re.compile(r"^([+-])(\d{1,2}):?(\d{2})?$")


def parse_offset(text: str) -> dt.tzinfo | None:
    m = _OFFSET.match(text.strip()) if text else None
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return dt.timezone((-1 if m.group(1) == "-" else 1) * dt.timedelta(minutes=minutes))


def parse_time(value: Any, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """An ISO 8601 time (with or without offset, 'Z', fractions, a space instead of 'T') to UTC.

    A time without an offset is read in ``tz`` when given, else taken as UTC (the carriers'
    local times without an offset cannot be placed better)."""
    text = s(value)
    if not text or len(text) < 10:
        return None
    try:  # the common case: a well-formed ISO 8601 time (3.11 reads 'Z' and offsets)
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        t = None
    if t is not None:
        if t.tzinfo is None:
            t = t.replace(tzinfo=tz or dt.UTC)
        return t.astimezone(dt.UTC)
    text = text.replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.11 reads at most 6 fraction digits; carriers send 1..9
    text = _FRACTION.sub(r"\1", text)
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or dt.UTC)
    return t.astimezone(dt.UTC)


def parse_date(value: Any) -> dt.date | None:
    """'2024-11-22', '20241122' or the date part of a timestamp, as written (no zone shift)."""
    text = s(value)
    if _EIGHT.fullmatch(text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    m = _ISO_DATE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_compact(date: Any, time: Any = None, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """UPS style 'YYYYMMDD' + 'HHMMSS' (local time unless ``tz``) to UTC."""
    d = parse_date(date)
    if d is None:
        return None
    t = _NON_DIGIT.sub("", s(time)).ljust(6, "0")[:6]
    try:
        local = dt.datetime(d.year, d.month, d.day, int(t[:2]), int(t[2:4]), int(t[4:6]))
    except ValueError:
        local = dt.datetime(d.year, d.month, d.day)
    return local.replace(tzinfo=tz or dt.UTC).astimezone(dt.UTC)


def place(*parts: Any) -> str:
    return ", ".join([p for p in map(s, parts) if p])


def sort_events(events: Iterable[Any]) -> list[Any]:
    """Oldest first; events without a time keep their order at the start."""
    evs = list(events)
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(evs, key=lambda e: e.at or floor)
