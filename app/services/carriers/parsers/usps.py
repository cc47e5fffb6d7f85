"""USPS Tracking v3 (``GET /tracking/v3/tracking/{number}?expand=DETAIL``).

``statusCategory`` (Pre-Shipment, Accepted, In Transit, Out for Delivery, Delivered, Alert,
Available for Pickup, Return to Sender, Delivery Attempt) is the primary signal; the latest
``eventCode`` refines it. Errors come as ``{"apiVersion", "error": {code, message, errors[]}}``;
an unknown number is reported inside the error (or, in older answers, as a status text).
A list of bodies (as recorded for several numbers) reads as one answer per number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.services.carriers.model import Outcome, ProofOfDelivery, TrackEvent, TrackReply, TrackResult
from app.services.carriers.parsing import (
    Body,
    arr,
    combine,
    load_json,
    obj,
    outcome_for_status,
    parse_date,
    parse_offset,
    parse_time,
    place,
    retry_after,
    s,
    sort_events,
    status_message,
)

_CATEGORY = {"pre-shipment": "label_created", "accepted": "picked_up", "in transit": "in_transit",
             "out for delivery": "out_for_delivery", "delivered": "delivered", "alert": "exception",
             "available for pickup": "available_for_pickup", "return to sender": "returned",
             "returned": "returned", "delivery attempt": "delivery_attempted", "delayed": "delayed",
             "cancelled": "cancelled", "canceled": "cancelled"}
_CODES: dict[str, str] = {
    **dict.fromkeys(("GX", "MA", "GM", "GC"), "label_created"),
    **dict.fromkeys(("03", "43", "80", "OA", "17"), "picked_up"),
    **dict.fromkeys(("07", "10", "A1", "T1", "SF", "TL", "U1", "PC", "L1", "82", "81", "06", "08", "15"),
                    "in_transit"),
    **dict.fromkeys(("OF", "59"), "out_for_delivery"),
    **dict.fromkeys(("01", "DX"), "delivered"),
    **dict.fromkeys(("02", "51", "52", "53", "54", "55", "56", "57"), "delivery_attempted"),
    **dict.fromkeys(("04", "05", "11", "21", "22", "23", "24", "25", "26", "27", "28"), "exception"),
    **dict.fromkeys(("09", "29", "31"), "returned"),
    **dict.fromkeys(("14", "16"), "available_for_pickup"),
    "NT": "delayed",
}
_NOT_FOUND_WORDS = ("could not locate", "not found", "not available", "no record", "status not available",
                    "label has been created, but")


def usps_status(category: str, code: str, text: str) -> str:
    by_cat = _CATEGORY.get(category.strip().lower())
    by_code = _CODES.get(code.strip().upper())
    low = text.lower()
    if by_cat in ("in_transit", "exception", None) and by_code in ("out_for_delivery", "delayed",
                                                                  "delivery_attempted", "returned"):
        return by_code or "unknown"
    if by_cat:
        return by_cat
    if by_code:
        return by_code
    for words, status in (("delivered", "delivered"), ("out for delivery", "out_for_delivery"),
                          ("notice left", "delivery_attempted"), ("return to sender", "returned"),
                          ("in transit", "in_transit"), ("label created", "label_created")):
        if words in low:
            return status
    return "unknown"


def _event(e: dict[str, Any]) -> TrackEvent:
    tz = parse_offset(s(e.get("GMTOffset")))
    at = parse_time(e.get("GMTTimestamp")) or parse_time(e.get("eventTimestamp"), tz)
    text = s(e.get("eventType"))
    code = s(e.get("eventCode"))
    return TrackEvent(at, usps_status("", code, text), code, text,
                      place(e.get("eventCity"), e.get("eventState"), e.get("eventZIP"), e.get("eventCountry")))


def _piece(d: dict[str, Any], fallback: str) -> TrackResult:
    number = s(d.get("trackingNumber")) or fallback or None
    events = sort_events(_event(obj(e)) for e in arr(d.get("trackingEvents")))
    category, text = s(d.get("statusCategory")), s(d.get("status"))
    latest_code = events[-1].raw_code if events else ""
    if not category and not events and any(w in (text + s(d.get("statusSummary"))).lower() for w in _NOT_FOUND_WORDS):
        return TrackResult(number, Outcome.NOT_FOUND, message=f"USPS: {text or s(d.get('statusSummary'))}")
    status = usps_status(category, latest_code, text or s(d.get("statusSummary")))
    raw = category or latest_code
    eta = (parse_date(d.get("expectedDeliveryDate")) or parse_date(d.get("expectedDeliveryTimeStamp"))
           or parse_date(d.get("predictedDeliveryDate")) or parse_date(d.get("predictedDeliveryTimeStamp"))
           or parse_date(d.get("guaranteedDeliveryTimeStamp")))
    window = None
    if eta and (d.get("predictedDeliveryWindowStartTime") or d.get("predictedDeliveryWindowEndTime")):
        def at(t: Any) -> Any:
            return parse_time(f"{eta.isoformat()}T{s(t)}") if s(t) else None

        start, end = at(d.get("predictedDeliveryWindowStartTime")), at(d.get("predictedDeliveryWindowEndTime"))
        window = (start, end) if start or end else None
    pod = None
    if status == "delivered":
        delivered = next((e for e in reversed(events) if e.status == "delivered"), None)
        raw_ev = next((obj(e) for e in arr(d.get("trackingEvents")) if s(obj(e).get("eventCode")) in ("01", "DX")), {})
        who = s(raw_ev.get("name")) or s(raw_ev.get("firm")) or None
        pod = ProofOfDelivery(who, delivered.at if delivered else None,
                              "usps:proof-of-delivery" if str(d.get("proofOfDeliveryEnabled")).lower() == "true"
                              else None)
    return TrackResult(number, Outcome.OK, status, raw, text or s(d.get("statusSummary")), eta, window, events, pod)


def _error(err: dict[str, Any], http_status: int | None, wait: float | None,
           requested: Sequence[str]) -> TrackReply:
    code, msg = s(err.get("code")), s(err.get("message"))
    details = [obj(e) for e in arr(err.get("errors"))]
    detail = "; ".join(x for x in (s(e.get("detail")) or s(e.get("title")) for e in details) if x)
    status = http_status or (int(code) if code.isdigit() else None)
    text = f"{msg} {detail}".lower()
    outcome = outcome_for_status(status) or Outcome.PERMANENT
    if any(w in text for w in _NOT_FOUND_WORDS):
        outcome = Outcome.NOT_FOUND
    elif "unauthorized" in text or "invalid_token" in text or "invalid token" in text:
        outcome = Outcome.AUTH_FAILED
    message = f"USPS {code}: {msg}" + (f" ({detail})" if detail else "")
    shipments = [TrackResult(n, outcome, message=message) for n in requested] \
        if outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT) else []
    return TrackReply(outcome, message, wait if outcome is Outcome.RATE_LIMITED else None, status, shipments)


def parse_track(body: Body, http_status: int | None = None, headers: Mapping[str, str] | None = None,
                requested: Sequence[str] = ()) -> TrackReply:
    data, bad = load_json(body, http_status, headers)
    if bad is not None:
        return bad
    wait = retry_after(headers)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(x, dict) for x in items):
        return TrackReply(Outcome.MALFORMED, "not a USPS tracking answer", None, http_status)
    first = items[0]
    if len(items) == 1 and isinstance(first.get("error"), (dict, str)) and not first.get("trackingNumber"):
        err = first["error"] if isinstance(first["error"], dict) else {
            "code": str(http_status or ""), "message": f"{first['error']} {s(first.get('error_description'))}"}
        return _error(err, http_status, wait, requested)
    by_status = outcome_for_status(http_status)
    if by_status is not None:
        return TrackReply(by_status, status_message(http_status, data), wait, http_status)
    results = []
    for i, d in enumerate(items):
        if isinstance(d.get("error"), dict) and not d.get("trackingEvents"):
            sub = _error(d["error"], None, None, [s(d.get("trackingNumber")) or (requested[i] if i < len(requested) else "")])
            results.extend(sub.shipments or [TrackResult(s(d.get("trackingNumber")) or None, sub.outcome,
                                                         message=sub.message)])
            continue
        results.append(_piece(d, requested[i] if i < len(requested) else ""))
    return combine(results, http_status)
