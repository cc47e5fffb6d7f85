"""USPS APIs v3: OAuth (``POST /oauth2/v3/token``), Tracking (``GET /tracking/v3/tracking/{n}``),
Prices (``POST /prices/v3/base-rates/search``, one mail class a call), Labels (``POST
/labels/v3/label`` with an ``X-Payment-Authorization-Token`` from ``POST
/payments/v3/payment-authorization``) and cancel (``DELETE /labels/v3/label/{n}``).
Account options: ``crid`` and ``mid`` (the payer's Customer Registration and Mailer ids).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from app.services.carriers.adapters.base import Adapter, as_label, as_rate, as_track, label_reply, read_json
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
from app.services.carriers.parsers.usps import parse_track
from app.services.carriers.parsing import arr, dig, obj, s

MAIL_CLASSES = {"PRIORITY_MAIL_EXPRESS": ("Priority Mail Express", 1), "PRIORITY_MAIL": ("Priority Mail", 2),
                "USPS_GROUND_ADVANTAGE": ("USPS Ground Advantage", 5)}
#: Depot service codes (seed) to USPS mail classes
ALIASES = {"PRIORITY": "PRIORITY_MAIL", "GROUND_ADVANTAGE": "USPS_GROUND_ADVANTAGE", "EXPRESS": "PRIORITY_MAIL_EXPRESS"}


def _addr(a: Address) -> dict[str, Any]:
    return {"firm": a.name, "streetAddress": a.street or "-", "city": a.city, "state": a.state,
            "ZIPCode": a.postal_code[:5]}


class UspsAdapter(Adapter):
    api = "usps"
    batch_size = 1
    probe_number = "9400100000000000000000"

    def _fetch_token(self) -> tuple[str, float] | Reply:
        from app.services.carriers.transport import send

        raw = send("POST", f"{self.base}/oauth2/v3/token", session=self.session, timeout=self.timeout,
                   secrets=self._secrets(), json={"grant_type": "client_credentials",
                                                  "client_id": self.account.client_id,
                                                  "client_secret": self.account.secret})
        return self.token_reply(raw)

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def track_batch(self, numbers: list[str]) -> TrackReply:
        raw = self.call("GET", f"/tracking/v3/tracking/{quote(numbers[0], safe='')}", auth_headers=self._auth,
                        params={"expand": "DETAIL"})
        if isinstance(raw, Reply):
            return as_track(raw)
        return parse_track(raw.body, raw.status, raw.headers, numbers)

    def _package(self, sh: ShipmentRequest, mail_class: str) -> dict[str, Any]:
        p = sh.parcels[0]
        return {"originZIPCode": sh.ship_from.postal_code[:5], "destinationZIPCode": sh.ship_to.postal_code[:5],
                "weight": float(pounds(sh.weight_grams)), "length": float(inches(p.length_mm)),
                "width": float(inches(p.width_mm)), "height": float(inches(p.height_mm)),
                "mailClass": mail_class, "processingCategory": "MACHINABLE", "rateIndicator": "SP",
                "destinationEntryFacilityType": "NONE", "priceType": "COMMERCIAL",
                "mailingDate": (sh.ship_date or dt.date.today()).isoformat()}

    def rate(self, shipment: ShipmentRequest, services: Sequence[str] = ()) -> RateReply:
        wanted = [ALIASES.get(x, x) for x in services] or list(MAIL_CLASSES)
        quotes, last = [], None
        for mail_class in wanted:
            raw = self.call("POST", "/prices/v3/base-rates/search", auth_headers=self._auth,
                            json=self._package(shipment, mail_class))
            if isinstance(raw, Reply):
                return as_rate(raw)
            data, bad = read_json(raw, f"USPS prices ({mail_class})")
            if bad is not None:
                if bad.outcome in (Outcome.AUTH_FAILED, Outcome.RATE_LIMITED, Outcome.TRANSIENT, Outcome.MALFORMED):
                    return as_rate(bad)
                last = bad
                continue
            amount = money(obj(data).get("totalBasePrice"))
            if amount is None:
                continue
            name, days = MAIL_CLASSES.get(mail_class, (mail_class, None))
            quotes.append(Quote(mail_class, name, amount, "USD", days))
        if not quotes:
            return as_rate(last) if last else RateReply(Outcome.PERMANENT, "USPS priced no mail class")
        return RateReply(Outcome.OK, f"{len(quotes)} USPS prices", quotes=quotes)

    def _payment_token(self) -> str | Reply:
        def fetch() -> tuple[str, float] | Reply:
            o = self.account.options
            role = {"CRID": o.get("crid", ""), "MID": o.get("mid", ""), "manifestMID": o.get("mid", ""),
                    "accountType": "EPS", "accountNumber": self.account.account_number}
            raw = self.call("POST", "/payments/v3/payment-authorization", auth_headers=self._auth,
                            json={"roles": [{"roleName": "PAYER", **role}, {"roleName": "LABEL_OWNER", **role}]})
            if isinstance(raw, Reply):
                return raw
            data, bad = read_json(raw, "USPS payment authorization")
            if bad is not None:
                return bad
            token = s(obj(data).get("paymentAuthorizationToken"))
            if not token:
                return Reply(Outcome.MALFORMED, "USPS payment authorization: no token in the answer")
            return token, 8 * 3600.0

        return self.tokens.get(f"pay:{self.token_key}", fetch)

    def create_label(self, shipment: ShipmentRequest, service: str) -> LabelReply:
        mail_class = ALIASES.get(service, service)
        pay = self._payment_token()
        if isinstance(pay, Reply):
            return as_label(pay)
        pkg = self._package(shipment, mail_class)
        pkg.update({"weightUOM": "lb", "dimensionsUOM": "in"})
        for k in ("originZIPCode", "destinationZIPCode", "priceType"):
            pkg.pop(k)
        body = {"imageInfo": {"imageType": "PDF", "labelType": "4X6LABEL"},
                "toAddress": _addr(shipment.ship_to), "fromAddress": _addr(shipment.ship_from),
                "packageDescription": pkg}
        raw = self.call("POST", "/labels/v3/label", json=body, auth_headers=lambda t: {
            **self._auth(t), "X-Payment-Authorization-Token": pay, "Accept": "application/vnd.usps.labels+json"})
        if isinstance(raw, Reply):
            return as_label(raw)
        data, bad = read_json(raw, "USPS label")
        if bad is not None:
            return as_label(bad)
        meta = obj(obj(data).get("labelMetadata"))
        number = s(meta.get("trackingNumber"))
        try:
            pdf = base64.b64decode(s(obj(data).get("labelImage")), validate=True)
        except (binascii.Error, ValueError):
            pdf = b""
        if not number or not pdf:
            return label_reply(None, "USPS label: the answer has no tracking number or label", raw)
        return label_reply(Label(number, mail_class, "pdf", pdf, money(meta.get("postage")), "USD", number),
                           f"USPS label {number}", raw)

    def void(self, label: Label) -> Reply:
        raw = self.call("DELETE", f"/labels/v3/label/{quote(label.tracking_number, safe='')}",
                        auth_headers=self._auth)
        if isinstance(raw, Reply):
            return raw
        data, bad = read_json(raw, "USPS cancel") if raw.body.strip() else (None, None)
        if bad is not None:
            return bad
        status = s(dig(data, "status")) if isinstance(data, dict) else ""
        return Reply(Outcome.OK, f"USPS label {label.tracking_number} cancelled{f' ({status})' if status else ''}",
                     http_status=raw.status)


__all__ = ["UspsAdapter", "arr"]
