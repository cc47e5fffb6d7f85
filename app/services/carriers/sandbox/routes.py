"""The sandbox's endpoints, one function per carrier path (auth, limits, then the answer)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.services.carriers.sandbox import lanes, wire
from app.services.carriers.sandbox.state import Answer, State, js
from app.services.carriers.sandbox.world import digest
from reports.shipping_label import ShippingLabel, render_pdf, render_zpl


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]
    state: State

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return None

    def q(self, name: str) -> str:
        return (self.query.get(name) or [""])[0]


Route = Callable[[Request], Answer]
ROUTES: list[tuple[str, str, re.Pattern[str], Route]] = []


def route(method: str, pattern: str, name: str) -> Callable[[Route], Route]:
    def deco(fn: Route) -> Route:
        ROUTES.append((method, name, re.compile(f"^{pattern}$"), fn))
        return fn
    return deco


def match(method: str, path: str) -> tuple[str, Route, dict[str, str]] | None:
    for m, name, rx, fn in ROUTES:
        if m == method:
            hit = rx.match(path)
            if hit:
                return name, fn, hit.groupdict()
    return None


def _basic(req: Request) -> tuple[str, str]:
    h = req.header("Authorization")
    if not h.lower().startswith("basic "):
        return "", ""
    try:
        user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, pw


def _limited(req: Request, client: str, body: Any) -> Answer | None:
    wait = req.state.take(client)
    if wait > 0:
        return js(429, body, **{"Retry-After": str(max(1, round(wait)))})
    return None


def _tx() -> str:
    return str(uuid.uuid4())


def _label(carrier: str, service: str, number: str, ship_to: list[str], ship_from: list[str], ref: str,
           weight: str) -> ShippingLabel:
    return ShippingLabel(carrier, service, number, tuple(x for x in ship_from if x), tuple(x for x in ship_to if x),
                         ref, weight, dt.date.today().isoformat())


def _number(prefix: str, width: int, seed: str) -> str:
    n = (digest(seed + uuid.uuid4().hex) % 10 ** width)
    return f"{prefix}{n:0{width}d}"


# -- UPS ------------------------------------------------------------------------------------------
def _ups_err(status: int, code: str, message: str, **h: str) -> Answer:
    return js(status, {"response": {"errors": [{"code": code, "message": message}]}}, **h)


@route("POST", "/security/v1/oauth/token", "ups.token")
def ups_token(req: Request) -> Answer:
    user, pw = _basic(req)
    if not user or pw != req.state.secret:
        return _ups_err(401, "10401", "ClientId is Invalid")
    if "client_credentials" not in req.body.decode(errors="replace"):
        return _ups_err(400, "10400", "Invalid/Missing grant_type")
    tok, ttl = req.state.issue_token("ups", user)
    return js(200, {"token_type": "Bearer", "issued_at": str(int(dt.datetime.now().timestamp() * 1000)),
                    "client_id": user, "access_token": tok, "expires_in": str(ttl), "status": "approved"})


def _ups_auth(req: Request) -> tuple[str | None, Answer | None]:
    client = req.state.check_token("ups", req.header("Authorization"))
    if client is None:
        return None, _ups_err(401, "250002", "Invalid Authentication Information.")
    return client, _limited(req, client, {"response": {"errors": [{"code": "10429", "message": "Too Many Requests"}]}})


@route("GET", "/api/track/v1/details/(?P<n>[^/]+)", "ups.track")
def ups_track(req: Request) -> Answer:
    _c, bad = _ups_auth(req)
    if bad:
        return bad
    n = req.params["n"].upper()
    if not re.fullmatch(r"[0-9A-Z]{7,34}", n) or (n.startswith("1Z") and len(n) != 18):
        return _ups_err(200, "TV1002", "Invalid inquiry number")
    return js(200, wire.ups_track(req.state.world, n))


def _ups_addr(p: Any) -> tuple[list[str], str]:
    a = p.get("Address", {}) if isinstance(p, dict) else {}
    lines = [str(p.get("Name", "")) if isinstance(p, dict) else "", *[str(x) for x in a.get("AddressLine", [])],
             f"{a.get('City', '')} {a.get('StateProvinceCode', '')} {a.get('PostalCode', '')}".strip()]
    return lines, str(a.get("PostalCode", ""))


def _ups_weight(sh: dict[str, Any]) -> Decimal:
    pkgs = sh.get("Package") or []
    pkgs = pkgs if isinstance(pkgs, list) else [pkgs]
    return sum((Decimal(str(p.get("PackageWeight", {}).get("Weight", "1"))) for p in pkgs), Decimal(0))


@route("POST", "/api/rating/(?P<v>[^/]+)/(?P<opt>[^/]+)", "ups.rate")
def ups_rate(req: Request) -> Answer:
    _c, bad = _ups_auth(req)
    if bad:
        return bad
    sh = ((req.json() or {}).get("RateRequest") or {}).get("Shipment") or {}
    _f, ozip = _ups_addr(sh.get("ShipFrom") or sh.get("Shipper"))
    _t, dzip = _ups_addr(sh.get("ShipTo"))
    if not ozip or not dzip:
        return _ups_err(400, "111210", "The requested service is unavailable between the selected locations.")
    lb = _ups_weight(sh)
    rated = [{"Service": {"Code": code, "Description": ""}, "BillingWeight": {"Weight": str(lb)},
              "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": str(lanes.price(level, ozip, dzip, lb))},
              "GuaranteedDelivery": {"BusinessDaysInTransit": str(lanes.days(level, ozip, dzip))}}
             for code, (level, _name) in lanes.SERVICES["ups"].items()]
    return js(200, {"RateResponse": {"Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                                     "RatedShipment": rated}})


@route("POST", "/api/shipments/(?P<v>[^/]+)/ship", "ups.ship")
def ups_ship(req: Request) -> Answer:
    _c, bad = _ups_auth(req)
    if bad:
        return bad
    sr = (req.json() or {}).get("ShipmentRequest") or {}
    sh = sr.get("Shipment") or {}
    code = str((sh.get("Service") or {}).get("Code", ""))
    if code not in lanes.SERVICES["ups"]:
        return _ups_err(400, "120500", f"Invalid service code {code or '(none)'}")
    to_lines, dzip = _ups_addr(sh.get("ShipTo"))
    from_lines, ozip = _ups_addr(sh.get("ShipFrom") or sh.get("Shipper"))
    level, name = lanes.SERVICES["ups"][code]
    lb = _ups_weight(sh)
    number = "1Z" + base64.b32encode(uuid.uuid4().bytes).decode()[:6] + code.zfill(2) + _number("", 8, "ups")
    req.state.world.issue(number, code, lanes.days(level, ozip, dzip))
    lab = _label("UPS", name, number, to_lines, from_lines, str(sh.get("Description", "")), f"{lb} LBS")
    fmt = str(((sr.get("LabelSpecification") or {}).get("LabelImageFormat") or {}).get("Code", "ZPL")).upper()
    image, fmt = (render_zpl(lab), "ZPL") if fmt == "ZPL" else (render_pdf(lab), "PDF")
    return js(200, {"ShipmentResponse": {
        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
        "ShipmentResults": {"ShipmentCharges": {"TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": str(
            lanes.price(level, ozip, dzip, lb))}}, "ShipmentIdentificationNumber": number,
            "PackageResults": [{"TrackingNumber": number, "ShippingLabel": {
                "ImageFormat": {"Code": fmt}, "GraphicImage": base64.b64encode(image).decode()}}]}}})


@route("DELETE", "/api/shipments/(?P<v>[^/]+)/void/cancel/(?P<n>[^/]+)", "ups.void")
def ups_void(req: Request) -> Answer:
    _c, bad = _ups_auth(req)
    if bad:
        return bad
    why = req.state.world.void(req.params["n"])
    if why:
        return _ups_err(400, "190117", f"Void request failed: the shipment is {why}.")
    return js(200, {"VoidShipmentResponse": {"Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                                             "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}}}})

