"""DHL: Shipment Tracking - Unified (``GET /track/shipments``, header ``DHL-API-Key``: the account's
secret) and MyDHL API for rates and labels (``GET /mydhlapi/rates``, ``POST /mydhlapi/shipments``,
Basic auth: client id and the second secret). MyDHL has no void: an unused label is never billed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any

from app.services.carriers.adapters.base import Adapter, as_label, as_rate, as_track, label_reply, read_json
from app.services.carriers.adapters.units import centimetres, kilograms, money
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
from app.services.carriers.parsers.dhl import parse_track
from app.services.carriers.parsing import arr, obj, parse_date, s


def _party(a: Address) -> dict[str, Any]:
    return {"postalAddress": {"postalCode": a.postal_code, "cityName": a.city, "countryCode": a.country,
                              "provinceCode": a.state, "addressLine1": a.street or "-"},
            "contactInformation": {"fullName": a.name or "Shipping", "companyName": a.name or "Shipping",
                                   "phone": "0000000000"}}


class DhlAdapter(Adapter):
    api = "dhl"
    batch_size = 1
    probe_number = "0000000000"

    @property
    def express(self) -> str:
        return (self.account.alt_base_url or f"{self.base}/mydhlapi").rstrip("/")

    def _basic(self) -> tuple[str, str]:
        return (self.account.client_id, self.account.secret2 or self.account.secret)

    def track_batch(self, numbers: list[str]) -> TrackReply:
        raw = self.call("GET", "/track/shipments", headers={"DHL-API-Key": self.account.secret,
                                                            "Accept": "application/json"},
                        params={"trackingNumber": numbers[0], "language": "en"})
        if isinstance(raw, Reply):
            return as_track(raw, numbers if raw.outcome is Outcome.NOT_FOUND else ())
        return parse_track(raw.body, raw.status, raw.headers, numbers)

    def rate(self, shipment: ShipmentRequest, services: Sequence[str] = ()) -> RateReply:
        p = shipment.parcels[0]
        when = dt.datetime.combine(shipment.ship_date or dt.date.today(), dt.time(12), dt.UTC)
        params = {"accountNumber": self.account.account_number,
                  "originCountryCode": shipment.ship_from.country, "originPostalCode": shipment.ship_from.postal_code,
                  "originCityName": shipment.ship_from.city, "destinationCountryCode": shipment.ship_to.country,
                  "destinationPostalCode": shipment.ship_to.postal_code, "destinationCityName": shipment.ship_to.city,
                  "weight": str(kilograms(shipment.weight_grams)), "length": str(centimetres(p.length_mm)),
                  "width": str(centimetres(p.width_mm)), "height": str(centimetres(p.height_mm)),
                  "plannedShippingDate": when.date().isoformat(), "isCustomsDeclarable": "false",
                  "unitOfMeasurement": "metric"}
        raw = self.call("GET", "", url=f"{self.express}/rates", auth=self._basic(), params=params)
        if isinstance(raw, Reply):
            return as_rate(raw)
        data, bad = read_json(raw, "DHL rates")
        if bad is not None:
            return as_rate(bad)
        quotes = []
        for prod in map(obj, arr(obj(data).get("products"))):
            code = s(prod.get("productCode"))
            if services and code not in services:
                continue
            prices = [obj(x) for x in arr(prod.get("totalPrice"))]
            price = next((x for x in prices if s(x.get("currencyType")) == "BILLC"), prices[0] if prices else {})
            amount = money(price.get("price"))
            if amount is None:
                continue
            cap = obj(prod.get("deliveryCapabilities"))
            days = cap.get("totalTransitDays")
            quotes.append(Quote(code, s(prod.get("productName")) or code, amount, s(price.get("priceCurrency")) or "USD",
                                int(str(days)) if str(days).isdigit() else None,
                                parse_date(cap.get("estimatedDeliveryDateAndTime"))))
        if not quotes:
            return RateReply(Outcome.PERMANENT, "DHL offered no product for this shipment", http_status=raw.status)
        return RateReply(Outcome.OK, f"{len(quotes)} DHL quotes", http_status=raw.status, quotes=quotes)

    def create_label(self, shipment: ShipmentRequest, service: str) -> LabelReply:
        when = dt.datetime.combine(shipment.ship_date or dt.date.today(), dt.time(12), dt.UTC)
        body = {
            "plannedShippingDateAndTime": when.strftime("%Y-%m-%dT%H:%M:%S GMT+00:00"),
            "pickup": {"isRequested": False}, "productCode": service,
            "accounts": [{"typeCode": "shipper", "number": self.account.account_number}],
            "outputImageProperties": {"encodingFormat": "pdf", "imageOptions": [
                {"typeCode": "label", "templateName": "ECOM26_84_001"}]},
            "customerDetails": {"shipperDetails": _party(shipment.ship_from),
                                "receiverDetails": _party(shipment.ship_to)},
            "content": {"packages": [{"weight": float(kilograms(p.weight_grams)), "dimensions": {
                "length": float(centimetres(p.length_mm)), "width": float(centimetres(p.width_mm)),
                "height": float(centimetres(p.height_mm))}} for p in shipment.parcels],
                "isCustomsDeclarable": False, "description": shipment.reference, "incoterm": "DAP",
                "unitOfMeasurement": "metric"},
        }
        raw = self.call("POST", "", url=f"{self.express}/shipments", auth=self._basic(), json=body)
        if isinstance(raw, Reply):
            return as_label(raw)
        data, bad = read_json(raw, "DHL shipment")
        if bad is not None:
            return as_label(bad)
        number = s(obj(data).get("shipmentTrackingNumber"))
        doc = next((obj(d) for d in arr(obj(data).get("documents")) if s(obj(d).get("typeCode")) == "label"), {})
        try:
            pdf = base64.b64decode(s(doc.get("content")), validate=True)
        except (binascii.Error, ValueError):
            pdf = b""
        if not number or not pdf:
            return label_reply(None, "DHL shipment: the answer has no tracking number or label", raw)
        charges = [obj(x) for x in arr(obj(data).get("shipmentCharges"))]
        charge = charges[0] if charges else {}
        return label_reply(Label(number, service, s(doc.get("imageFormat")).lower() or "pdf", pdf,
                                 money(charge.get("price")), s(charge.get("priceCurrency")) or "USD", number),
                           f"DHL label {number}", raw)

    def void(self, label: Label) -> Reply:
        return Reply(Outcome.OK, f"DHL Express bills a shipment only once it is scanned: label {label.tracking_number} "
                     "is simply discarded (MyDHL API has no cancel)")
