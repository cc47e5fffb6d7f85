"""The sandbox's FedEx (and Depot sandbox carrier), DHL and USPS endpoints, and its controls."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from app.services.carriers.sandbox import lanes, wire
from app.services.carriers.sandbox.routes import Request, _basic, _label, _limited, _number, _tx, route
from app.services.carriers.sandbox.state import FAULT_KINDS, Answer, js
from reports.shipping_label import render_pdf

# -- FedEx ----------------------------------------------------------------------------------------
_FX_AUTH = ("NOT.AUTHORIZED.ERROR", "The given client credentials were not valid. Please modify your request and try again.")
_FX_EXPIRED = ("NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again.")
_FX_LIMIT = ("TOO.MANY.REQUESTS.ERROR", "We have received too many requests in a short duration. Please wait a while to try again.")


@route("POST", "/oauth/token", "fedex.token")
def fedex_token(req: Request) -> Answer:
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return js(400, wire.fedex_error("BAD.REQUEST.ERROR", "grant_type must be client_credentials", _tx()))
    if not form.get("client_id") or form.get("client_secret") != req.state.secret:
        return js(401, wire.fedex_error(*_FX_AUTH, _tx()))
    tok, ttl = req.state.issue_token("fedex", form["client_id"])
    return js(200, {"access_token": tok, "token_type": "bearer", "expires_in": ttl, "scope": "CXS"})


def _fx_auth(req: Request) -> Answer | None:
    client = req.state.check_token("fedex", req.header("Authorization"))
    if client is None:
        return js(401, wire.fedex_error(*_FX_EXPIRED, _tx()))
    return _limited(req, client, wire.fedex_error(*_FX_LIMIT, _tx()))


@route("POST", "/track/v1/trackingnumbers", "fedex.track")
def fedex_track(req: Request) -> Answer:
    bad = _fx_auth(req)
    if bad:
        return bad
    data = req.json()
    infos = (data or {}).get("trackingInfo") if isinstance(data, dict) else None
    numbers = [str(((i or {}).get("trackingNumberInfo") or {}).get("trackingNumber", "")).strip()
               for i in infos or [] if isinstance(i, dict)]
    numbers = [n for n in numbers if n]
    if not numbers:
        return js(400, wire.fedex_error("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.", _tx()))
    if len(numbers) > 30:
        return js(400, wire.fedex_error("TRACKING.TRACKINGNUMBER.LIMIT.EXCEEDED",
                                        "Please limit your request to 30 tracking numbers.", _tx()))
    return js(200, wire.fedex_track(req.state.world, numbers, _tx()))


def _fx_party(p: Any) -> tuple[list[str], str]:
    p = p if isinstance(p, dict) else {}
    a = p.get("address") or {}
    name = str((p.get("contact") or {}).get("personName", ""))
    return [name, *[str(x) for x in a.get("streetLines") or []],
            f"{a.get('city', '')} {a.get('stateOrProvinceCode', '')} {a.get('postalCode', '')}".strip()], \
        str(a.get("postalCode", ""))


def _fx_kind(data: dict[str, Any]) -> str:
    acct = str((data.get("accountNumber") or {}).get("value", ""))
    return "sandbox" if acct.upper().startswith("SANDBOX") else "fedex"


def _fx_weight(rs: dict[str, Any]) -> Decimal:
    return sum((Decimal(str((i.get("weight") or {}).get("value", 1))) for i in rs.get("requestedPackageLineItems") or []),
               Decimal(0)) or Decimal(1)


@route("POST", "/rate/v1/rates/quotes", "fedex.rate")
def fedex_rate(req: Request) -> Answer:
    bad = _fx_auth(req)
    if bad:
        return bad
    data = req.json() or {}
    rs = data.get("requestedShipment") or {}
    _f, ozip = _fx_party(rs.get("shipper"))
    _t, dzip = _fx_party(rs.get("recipient"))
    if not ozip or not dzip:
        return js(400, wire.fedex_error("RATE.LOCATION.NOSERVICE", "Rating is not available for the locations.", _tx()))
    lb = _fx_weight(rs)
    today = dt.date.today()
    details = []
    for code, (level, name) in lanes.SERVICES[_fx_kind(data)].items():
        days = lanes.days(level, ozip, dzip)
        amount = float(lanes.price(level, ozip, dzip, lb))
        details.append({"serviceType": code, "serviceName": name, "ratedShipmentDetails": [
            {"rateType": "ACCOUNT", "totalNetCharge": amount, "currency": "USD",
             "shipmentRateDetail": {"currency": "USD"}}],
            "commit": {"dateDetail": {"dayFormat": f"{(today + dt.timedelta(days=days)).isoformat()}T17:00:00"}},
            "operationalDetail": {"transitTime": ["ONE_DAY", "TWO_DAYS", "THREE_DAYS", "FOUR_DAYS", "FIVE_DAYS",
                                                  "SIX_DAYS", "SEVEN_DAYS", "EIGHT_DAYS"][min(days, 8) - 1]}})
    return js(200, {"transactionId": _tx(), "output": {"rateReplyDetails": details}})


@route("POST", "/ship/v1/shipments", "fedex.ship")
def fedex_ship(req: Request) -> Answer:
    bad = _fx_auth(req)
    if bad:
        return bad
    data = req.json() or {}
    rs = data.get("requestedShipment") or {}
    kind = _fx_kind(data)
    code = str(rs.get("serviceType", ""))
    if code not in lanes.SERVICES[kind]:
        return js(400, wire.fedex_error("SERVICETYPE.NOT.VALID", f"Invalid service type {code or '(none)'}.", _tx()))
    recipients = rs.get("recipients") or [{}]
    to_lines, dzip = _fx_party(recipients[0])
    from_lines, ozip = _fx_party(rs.get("shipper"))
    level, name = lanes.SERVICES[kind][code]
    lb = _fx_weight(rs)
    number = _number("SBX", 12, "sbx") if kind == "sandbox" else _number("7", 11, "fedex")
    req.state.world.issue(number, code, lanes.days(level, ozip, dzip))
    pdf = render_pdf(_label("SANDBOX" if kind == "sandbox" else "FedEx", name, number, to_lines, from_lines,
                            _fx_reference(rs), f"{lb} LB"))
    amount = float(lanes.price(level, ozip, dzip, lb))
    return js(200, {"transactionId": _tx(), "output": {"transactionShipments": [{
        "masterTrackingNumber": number, "serviceType": code, "shipDatestamp": dt.date.today().isoformat(),
        "completedShipmentDetail": {"shipmentRating": {"shipmentRateDetails": [{"totalNetCharge": amount}]}},
        "pieceResponses": [{"trackingNumber": number, "netChargeAmount": amount, "packageDocuments": [
            {"contentType": "LABEL", "copiesToPrint": 1, "docType": "PDF",
             "encodedLabel": base64.b64encode(pdf).decode()}]}]}]}})


def _fx_reference(rs: dict[str, Any]) -> str:
    for item in rs.get("requestedPackageLineItems") or []:
        for ref in (item or {}).get("customerReferences") or []:
            if (ref or {}).get("value"):
                return str(ref["value"])
    return ""


@route("PUT", "/ship/v1/shipments/cancel", "fedex.cancel")
def fedex_cancel(req: Request) -> Answer:
    bad = _fx_auth(req)
    if bad:
        return bad
    number = str((req.json() or {}).get("trackingNumber", ""))
    why = req.state.world.void(number)
    if why:
        return js(200, {"transactionId": _tx(), "output": {"cancelledShipment": False, "alerts": [
            {"code": "SHIPMENT.CANCEL.FAILED", "message": f"Shipment cannot be cancelled: it is {why}."}]}})
    return js(200, {"transactionId": _tx(), "output": {"cancelledShipment": True, "successMessage": "Success"}})


# -- DHL ------------------------------------------------------------------------------------------
@route("GET", "/track/shipments", "dhl.track")
def dhl_track(req: Request) -> Answer:
    key = req.header("DHL-API-Key")
    if key != req.state.secret:
        return js(401, wire.problem(401, "Unauthorized", "Unauthorized for given resource."))
    limited = _limited(req, "dhl:" + key, wire.problem(429, "Too many requests", "Too many requests"))
    if limited:
        return limited
    number = req.q("trackingNumber").strip()
    if not number:
        return js(400, wire.problem(400, "Bad Request", "trackingNumber is required", "/track/shipments"))
    body = wire.dhl_track(req.state.world, number)
    if body is None:
        return js(404, wire.problem(404, "No result found", "No shipment with given tracking number found.",
                                    f"/shipment/{number}"))
    return js(200, body)


def _dhl_auth(req: Request) -> Answer | None:
    user, pw = _basic(req)
    if not user or pw != req.state.secret:
        return js(401, {"instance": req.path, "detail": "Invalid Credentials", "title": "Unauthorized", "status": "401"})
    return _limited(req, "mydhl:" + user, {"title": "Too many requests", "status": "429", "detail": "Too many requests"})


@route("GET", "/mydhlapi/rates", "dhl.rate")
def dhl_rates(req: Request) -> Answer:
    bad = _dhl_auth(req)
    if bad:
        return bad
    ozip, dzip = req.q("originPostalCode"), req.q("destinationPostalCode")
    try:
        lb = Decimal(req.q("weight") or "1") * Decimal("2.20462")
    except ArithmeticError:
        return js(400, {"title": "Bad request", "status": "400", "detail": "weight is not a number"})
    today = dt.date.today()
    products = []
    for code, (level, name) in lanes.SERVICES["dhl"].items():
        if code in ("EXPRESS", "GROUND"):
            continue
        days = lanes.days(level, ozip, dzip)
        products.append({"productName": name, "productCode": code, "totalPrice": [
            {"currencyType": "BILLC", "priceCurrency": "USD", "price": float(lanes.price(level, ozip, dzip, lb))}],
            "deliveryCapabilities": {"totalTransitDays": days, "estimatedDeliveryDateAndTime":
                                     f"{(today + dt.timedelta(days=days)).isoformat()}T23:59:00"}})
    return js(200, {"products": products})


@route("POST", "/mydhlapi/shipments", "dhl.ship")
def dhl_ship(req: Request) -> Answer:
    bad = _dhl_auth(req)
    if bad:
        return bad
    data = req.json() or {}
    code = str(data.get("productCode", ""))
    if code not in lanes.SERVICES["dhl"]:
        return js(422, {"title": "Unprocessable", "status": "422", "detail": f"productCode {code or '(none)'} unknown"})
    cd = data.get("customerDetails") or {}

    def party(p: Any) -> tuple[list[str], str]:
        a = (p or {}).get("postalAddress") or {}
        c = (p or {}).get("contactInformation") or {}
        return [str(c.get("companyName", "")), str(a.get("addressLine1", "")),
                f"{a.get('cityName', '')} {a.get('provinceCode', '')} {a.get('postalCode', '')}"], str(a.get("postalCode", ""))

    to_lines, dzip = party(cd.get("receiverDetails"))
    from_lines, ozip = party(cd.get("shipperDetails"))
    kg = sum((Decimal(str(p.get("weight", 1))) for p in (data.get("content") or {}).get("packages") or []), Decimal(0))
    level, name = lanes.SERVICES["dhl"][code]
    number = _number("", 10, "dhl")
    req.state.world.issue(number, code, lanes.days(level, ozip, dzip))
    pdf = render_pdf(_label("DHL", name, number, to_lines, from_lines,
                            str((data.get("content") or {}).get("description", "")), f"{kg} KG"))
    return js(201, {"shipmentTrackingNumber": number, "packages": [{"referenceNumber": 1, "trackingNumber": f"JD01{number}"}],
                    "documents": [{"imageFormat": "PDF", "content": base64.b64encode(pdf).decode(), "typeCode": "label"}],
                    "shipmentCharges": [{"currencyType": "BILLC", "priceCurrency": "USD",
                                         "price": float(lanes.price(level, ozip, dzip, kg * Decimal("2.20462")))}]})


# -- USPS -----------------------------------------------------------------------------------------
@route("POST", "/oauth2/v3/token", "usps.token")
def usps_token(req: Request) -> Answer:
    data = req.json() or {}
    if data.get("grant_type") != "client_credentials":
        return js(400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
    if not data.get("client_id") or data.get("client_secret") != req.state.secret:
        return js(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    tok, ttl = req.state.issue_token("usps", str(data["client_id"]))
    return js(200, {"access_token": tok, "token_type": "Bearer", "expires_in": ttl, "status": "approved",
                    "scope": "tracking prices labels payments", "client_id": data["client_id"]})


def _usps_auth(req: Request) -> Answer | None:
    client = req.state.check_token("usps", req.header("Authorization"))
    if client is None:
        return js(401, wire.usps_error(401, "Unauthorized", "The access token is invalid or has expired.", "invalid_token"))
    return _limited(req, client, wire.usps_error(429, "Too Many Requests", "Rate limit exceeded."))


@route("GET", "/tracking/v3/tracking/(?P<n>[^/]+)", "usps.track")
def usps_track(req: Request) -> Answer:
    bad = _usps_auth(req)
    if bad:
        return bad
    n = req.params["n"]
    body = wire.usps_track(req.state.world, n)
    if body is None:
        return js(404, wire.usps_error(404, "Not Found", "The Postal Service could not locate the tracking information "
                                       "for your request.", "TRACKING_NOT_FOUND"))
    return js(200, body)


@route("POST", "/prices/v3/base-rates/search", "usps.rate")
def usps_prices(req: Request) -> Answer:
    bad = _usps_auth(req)
    if bad:
        return bad
    d = req.json() or {}
    mc = str(d.get("mailClass", ""))
    if mc not in lanes.SERVICES["usps"]:
        return js(400, wire.usps_error(400, "Bad Request", f"mailClass {mc or '(none)'} is not valid"))
    level, name = lanes.SERVICES["usps"][mc]
    amount = lanes.price(level, str(d.get("originZIPCode", "")), str(d.get("destinationZIPCode", "")),
                         Decimal(str(d.get("weight", 1))))
    return js(200, {"totalBasePrice": float(amount), "rates": [
        {"SKU": f"D{mc[:3]}XXXXC", "description": name, "priceType": "COMMERCIAL", "price": float(amount),
         "weight": d.get("weight"), "mailClass": mc, "zone": f"0{lanes.zone(str(d.get('originZIPCode', '')), str(d.get('destinationZIPCode', '')))}"}]})


@route("POST", "/payments/v3/payment-authorization", "usps.payment")
def usps_payment(req: Request) -> Answer:
    bad = _usps_auth(req)
    if bad:
        return bad
    roles = (req.json() or {}).get("roles") or []
    if not roles:
        return js(400, wire.usps_error(400, "Bad Request", "roles are required"))
    return js(200, {"paymentAuthorizationToken": "pay-" + _tx(), "roles": roles})


@route("POST", "/labels/v3/label", "usps.label")
def usps_label(req: Request) -> Answer:
    bad = _usps_auth(req)
    if bad:
        return bad
    if not req.header("X-Payment-Authorization-Token").startswith("pay-"):
        return js(401, wire.usps_error(401, "Unauthorized", "X-Payment-Authorization-Token is missing or invalid"))
    d = req.json() or {}
    pkg = d.get("packageDescription") or {}
    mc = str(pkg.get("mailClass", ""))
    if mc not in lanes.SERVICES["usps"]:
        return js(400, wire.usps_error(400, "Bad Request", f"mailClass {mc or '(none)'} is not valid"))

    def addr(a: Any) -> tuple[list[str], str]:
        a = a or {}
        return [str(a.get("firm", "")), str(a.get("streetAddress", "")),
                f"{a.get('city', '')} {a.get('state', '')} {a.get('ZIPCode', '')}"], str(a.get("ZIPCode", ""))

    to_lines, dzip = addr(d.get("toAddress"))
    from_lines, ozip = addr(d.get("fromAddress"))
    level, name = lanes.SERVICES["usps"][mc]
    lb = Decimal(str(pkg.get("weight", 1)))
    number = _number("9405", 18, "usps")
    req.state.world.issue(number, mc, lanes.days(level, ozip, dzip))
    pdf = render_pdf(_label("USPS", name, number, to_lines, from_lines, "", f"{lb} LB"))
    return js(200, {"labelMetadata": {"trackingNumber": number, "postage": float(lanes.price(level, ozip, dzip, lb)),
                                      "SKU": f"D{mc[:3]}XXXXC", "zone": f"0{lanes.zone(ozip, dzip)}"},
                    "labelImage": base64.b64encode(pdf).decode(), "receiptImage": None})


@route("DELETE", "/labels/v3/label/(?P<n>[^/]+)", "usps.cancel")
def usps_cancel(req: Request) -> Answer:
    bad = _usps_auth(req)
    if bad:
        return bad
    why = req.state.world.void(req.params["n"])
    if why:
        return js(400, wire.usps_error(400, "Bad Request", f"The label cannot be cancelled: it is {why}."))
    return js(200, {"trackingNumber": req.params["n"], "status": "CANCELED"})


# -- controls ----------------------------------------------------------------------------------------
@route("GET", "/sandbox/status", "sandbox.status")
def status(req: Request) -> Answer:
    st = req.state
    with st.lock:
        return js(200, {"now": st.world.now().isoformat(), "speed": st.world.speed, "requests": st.requests,
                        "by_route": dict(st.counts), "issued": len(st.world.issued), "fault_rate": st.fault_rate,
                        "per_minute": st.per_minute})


@route("POST", "/sandbox/faults", "sandbox.faults")
def faults(req: Request) -> Answer:
    d = req.json() or {}
    kinds = [k for k in d.get("next") or [] if k in FAULT_KINDS]
    with req.state.lock:
        req.state.forced.extend(kinds)
        if "rate" in d:
            req.state.fault_rate = max(0.0, min(1.0, float(d["rate"])))
        if d.get("kinds"):
            req.state.fault_kinds = tuple(k for k in d["kinds"] if k in FAULT_KINDS) or FAULT_KINDS
        if "slow_seconds" in d:
            req.state.slow_seconds = float(d["slow_seconds"])
    return js(200, {"queued": kinds, "rate": req.state.fault_rate})


@route("POST", "/sandbox/expire-tokens", "sandbox.expire")
def expire(req: Request) -> Answer:
    return js(200, {"expired": req.state.expire_tokens()})


@route("POST", "/sandbox/limits", "sandbox.limits")
def limits(req: Request) -> Answer:
    d = req.json() or {}
    with req.state.lock:
        if "per_minute" in d:
            req.state.per_minute = max(1, int(d["per_minute"]))
            req.state.buckets.clear()
    return js(200, {"per_minute": req.state.per_minute})


@route("GET", "/sandbox/story/(?P<n>[^/]+)", "sandbox.story")
def story(req: Request) -> Answer:
    s = req.state.world.story(req.params["n"])
    return js(200, wire.story_summary(s)) if s else js(404, {"title": "unknown", "status": 404})
