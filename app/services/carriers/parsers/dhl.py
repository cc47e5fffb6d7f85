"""DHL Shipment Tracking - Unified (``GET /track/shipments?trackingNumber=...``, ``DHL-API-Key``).

Unlike the others DHL answers "not found" as a 404 ``application/problem+json`` body
(``{title, status, detail, instance}``), and so are its other errors. ``status.statusCode`` is the
documented enum (pre-transit, transit, delivered, failure, unknown) and wins over the free-text
``status.status``; the published sample is inconsistent on purpose (DELIVERED vs pre-transit).
"""

from __future__ import annotations

import re
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
)

_CODES = {"pre-transit": "label_created", "transit": "in_transit", "delivered": "delivered",
          "failure": "exception", "unknown": "unknown"}


def dhl_status(code: str, text: str) -> str:
    base = _CODES.get(code.lower(), "")
    low = text.lower()
    if "cancel" in low and base != "delivered":
        return "cancelled"
    if base in ("in_transit", "exception", ""):
        if "out for delivery" in low or "with delivery courier" in low:
            return "out_for_delivery"
        if "attempt" in low or "not at home" in low or "recipient not" in low:
            return "delivery_attempted"
        if "returned" in low or "return to sender" in low or "returning" in low:
            return "returned"
        if "delay" in low or "weather" in low:
            return "delayed"
        if "ready for pickup" in low or "parcel shop" in low or "service point" in low:
            return "available_for_pickup"
        if not base:
            if "delivered" in low:
                return "delivered"
            if "picked up" in low or "processed" in low:
                return "in_transit"
    return base or "unknown"


def _text(st: dict[str, Any]) -> str:
    return s(st.get("description")) or s(st.get("status"))


def _loc(st: dict[str, Any]) -> str:
    a = obj(dig(st, "location", "address"))
    return place(a.get("addressLocality"), a.get("postalCode"), a.get("countryCode"))


def _event(e: dict[str, Any]) -> TrackEvent:
    text = _text(e)
    code = s(e.get("statusCode"))
    return TrackEvent(parse_time(e.get("timestamp")), dhl_status(code, f"{text} {s(e.get('status'))}"),
                      code or s(e.get("status")), text, _loc(e))


def _shipment(sh: dict[str, Any]) -> TrackResult:
    st = obj(sh.get("status"))
    events = sort_events(_event(obj(e)) for e in arr(sh.get("events")))
    code = s(st.get("statusCode"))
    text = _text(st)
    if st:
        status = dhl_status(code, f"{text} {s(st.get('status'))}")
        raw = code or s(st.get("status"))
    elif events:
        status, raw, text = events[-1].status, events[-1].raw_code, events[-1].description
    else:
        status, raw = "unknown", ""
    remark = s(st.get("remark"))
    if remark and status in ("exception", "delayed", "delivery_attempted"):
        text = f"{text}: {remark}" if text else remark
    frame = obj(sh.get("estimatedDeliveryTimeFrame"))
    window = None
    if frame.get("estimatedFrom") or frame.get("estimatedThrough"):
        window = (parse_time(frame.get("estimatedFrom")), parse_time(frame.get("estimatedThrough")))
    eta = parse_date(sh.get("estimatedTimeOfDelivery")) or parse_date(frame.get("estimatedThrough")) \
        or parse_date(frame.get("estimatedFrom"))
    proof = obj(dig(sh, "details", "proofOfDelivery"))
    pod = None
    if proof or status == "delivered":
        signed = obj(proof.get("signed"))
        who = s(signed.get("name")) or " ".join(x for x in (s(signed.get("givenName")), s(signed.get("familyName"))) if x)
        image = s(proof.get("documentUrl")) or s(proof.get("signatureUrl")) or None
        at = parse_time(proof.get("timestamp")) or next((e.at for e in reversed(events) if e.status == "delivered"), None)
        pod = ProofOfDelivery(who or None, at, image)
    number = sh.get("id")
    return TrackResult(s(number) or None, Outcome.OK, status, raw, text, eta, window, events, pod)


def _problem(data: dict[str, Any], http_status: int | None, wait: float | None,
             requested: Sequence[str]) -> TrackReply:
    status = http_status
    if status is None and isinstance(data.get("status"), int):
        status = data["status"]
    outcome = outcome_for_status(status) or Outcome.PERMANENT
    if outcome is Outcome.NOT_FOUND and status is None:
        outcome = Outcome.PERMANENT
    title, detail = s(data.get("title")), s(data.get("detail"))
    message = f"DHL {status}: {title}" + (f" ({detail})" if detail and detail != title else "")
    shipments: list[TrackResult] = []
    if outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT):
        numbers = list(requested)
        if not numbers:
            m = re.search(r"/([^/?#]+)/?$", s(data.get("instance")))
            numbers = [m.group(1)] if m else []
        shipments = [TrackResult(n, outcome, message=message) for n in numbers]
    return TrackReply(outcome, message, wait if outcome is Outcome.RATE_LIMITED else None, status, shipments)


def parse_track(body: Body, http_status: int | None = None, headers: Mapping[str, str] | None = None,
                requested: Sequence[str] = ()) -> TrackReply:
    data, bad = load_json(body, http_status, headers)
    if bad is not None:
        if bad.outcome is Outcome.NOT_FOUND:
            bad.shipments = [TrackResult(n, Outcome.NOT_FOUND, message=bad.message) for n in requested]
        return bad
    wait = retry_after(headers)
    if not isinstance(data, dict):
        return TrackReply(Outcome.MALFORMED, "not a DHL tracking answer (expected an object)", None, http_status)
    if "shipments" not in data and ("title" in data or "detail" in data or outcome_for_status(http_status)):
        return _problem(data, http_status, wait, requested)
    shipments = [obj(x) for x in arr(data.get("shipments"))]
    if not shipments:
        if requested and http_status in (None, 200):
            return combine([TrackResult(n, Outcome.NOT_FOUND, message="DHL: no shipment found") for n in requested],
                           http_status)
        return TrackReply(Outcome.MALFORMED, "DHL answer without shipments", None, http_status)
    return combine([_shipment(sh) for sh in shipments], http_status)
