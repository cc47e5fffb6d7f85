"""FedEx REST: OAuth (``POST /oauth/token``), Track (``POST /track/v1/trackingnumbers``, 30 a
request), Rate (``POST /rate/v1/rates/quotes``), Ship (``POST /ship/v1/shipments``, PDF 4x6) and
cancel (``PUT /ship/v1/shipments/cancel``). The Depot sandbox carrier speaks this format.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from app.services.carriers.adapters.base import (
    Adapter,
    as_label,
    as_rate,
    as_track,
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
from app.services.carriers.parsers.fedex import parse_track
from app.services.carriers.parsing import arr, dig, obj, parse_date, s

_TRANSIT = {"ONE_DAY": 1, "TWO_DAYS": 2, "THREE_DAYS": 3, "FOUR_DAYS": 4, "FIVE_DAYS": 5, "SIX_DAYS": 6,
            "SEVEN_DAYS": 7, "EIGHT_DAYS": 8, "NINE_DAYS": 9, "TEN_DAYS": 10}


def _party(a: Address) -> dict[str, Any]:
    return {"contact": {"personName": a.name or "Shipping", "phoneNumber": "0000000000"},
            "address": {"streetLines": [a.street] if a.street else [], "city": a.city,
                        "stateOrProvinceCode": a.state, "postalCode": a.postal_code, "countryCode": a.country}}


class FedexAdapter(Adapter):
    api = "fedex"
    batch_size = 30
    probe_number = "000000000000"

    def _fetch_token(self) -> tuple[str, float] | Reply:
        from app.services.carriers.transport import send

        raw = send("POST", f"{self.base}/oauth/token", session=self.session, timeout=self.timeout,
                   secrets=self._secrets(), headers={"Content-Type": "application/x-www-form-urlencoded"},
                   data={"grant_type": "client_credentials", "client_id": self.account.client_id,
                         "client_secret": self.account.secret})
        return self.token_reply(raw)

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "X-locale": "en_US", "Content-Type": "application/json",
                "x-customer-transaction-id": uuid.uuid4().hex}

    def track_batch(self, numbers: list[str]) -> TrackReply:
        body = {"includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers]}
        raw = self.call("POST", "/track/v1/trackingnumbers", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return as_track(raw)
        return parse_track(raw.body, raw.status, raw.headers, numbers)

    def _shipment(self, sh: ShipmentRequest) -> dict[str, Any]:
        return {
            "shipper": _party(sh.ship_from), "recipients": [_party(sh.ship_to)],
            "shipDatestamp": (sh.ship_date or dt.date.today()).isoformat(),
            "pickupType": "USE_SCHEDULED_PICKUP", "packagingType": "YOUR_PACKAGING",
            "shippingChargesPayment": {"paymentType": "SENDER"},
            "requestedPackageLineItems": [
                {"weight": {"units": "LB", "value": float(pounds(p.weight_grams))},
                 "customerReferences": [{"customerReferenceType": "CUSTOMER_REFERENCE", "value": sh.reference[:30]}],
                 "dimensions": {"length": int(inches(p.length_mm)), "width": int(inches(p.width_mm)),
                                "height": int(inches(p.height_mm)), "units": "IN"}} for p in sh.parcels],
        }

    def rate(self, shipment: ShipmentRequest, services: Sequence[str] = ()) -> RateReply:
        req = self._shipment(shipment)
        req["recipient"] = req.pop("recipients")[0]
        req["rateRequestType"] = ["ACCOUNT", "LIST"]
        body = {"accountNumber": {"value": self.account.account_number}, "requestedShipment": req}
        raw = self.call("POST", "/rate/v1/rates/quotes", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return as_rate(raw)
        data, bad = read_json(raw, "FedEx rate")
        if bad is not None:
            return as_rate(bad)
        quotes = []
        for d in map(obj, arr(dig(data, "output", "rateReplyDetails"))):
            code = s(d.get("serviceType"))
            if services and code not in services:
                continue
            details = [obj(x) for x in arr(d.get("ratedShipmentDetails"))]
            pick = next((x for x in details if s(x.get("rateType")) == "ACCOUNT"), details[0] if details else {})
            amount = money(pick.get("totalNetCharge") if pick.get("totalNetCharge") is not None
                           else pick.get("totalNetFedExCharge"))
            if amount is None:
                continue
            currency = s(pick.get("currency")) or s(dig(pick, "shipmentRateDetail", "currency")) or "USD"
            days = _TRANSIT.get(s(dig(d, "operationalDetail", "transitTime")) or s(dig(d, "commit", "transitDays")))
            eta = parse_date(dig(d, "commit", "dateDetail", "dayFormat")) or parse_date(
                dig(d, "operationalDetail", "deliveryDate"))
            quotes.append(Quote(code, s(d.get("serviceName")) or code, amount, currency, days, eta))
        if not quotes:
            return RateReply(Outcome.PERMANENT, "FedEx offered no service for this shipment", http_status=raw.status)
        return RateReply(Outcome.OK, f"{len(quotes)} FedEx quotes", http_status=raw.status, quotes=quotes)

    def create_label(self, shipment: ShipmentRequest, service: str) -> LabelReply:
        req = self._shipment(shipment)
        req.update({"serviceType": service,
                    "labelSpecification": {"imageType": "PDF", "labelStockType": "PAPER_4X6",
                                           "labelFormatType": "COMMON2D"}})
        body = {"labelResponseOptions": "LABEL", "accountNumber": {"value": self.account.account_number},
                "requestedShipment": req}
        raw = self.call("POST", "/ship/v1/shipments", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return as_label(raw)
        data, bad = read_json(raw, "FedEx ship")
        if bad is not None:
            return as_label(bad)
        ts = obj(arr(dig(data, "output", "transactionShipments"))[0] if arr(dig(data, "output", "transactionShipments")) else {})
        piece = obj(arr(ts.get("pieceResponses"))[0] if arr(ts.get("pieceResponses")) else {})
        doc = next((obj(x) for x in arr(piece.get("packageDocuments")) if s(obj(x).get("encodedLabel"))), {})
        number = s(piece.get("trackingNumber")) or s(ts.get("masterTrackingNumber"))
        try:
            pdf = base64.b64decode(s(doc.get("encodedLabel")), validate=True)
        except (binascii.Error, ValueError):
            pdf = b""
        if not number or not pdf:
            return label_reply(None, "FedEx ship: the answer has no tracking number or label", raw)
        charge = money(dig(ts, "completedShipmentDetail", "shipmentRating", "shipmentRateDetails", "totalNetCharge")) \
            or money(piece.get("netChargeAmount"))
        fmt = "zpl" if s(doc.get("docType")).upper() == "ZPLII" else "pdf"
        return label_reply(Label(number, service, fmt, pdf, charge, "USD", s(ts.get("masterTrackingNumber"))),
                           f"FedEx label {number}", raw)

    def void(self, label: Label) -> Reply:
        body = {"accountNumber": {"value": self.account.account_number}, "trackingNumber": label.tracking_number,
                "deletionControl": "DELETE_ALL_PACKAGES"}
        raw = self.call("PUT", "/ship/v1/shipments/cancel", auth_headers=self._auth, json=body)
        if isinstance(raw, Reply):
            return raw
        data, bad = read_json(raw, "FedEx cancel")
        if bad is not None:
            return bad
        if dig(data, "output", "cancelledShipment") is True:
            return Reply(Outcome.OK, f"FedEx shipment {label.tracking_number} cancelled", http_status=raw.status)
        alerts = "; ".join(s(obj(a).get("message")) for a in arr(dig(data, "output", "alerts")))
        return Reply(Outcome.PERMANENT, f"FedEx did not cancel {label.tracking_number}: {alerts or 'no reason given'}",
                     http_status=raw.status)
