"""UPS REST: OAuth client credentials (``POST /security/v1/oauth/token``, Basic auth, x-merchant-id),
Track v1 (``GET /api/track/v1/details/{n}``, one number a request), Rating (``POST
/api/rating/v2403/Shop``), Shipping (``POST /api/shipments/v2403/ship``, ZPL 4x6) and void
(``DELETE /api/shipments/v2403/void/cancel/{id}``). UPS offers no PDF label (GIF, PNG, ZPL, EPL,
SPL): the ZPL is kept as the document, for the thermal printers dispatch desks use.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from app.services.carriers.adapters.base import (
    Adapter,
    as_label,
    as_rate,
    as_track,
    error_text,
    label_reply,
    read_json,
)
from app.services.carriers.adapters.units import inches, money, pounds
from app.services.carriers.model import (
    Address,
    Label,
    LabelReply,
    Outcome,
    Quote,
    RateReply,
    Reply,
    ShipmentRequest,
    TrackReply,
)
from app.services.carriers.parsers.ups import parse_track
from app.services.carriers.parsing import arr, dig, obj, s

VERSION = "v2403"
SERVICES = {"01": "UPS Next Day Air", "02": "UPS 2nd Day Air", "03": "UPS Ground", "12": "UPS 3 Day Select",
            "13": "UPS Next Day Air Saver", "14": "UPS Next Day Air Early", "59": "UPS 2nd Day Air A.M.",
            "07": "UPS Worldwide Express", "08": "UPS Worldwide Expedited", "11": "UPS Standard",
            "65": "UPS Worldwide Saver"}


def _party(a: Address, number: str = "") -> dict[str, Any]:
    p: dict[str, Any] = {"Name": a.name or "Shipping", "Address": {
        "AddressLine": [a.street] if a.street else [], "City": a.city, "StateProvinceCode": a.state,
        "PostalCode": a.postal_code, "CountryCode": a.country}}
    if number:
        p["ShipperNumber"] = number
    return p


class UpsAdapter(Adapter):
    api = "ups"
    batch_size = 1
    label_format = "zpl"
    probe_number = "1Z0000000000000000"

    def _fetch_token(self) -> tuple[str, float] | Reply:
        from app.services.carriers.transport import send

        raw = send("POST", f"{self.base}/security/v1/oauth/token", session=self.session, timeout=self.timeout,
                   secrets=self._secrets(), auth=(self.account.client_id, self.account.secret),
                   headers={"Content-Type": "application/x-www-form-urlencoded",
                            "x-merchant-id": self.account.account_number},
                   data={"grant_type": "client_credentials"})
        return self.token_reply(raw)

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "transId": uuid.uuid4().hex[:32], "transactionSrc": "depot"}

    def track_batch(self, numbers: list[str]) -> TrackReply:
        n = numbers[0]
        raw = self.call("GET", f"/api/track/v1/details/{quote(n, safe='')}", auth_headers=self._auth,
                        params={"locale": "en_US", "returnSignature": "false"})
        if isinstance(raw, Reply):
            return as_track(raw)
        return parse_track(raw.body, raw.status, raw.headers, numbers)

    def _shipment(self, sh: ShipmentRequest, service: str = "") -> dict[str, Any]:
        ship: dict[str, Any] = {
            "Shipper": _party(sh.ship_from, self.account.account_number),
            "ShipTo": _party(sh.ship_to), "ShipFrom": _party(sh.ship_from),
            "Package": [{"PackagingType": {"Code": "02"}, "Packaging": {"Code": "02"},
                         "Dimensions": {"UnitOfMeasurement": {"Code": "IN"}, "Length": str(inches(p.length_mm)),
                                        "Width": str(inches(p.width_mm)), "Height": str(inches(p.height_mm))},
                         "PackageWeight": {"UnitOfMeasurement": {"Code": "LBS"},
                                           "Weight": str(pounds(p.weight_grams))}} for p in sh.parcels],
        }
        if service:
            ship["Service"] = {"Code": service, "Description": SERVICES.get(service, service)}
        return ship

    def rate(self, shipment: ShipmentRequest, services: Sequence[str] = ()) -> RateReply:
        body = {"RateRequest": {"Request": {"RequestOption": "Shop", "TransactionReference":
                                            {"CustomerContext": shipment.reference}},
                                "Shipment": self._shipment(shipment)}}
        raw = self.call("POST", f"/api/rating/{VERSION}/Shop", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return as_rate(raw)
        data, bad = read_json(raw, "UPS rating")
        if bad is not None:
            return as_rate(bad)
        quotes = []
        for r in map(obj, arr(dig(data, "RateResponse", "RatedShipment"))):
            code = s(dig(r, "Service", "Code"))
            if services and code not in services:
                continue
            charge = obj(dig(r, "NegotiatedRateCharges", "TotalCharge")) or obj(r.get("TotalCharges"))
            amount = money(charge.get("MonetaryValue"))
            if amount is None:
                continue
            days = s(dig(r, "GuaranteedDelivery", "BusinessDaysInTransit"))
            quotes.append(Quote(code, SERVICES.get(code, f"UPS service {code}"), amount,
                                s(charge.get("CurrencyCode")) or "USD", int(days) if days.isdigit() else None))
        if not quotes:
            why = error_text(data) or "no rated service in the answer"
            return RateReply(Outcome.PERMANENT, f"UPS rating: {why}", http_status=raw.status)
        return RateReply(Outcome.OK, f"{len(quotes)} UPS quotes", http_status=raw.status, quotes=quotes)

    def create_label(self, shipment: ShipmentRequest, service: str) -> LabelReply:
        ship = self._shipment(shipment, service)
        ship["Description"] = shipment.reference
        ship["PaymentInformation"] = {"ShipmentCharge": {"Type": "01", "BillShipper":
                                                         {"AccountNumber": self.account.account_number}}}
        body = {"ShipmentRequest": {"Request": {"RequestOption": "nonvalidate"}, "Shipment": ship,
                                    "LabelSpecification": {"LabelImageFormat": {"Code": "ZPL"},
                                                           "LabelStockSize": {"Height": "6", "Width": "4"}}}}
        raw = self.call("POST", f"/api/shipments/{VERSION}/ship", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return as_label(raw)
        data, bad = read_json(raw, "UPS shipping")
        if bad is not None:
            return as_label(bad)
        res = obj(dig(data, "ShipmentResponse", "ShipmentResults"))
        pkg = obj(arr(res.get("PackageResults"))[0] if arr(res.get("PackageResults")) else {})
        number = s(pkg.get("TrackingNumber"))
        try:
            image = base64.b64decode(s(dig(pkg, "ShippingLabel", "GraphicImage")), validate=True)
        except (binascii.Error, ValueError):
            image = b""
        if not number or not image:
            return label_reply(None, "UPS shipping: the answer has no tracking number or label", raw)
        fmt = s(dig(pkg, "ShippingLabel", "ImageFormat", "Code")).lower() or "zpl"
        total = obj(dig(res, "ShipmentCharges", "TotalCharges"))
        return label_reply(Label(number, service, fmt, image, money(total.get("MonetaryValue")),
                                 s(total.get("CurrencyCode")) or "USD", s(res.get("ShipmentIdentificationNumber"))),
                           f"UPS label {number}", raw)

    def void(self, label: Label) -> Reply:
        ident = label.carrier_ref or label.tracking_number
        raw = self.call("DELETE", f"/api/shipments/{VERSION}/void/cancel/{quote(ident, safe='')}",
                        auth_headers=self._auth)
        if isinstance(raw, Reply):
            return raw
        data, bad = read_json(raw, "UPS void")
        if bad is not None:
            return bad
        status = obj(dig(data, "VoidShipmentResponse", "SummaryResult", "Status"))
        if s(status.get("Code")) == "1":
            return Reply(Outcome.OK, f"UPS shipment {ident} voided", http_status=raw.status)
        return Reply(Outcome.PERMANENT, f"UPS did not void {ident}: {s(status.get('Description')) or error_text(data)}",
                     http_status=raw.status)
