"""FedEx Track API (``POST /track/v1/trackingnumbers``, up to 30 numbers a request).

Not found comes per number inside a 200 (``trackResults[].error`` TRACKING.TRACKINGNUMBER.NOTFOUND);
request-level errors come as ``{"transactionId", "errors": [{code, message}]}``. The Depot carrier
sandbox speaks this format too, so ``carrier == "sandbox"`` uses these parsers.
"""

from __future__ import annotations

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
    parse_date,
    parse_time,
    place,
    retry_after,
    s,
    sort_events,
    status_message,
)

_LABEL = {"OC", "IN", "SI", "RG"}
_PICKUP = {"PU", "IP", "PX", "PM"}
_TRANSIT = {"IT", "AR", "DP", "AF", "FD", "OF", "LO", "TR", "AA", "AD", "AP", "AC", "CC", "CP", "EO", "EP",
            "IX", "PF", "PL", "SF", "CH", "DR", "RR", "RM", "RC", "OX", "SP", "DS", "RD", "ED"}
_FIXED = {"OD": "out_for_delivery", "DL": "delivered", "SE": "exception", "CA": "cancelled", "RS": "returned",
          "RP": "returned", "CD": "delayed", "DY": "delayed", "DD": "delayed", "HL": "available_for_pickup",
          "HP": "available_for_pickup", "HA": "available_for_pickup"}


def fedex_status(code: str, text: str = "", delayed: bool = False) -> str:
    code, low = code.upper(), text.lower()
    if code in _FIXED:
        status = _FIXED[code]
    elif code == "DE":
        attempted = any(w in low for w in ("attempt", "not available", "business closed", "not home"))
        status = "delivery_attempted" if attempted else "exception"
    elif code in _LABEL:
        status = "label_created"
    elif code in _PICKUP:
        status = "picked_up"
    elif code in _TRANSIT:
        status = "in_transit"
    elif "delivered" in low:
        status = "delivered"
    elif "out for delivery" in low:
        status = "out_for_delivery"
    else:
        status = "unknown"
    if delayed and status in ("label_created", "picked_up", "in_transit", "unknown"):
        return "delayed"
    return status


def error_outcome(code: str, message: str = "", http_status: int | None = None) -> Outcome:
    code, low = code.upper(), message.lower()
    if "NOTFOUND" in code or code == "NOT.FOUND.ERROR":
        return Outcome.NOT_FOUND
    if code in ("NOT.AUTHORIZED.ERROR", "FORBIDDEN.ERROR", "UNAUTHORIZED", "LOGIN.REAUTHENTICATE.ERROR") \
            or "AUTH" in code or "credentials" in low:
        return Outcome.AUTH_FAILED
    if "TOO.MANY" in code or "RATE" in code and "LIMIT" in code:
        return Outcome.RATE_LIMITED
    if code in ("INTERNAL.SERVER.ERROR", "SERVICE.UNAVAILABLE.ERROR", "SYSTEM.UNAVAILABLE.EXCEPTION") \
            or "UNAVAILABLE" in code:
        return Outcome.TRANSIENT
    by_status = outcome_for_status(http_status)
    return by_status if by_status is not None else Outcome.PERMANENT


def _loc(a: Any) -> str:
    a = obj(a)
    return place(a.get("city"), a.get("stateOrProvinceCode"), a.get("countryCode"))


def _event(e: dict[str, Any]) -> TrackEvent:
    code = s(e.get("derivedStatusCode")) or s(e.get("eventType"))
    text = s(e.get("eventDescription")) or s(e.get("derivedStatus"))
    exc = s(e.get("exceptionDescription"))
    if exc and exc.lower() != text.lower():
        text = f"{text} ({exc})" if text else exc
    delayed = s(dig(e, "delayDetail", "status")).upper() == "DELAYED"
    raw = s(e.get("eventType")) or code
    return TrackEvent(parse_time(e.get("date")), fedex_status(code, text, delayed), raw, text,
                      _loc(e.get("scanLocation")))


def _result(tr: dict[str, Any], fallback: str) -> TrackResult:
    number = s(dig(tr, "trackingNumberInfo", "trackingNumber")) or fallback or None
    latest = obj(tr.get("latestStatusDetail"))
    err = obj(tr.get("error"))
    if err and not latest and not tr.get("scanEvents"):
        code, msg = s(err.get("code")), s(err.get("message"))
        return TrackResult(number, error_outcome(code, msg), message=f"FedEx {code}: {msg}")
    events = sort_events(_event(obj(e)) for e in arr(tr.get("scanEvents")))
    code = s(latest.get("derivedCode")) or s(latest.get("code"))
    text = s(latest.get("description")) or s(latest.get("statusByLocale"))
    reasons = [s(a.get("reasonDescription")) for a in map(obj, arr(latest.get("ancillaryDetails")))]
    delayed = s(dig(latest, "delayDetail", "status")).upper() == "DELAYED"
    if code or text:
        status = fedex_status(code, " ".join([text, *reasons]), delayed)
        raw = s(latest.get("code")) or code
    elif events:
        status, raw, text = events[-1].status, events[-1].raw_code, events[-1].description
    else:
        status, raw = "unknown", ""
    if status in ("exception", "delivery_attempted", "delayed") and any(reasons):
        text = f"{text}: {'; '.join(r for r in reasons if r)}"
    if delayed:
        why = " ".join(s(dig(latest, "delayDetail", k)).lower() for k in ("type", "subType")).strip()
        if why and why.split()[0] not in text.lower():
            text = f"{text} ({why})"
    dates = {s(d.get("type")).upper(): d.get("dateTime") for d in map(obj, arr(tr.get("dateAndTimes")))}
    win = obj(dig(tr, "estimatedDeliveryTimeWindow", "window"))
    window = None
    if win.get("begins") or win.get("ends"):
        window = (parse_time(win.get("begins")), parse_time(win.get("ends")))
    eta = (parse_date(dates.get("ESTIMATED_DELIVERY")) or parse_date(dates.get("APPOINTMENT_DELIVERY"))
           or parse_date(dates.get("COMMITMENT")) or parse_date(win.get("ends")) or parse_date(win.get("begins")))
    details = obj(tr.get("deliveryDetails"))
    signed = s(details.get("signedByName")) or s(details.get("receivedByName"))
    pod = None
    if status == "delivered" or signed:
        at = parse_time(dates.get("ACTUAL_DELIVERY")) or next(
            (e.at for e in reversed(events) if e.status == "delivered"), None)
        has_spod = any(s(obj(i).get("type")) == "SIGNATURE_PROOF_OF_DELIVERY" for i in arr(tr.get("availableImages")))
        pod = ProofOfDelivery(signed or None, at, "fedex:SIGNATURE_PROOF_OF_DELIVERY" if has_spod else None)
    return TrackResult(number, Outcome.OK, status, raw, text, eta, window, events, pod)


def _request_errors(data: dict[str, Any], http_status: int | None, wait: float | None,
                    requested: Sequence[str]) -> TrackReply:
    e = obj(arr(data.get("errors"))[0])
    code, msg = s(e.get("code")), s(e.get("message"))
    outcome = error_outcome(code, msg, http_status)
    if http_status in (401, 403):
        outcome = Outcome.AUTH_FAILED
    message = f"FedEx {code}: {msg}" if code else f"FedEx: {msg}"
    shipments = [TrackResult(n, outcome, message=message) for n in requested] \
        if outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT) else []
    return TrackReply(outcome, message, wait if outcome is Outcome.RATE_LIMITED else None, http_status, shipments)


def parse_track(body: Body, http_status: int | None = None, headers: Mapping[str, str] | None = None,
                requested: Sequence[str] = ()) -> TrackReply:
    data, bad = load_json(body, http_status, headers)
    if bad is not None:
        return bad
    wait = retry_after(headers)
    if not isinstance(data, dict):
        return TrackReply(Outcome.MALFORMED, "not a FedEx tracking answer (expected an object)", None, http_status)
    if data and all(k.isdigit() and isinstance(v, dict) for k, v in data.items()):
        return _examples(data, http_status, headers, requested)
    if arr(data.get("errors")) and not dig(data, "output", "completeTrackResults"):
        return _request_errors(data, http_status, wait, requested)
    by_status = outcome_for_status(http_status)
    complete = arr(dig(data, "output", "completeTrackResults"))
    if by_status is not None and not complete:
        return TrackReply(by_status, status_message(http_status, data), wait, http_status)
    if not complete:
        return TrackReply(Outcome.MALFORMED, "FedEx answer without output.completeTrackResults", None, http_status)
    results = []
    for c in map(obj, complete):
        asked = s(c.get("trackingNumber"))
        for tr in map(obj, arr(c.get("trackResults"))):
            r = _result(tr, asked)
            if asked:
                r.tracking_number = asked  # the number we asked about (the echo may be another piece's)
            results.append(r)
    return combine(results, http_status)


def _examples(data: dict[str, Any], http_status: int | None, headers: Mapping[str, str] | None,
              requested: Sequence[str]) -> TrackReply:
    """A file of error bodies keyed by HTTP status (how FedEx's spec lists them): the one for
    ``http_status`` when given, else the first, each read with its own status."""
    import json

    key = str(http_status) if http_status is not None and str(http_status) in data else next(iter(data))
    return parse_track(json.dumps(data[key]), int(key), headers, requested)
