"""UPS Track API v1 (``GET /api/track/v1/details/{inquiryNumber}``) and Track Alert webhook bodies.

UPS answers "not found" as a 200 with ``trackResponse.shipment[].warnings`` (TW0001), and errors
inside ``{"response": {"errors": [{code, message}]}}`` at any status. ``status.type`` (D, I, M, P,
X, RS, MV, O) is the primary signal; the three-digit ``statusCode`` refines it (021 out for
delivery, 022-024 attempts, 032/046-053 delays, 034-037 returns, 040 at an Access Point).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from app.services.carriers.model import Outcome, ProofOfDelivery, TrackEvent, TrackReply, TrackResult
from app.services.carriers.parsing import (
    Body,
    arr,
    combine,
    dig,
    load_json,
    obj,
    outcome_for_status,
    parse_compact,
    parse_date,
    place,
    retry_after,
    s,
    sort_events,
    status_message,
)

_BY_TYPE = {"D": "delivered", "M": "label_created", "P": "picked_up", "O": "out_for_delivery",
            "RS": "returned", "MV": "cancelled", "X": "exception", "I": "in_transit",
            "DO": "delivered", "DD": "delivered", "W": "in_transit", "NA": "unknown"}
_BY_CODE = {"003": "label_created", "045": "label_created", "038": "picked_up", "044": "in_transit",
            "005": "in_transit", "006": "in_transit", "010": "in_transit", "039": "in_transit",
            "021": "out_for_delivery", "071": "out_for_delivery", "072": "out_for_delivery",
            "011": "delivered", "026": "delivered", "007": "cancelled", "043": "cancelled",
            "022": "delivery_attempted", "023": "delivery_attempted", "024": "delivery_attempted",
            "040": "available_for_pickup", "017": "available_for_pickup",
            "034": "returned", "035": "returned", "036": "returned", "037": "returned", "033": "returned",
            "032": "delayed", "046": "delayed", "047": "delayed", "048": "delayed", "049": "delayed",
            "051": "delayed", "052": "delayed", "053": "delayed", "055": "delayed",
            "013": "exception", "029": "exception", "030": "exception", "050": "exception"}
_AUTH_CODES = {"250001", "250002", "250003", "250004", "250007", "250009", "10400", "10401", "10402", "10403",
               "250050"}
_TRANSIENT_CODES = {"190001", "190100", "190101", "190102", "10500", "10503", "9999"}


def ups_status(kind: str, code: str, status_code: str, text: str) -> str:
    kind, low = kind.upper(), text.lower()
    by_code = _BY_CODE.get(status_code)
    if kind in ("D", "DO", "DD"):
        return "delivered"
    if kind in ("RS", "MV", "M", "P", "O"):
        return _BY_TYPE[kind]
    if code in ("OT", "OF", "OD") or "out for delivery" in low:
        return "out_for_delivery"
    if kind in ("X", "I", "W") and by_code:
        return by_code
    if kind == "X":
        if "weather" in low or "delay" in low:
            return "delayed"
        if "attempt" in low or "not available" in low:
            return "delivery_attempted"
        if "return" in low:
            return "returned"
        return "exception"
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    return by_code or "unknown"


def _raw(st: dict[str, Any]) -> str:
    code = s(st.get("code"))
    if len(code) == 8 and code.isdigit():  # a date where a code belongs (seen in UPS samples)
        code = ""
    return "/".join(x for x in (s(st.get("type")), code) if x)


def _error_outcome(code: str, message: str, http_status: int | None) -> Outcome:
    low = message.lower()
    if code in _AUTH_CODES or "unauthorized" in low or "access license" in low or "invalid token" in low:
        return Outcome.AUTH_FAILED
    if code == "TW0001" or "not found" in low:
        return Outcome.NOT_FOUND
    if "429" in code or "too many" in low or "rate limit" in low:
        return Outcome.RATE_LIMITED
    if code in _TRANSIENT_CODES or "unavailable" in low or "timed out" in low:
        return Outcome.TRANSIENT
    by_status = outcome_for_status(http_status)
    if by_status is not None and by_status is not Outcome.NOT_FOUND:
        return by_status
    return Outcome.PERMANENT


def _errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [obj(e) for e in arr(dig(data, "response", "errors"))]


def _event(a: dict[str, Any]) -> TrackEvent:
    st = obj(a.get("status"))
    at = None
    if a.get("gmtDate"):
        at = parse_compact(a.get("gmtDate"), a.get("gmtTime"))
    if at is None:
        at = parse_compact(a.get("date"), a.get("time"))
    addr = obj(dig(a, "location", "address"))
    text = s(st.get("description"))
    return TrackEvent(at, ups_status(s(st.get("type")), s(st.get("code")), s(st.get("statusCode")), text),
                      _raw(st), text, place(addr.get("city"), addr.get("stateProvince"), addr.get("countryCode")))


def _package(pkg: dict[str, Any], inquiry: str) -> TrackResult:
    events = sort_events(_event(obj(a)) for a in arr(pkg.get("activity")))
    cur = obj(pkg.get("currentStatus"))
    if s(cur.get("type")) or s(cur.get("statusCode")):
        text = s(cur.get("description")) or s(cur.get("simplifiedTextDescription"))
        status = ups_status(s(cur.get("type")), s(cur.get("code")), s(cur.get("statusCode")), text)
        raw = _raw(cur) or s(cur.get("statusCode"))
    elif events:
        status, raw, text = events[-1].status, events[-1].raw_code, events[-1].description
    else:
        status, raw, text = "unknown", "", ""
    dates = {s(d.get("type")).upper(): parse_date(d.get("date")) for d in map(obj, arr(pkg.get("deliveryDate")))}
    eta = dates.get("RDD") or dates.get("SDD") or dates.get("DEL")
    dtime = obj(pkg.get("deliveryTime"))
    window = None
    if eta and s(dtime.get("type")).upper() not in ("", "DEL") and (dtime.get("startTime") or dtime.get("endTime")):
        start = parse_compact(eta.strftime("%Y%m%d"), dtime.get("startTime")) if dtime.get("startTime") else None
        end = parse_compact(eta.strftime("%Y%m%d"), dtime.get("endTime")) if dtime.get("endTime") else None
        window = (start, end)
    pod = None
    info = obj(pkg.get("deliveryInformation"))
    if status == "delivered" or info:
        delivered = next((e.at for e in reversed(events) if e.status == "delivered"), None)
        if delivered is None and "DEL" in dates and dates["DEL"]:
            delivered = parse_compact(dates["DEL"].strftime("%Y%m%d"),
                                      dtime.get("endTime") if s(dtime.get("type")).upper() == "DEL" else None)
        image = "ups:signature" if s(dig(info, "signature", "image")) else (
            "ups:photo" if s(dig(info, "deliveryPhoto", "photo")) else None)
        pod = ProofOfDelivery(s(info.get("receivedBy")) or None, delivered, image)
    number = s(pkg.get("trackingNumber")) or inquiry or None
    return TrackResult(number, Outcome.OK, status, raw, text, eta, window, events, pod)


def _webhooks(items: list[dict[str, Any]]) -> TrackReply:
    """Track Alert pushes one activity per POST; grouped per tracking number."""
    by_number: dict[str, list[tuple[TrackEvent, dict[str, Any]]]] = {}
    for w in items:
        number = s(w.get("trackingNumber"))
        st = obj(w.get("activityStatus"))
        text = s(st.get("description"))
        at = parse_compact(w.get("gmtActivityDate"), w.get("gmtActivityTime")) or parse_compact(
            w.get("localActivityDate"), w.get("localActivityTime"))
        loc = obj(w.get("activityLocation"))
        ev = TrackEvent(at, ups_status(s(st.get("type")), s(st.get("code")), s(st.get("descriptionCode")), text),
                        _raw(st), text, place(loc.get("city"), loc.get("stateProvince"), loc.get("country")))
        by_number.setdefault(number, []).append((ev, w))
    results = []
    for number, pairs in by_number.items():
        pairs.sort(key=lambda p: p[0].at or dt.datetime.min.replace(tzinfo=dt.UTC))
        last, raw = pairs[-1]
        eta = next((parse_date(w.get("scheduledDeliveryDate")) for _e, w in reversed(pairs)
                    if w.get("scheduledDeliveryDate")), None)
        pod = ProofOfDelivery(s(raw.get("receivedBy")) or None, last.at) if last.status == "delivered" else None
        results.append(TrackResult(number or None, Outcome.OK, last.status, last.raw_code, last.description, eta,
                                   None, [e for e, _w in pairs], pod))
    return combine(results, None)


def _is_webhook(d: Any) -> bool:
    return isinstance(d, dict) and "trackingNumber" in d and "activityStatus" in d


def parse_track(body: Body, http_status: int | None = None, headers: Mapping[str, str] | None = None,
                requested: Sequence[str] = ()) -> TrackReply:
    data, bad = load_json(body, http_status, headers)
    if bad is not None:
        return bad
    wait = retry_after(headers)
    if isinstance(data, list) and data and all(_is_webhook(x) for x in data):
        return _webhooks(data)
    if not isinstance(data, dict):
        return TrackReply(Outcome.MALFORMED, "not a UPS tracking answer (expected an object)", None, http_status)
    if _is_webhook(data):
        return _webhooks([data])
    if data and all(_is_webhook(v) for v in data.values()):
        return _webhooks(list(data.values()))
    errors = _errors(data)
    if errors and "trackResponse" not in data:
        e = errors[0]
        code, msg = s(e.get("code")), s(e.get("message"))
        outcome = _error_outcome(code, msg, http_status)
        message = f"UPS {code}: {msg}" if code else f"UPS: {msg}"
        shipments = []
        if outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT):
            shipments = [TrackResult(n, outcome, message=message) for n in requested]
        return TrackReply(outcome, message, wait if outcome is Outcome.RATE_LIMITED else None, http_status,
                          shipments)
    by_status = outcome_for_status(http_status)
    if by_status is not None and "trackResponse" not in data:
        return TrackReply(by_status, status_message(http_status, data), wait, http_status)
    shipments_raw = arr(dig(data, "trackResponse", "shipment"))
    if not shipments_raw:
        return TrackReply(Outcome.MALFORMED, "UPS answer without trackResponse.shipment", None, http_status)
    results: list[TrackResult] = []
    for i, sh in enumerate(map(obj, shipments_raw)):
        inquiry = s(sh.get("inquiryNumber")) or (requested[i] if i < len(requested) else "")
        packages = [obj(p) for p in arr(sh.get("package"))]
        warnings = [obj(w) for w in arr(sh.get("warnings"))]
        if packages:
            results.extend(_package(p, inquiry) for p in packages)
            continue
        w = warnings[0] if warnings else {}
        code, msg = s(w.get("code")), s(w.get("message")) or "no package in the answer"
        outcome = _error_outcome(code, msg, None) if w else Outcome.NOT_FOUND
        results.append(TrackResult(inquiry or None, outcome, message=f"UPS {code}: {msg}" if code else msg))
    return combine(results, http_status)

