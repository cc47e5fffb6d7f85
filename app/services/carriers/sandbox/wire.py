"""The sandbox's answers in each carrier's own format (bodies only; the server adds status and
headers). Shapes follow the carriers' published schemas, as the adapters' parsers read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.services.carriers.sandbox.world import Step, Story, World

# kind -> carrier codes --------------------------------------------------------------------------
UPS = {"label": ("M", "MP", "003", "Shipper created a label, UPS has not received the package yet."),
       "pickup": ("P", "PU", "038", "Pickup Scan"), "depart": ("I", "DP", "005", "Departed from Facility"),
       "arrive": ("I", "AR", "005", "Arrived at Facility"), "out": ("I", "OT", "021", "Out For Delivery Today"),
       "attempt": ("X", "48", "022", "The receiver was not available for delivery. We'll make a second attempt the next business day."),
       "delay": ("X", "WT", "052", "Severe weather conditions have delayed delivery."),
       "exception": ("X", "DM", "013", "Damage reported. The package is being repackaged."),
       "returning": ("X", "RT", "035", "The package will be returned to the sender."),
       "returned": ("RS", "RS", "034", "Returned to shipper"), "delivered": ("D", "FS", "011", "DELIVERED"),
       "cancelled": ("MV", "MV", "007", "Shipment information voided")}
FEDEX = {"label": ("OC", "Shipment information sent to FedEx"), "pickup": ("PU", "Picked up"),
         "depart": ("DP", "Departed FedEx location"), "arrive": ("AR", "Arrived at FedEx location"),
         "out": ("OD", "On FedEx vehicle for delivery"), "attempt": ("DE", "Delivery exception"),
         "delay": ("DY", "Delay: severe weather"), "exception": ("SE", "Shipment exception"),
         "returning": ("RS", "Return to shipper"), "returned": ("RS", "Returned to shipper"),
         "delivered": ("DL", "Delivered"), "cancelled": ("CA", "Shipment cancelled by sender")}
DHL = {"label": ("pre-transit", "The shipment data has been transmitted"),
       "pickup": ("transit", "Shipment picked up"), "depart": ("transit", "Departed from facility"),
       "arrive": ("transit", "Arrived at facility"), "out": ("transit", "Out for delivery"),
       "attempt": ("failure", "Delivery attempt: recipient not at home"),
       "delay": ("transit", "Delay: adverse weather conditions"), "exception": ("failure", "Shipment damaged"),
       "returning": ("transit", "Returning to sender"), "returned": ("failure", "Returned to sender"),
       "delivered": ("delivered", "Delivered"), "cancelled": ("failure", "Shipment cancelled")}
USPS = {"label": ("GX", "Shipping Label Created, USPS Awaiting Item", "Pre-Shipment"),
        "pickup": ("03", "USPS in possession of item", "Accepted"),
        "depart": ("T1", "Departed USPS Regional Facility", "In Transit"),
        "arrive": ("A1", "Arrived at USPS Regional Facility", "In Transit"),
        "out": ("OF", "Out for Delivery", "Out for Delivery"),
        "attempt": ("02", "Notice Left (No Authorized Recipient Available)", "Delivery Attempt"),
        "delay": ("NT", "In Transit, Arriving Late", "In Transit"),
        "exception": ("05", "Alert: item damaged, being repackaged", "Alert"),
        "returning": ("09", "Return to Sender Processed", "Return to Sender"),
        "returned": ("09", "Delivered to Sender", "Return to Sender"),
        "delivered": ("01", "Delivered, Front Desk/Reception/Mail Room", "Delivered"),
        "cancelled": ("GX", "Shipping Label Cancelled", "Pre-Shipment")}


def _d(t: dt.datetime) -> str:
    return t.strftime("%Y%m%d")


def _t(t: dt.datetime) -> str:
    return t.strftime("%H%M%S")


# UPS --------------------------------------------------------------------------------------------
def ups_track(world: World, number: str) -> dict[str, Any]:
    story = world.story(number)
    if story is None:
        return {"trackResponse": {"shipment": [{"inquiryNumber": number, "warnings": [
            {"code": "TW0001", "message": "Tracking Information Not Found"}]}]}}
    seen = world.visible(story)
    acts = []
    for st in reversed(seen):
        kind, code, scode, text = UPS[st.kind]
        if st.kind == "delay":
            text = f"{text} New delivery date: {st.note}"
        acts.append({"location": {"address": {"city": st.city, "stateProvince": st.state, "postalCode": st.postal,
                                              "countryCode": "US", "country": "US"}},
                     "status": {"type": kind, "description": text, "code": code, "statusCode": scode},
                     "date": _d(st.at), "time": _t(st.at), "gmtDate": _d(st.at), "gmtTime": _t(st.at),
                     "gmtOffset": "+00:00"})
    last = seen[-1]
    kind, code, scode, text = UPS[last.kind]
    eta = world.eta_now(story, seen)
    pkg: dict[str, Any] = {"trackingNumber": number, "activity": acts,
                           "currentStatus": {"type": kind, "code": code, "statusCode": scode, "description": text,
                                             "simplifiedTextDescription": text},
                           "deliveryDate": [], "packageCount": 1}
    if last.kind == "delivered":
        pkg["deliveryDate"] = [{"type": "DEL", "date": _d(last.at)}]
        pkg["deliveryTime"] = {"type": "DEL", "endTime": _t(last.at)}
        pkg["deliveryInformation"] = {"receivedBy": story.signer, "location": "Front Desk",
                                      "signature": {"image": "R0lGODlhAQABAAAAACw="}}
    elif last.kind not in ("returned", "cancelled"):
        pkg["deliveryDate"] = [{"type": "RDD" if eta != story.first_eta else "SDD", "date": eta.strftime("%Y%m%d")}]
        if story.window:
            pkg["deliveryTime"] = {"type": "EDW", "startTime": "130000", "endTime": "210000"}
    return {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [pkg]}]}}


# FedEx ------------------------------------------------------------------------------------------
def _fx_loc(st: Step) -> dict[str, Any]:
    return {"city": st.city, "stateOrProvinceCode": st.state, "postalCode": st.postal, "countryCode": "US",
            "residential": False}


def _fx_iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def fedex_result(world: World, number: str) -> dict[str, Any]:
    story = world.story(number)
    info = {"trackingNumber": number, "carrierCode": "FDXG", "trackingNumberUniqueId": f"12024~{number}~FDEG"}
    if story is None:
        return {"trackingNumber": number, "trackResults": [{"trackingNumberInfo": {
            "trackingNumber": number, "trackingNumberUniqueId": "", "carrierCode": ""}, "error": {
            "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
            "message": "Tracking number cannot be found. Please correct the tracking number and try again."}}]}
    seen = world.visible(story)
    events = []
    for st in reversed(seen):
        code, text = FEDEX[st.kind]
        ev: dict[str, Any] = {"date": _fx_iso(st.at), "eventType": code, "eventDescription": text,
                              "derivedStatusCode": code, "derivedStatus": text, "scanLocation": _fx_loc(st)}
        if st.kind == "attempt":
            ev["exceptionDescription"], ev["exceptionCode"] = "Customer not available or business closed", "07"
        if st.kind == "exception":
            ev["exceptionDescription"], ev["exceptionCode"] = "Package damaged, repackaged", "29"
        if st.kind == "delay":
            ev["delayDetail"] = {"type": "WEATHER", "subType": "SNOW", "status": "DELAYED"}
        events.append(ev)
    last = seen[-1]
    code, text = FEDEX[last.kind]
    latest: dict[str, Any] = {"code": code, "derivedCode": code, "statusByLocale": text, "description": text,
                              "scanLocation": _fx_loc(last)}
    if last.kind == "delay":
        latest["delayDetail"] = {"type": "WEATHER", "subType": "SNOW", "status": "DELAYED"}
    if last.kind == "attempt":
        latest["ancillaryDetails"] = [{"reason": "15", "reasonDescription": "Customer not available or business closed"}]
    if last.kind == "exception":
        latest["ancillaryDetails"] = [{"reason": "29", "reasonDescription": "Package damaged, being repackaged"}]
    eta = world.eta_now(story, seen)
    dates = [{"type": "ACTUAL_PICKUP", "dateTime": _fx_iso(s.at)} for s in seen if s.kind == "pickup"]
    res: dict[str, Any] = {"trackingNumberInfo": info, "latestStatusDetail": latest, "scanEvents": events,
                           "dateAndTimes": dates, "availableImages": []}
    if last.kind == "delivered":
        dates.append({"type": "ACTUAL_DELIVERY", "dateTime": _fx_iso(last.at)})
        res["deliveryDetails"] = {"receivedByName": story.signer, "signedByName": story.signer,
                                  "locationDescription": "Receptionist/Front Desk", "deliveryAttempts": "0"}
        res["availableImages"] = [{"type": "SIGNATURE_PROOF_OF_DELIVERY", "size": "SMALL"}]
    elif last.kind not in ("returned", "cancelled"):
        dates.append({"type": "ESTIMATED_DELIVERY", "dateTime": f"{eta.isoformat()}T21:00:00+00:00"})
        res["estimatedDeliveryTimeWindow"] = {"window": {"begins": f"{eta.isoformat()}T13:00:00+00:00",
                                                         "ends": f"{eta.isoformat()}T21:00:00+00:00"},
                                              "type": "ESTIMATED_DELIVERY"}
    return {"trackingNumber": number, "trackResults": [res]}


def fedex_track(world: World, numbers: list[str], tx: str) -> dict[str, Any]:
    return {"transactionId": tx, "output": {"completeTrackResults": [fedex_result(world, n) for n in numbers]}}


def fedex_error(code: str, message: str, tx: str) -> dict[str, Any]:
    return {"transactionId": tx, "errors": [{"code": code, "message": message}]}


# DHL --------------------------------------------------------------------------------------------
def _dhl_loc(st: Step) -> dict[str, Any]:
    return {"address": {"addressLocality": f"{st.city}, {st.state}", "postalCode": st.postal, "countryCode": "US"}}


def dhl_track(world: World, number: str) -> dict[str, Any] | None:
    story = world.story(number)
    if story is None:
        return None
    seen = world.visible(story)
    events = []
    for st in reversed(seen):
        code, text = DHL[st.kind]
        events.append({"timestamp": st.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "location": _dhl_loc(st),
                       "statusCode": code, "status": text.upper(), "description": text})
    last = seen[-1]
    code, text = DHL[last.kind]
    sh: dict[str, Any] = {"id": number, "service": "express", "status": {
        "timestamp": last.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "location": _dhl_loc(last), "statusCode": code,
        "status": text.upper(), "description": text}, "events": events, "details": {}}
    if last.kind == "delivered":
        sh["details"]["proofOfDelivery"] = {"timestamp": last.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                            "documentUrl": f"/sandbox/pod/{number}",
                                            "signed": {"@type": "Person", "name": story.signer}}
    elif last.kind not in ("returned", "cancelled"):
        eta = world.eta_now(story, seen)
        sh["estimatedTimeOfDelivery"] = f"{eta.isoformat()}T21:00:00Z"
        sh["estimatedDeliveryTimeFrame"] = {"estimatedFrom": f"{eta.isoformat()}T13:00:00Z",
                                            "estimatedThrough": f"{eta.isoformat()}T21:00:00Z"}
    return {"shipments": [sh]}


def problem(status: int, title: str, detail: str, instance: str = "") -> dict[str, Any]:
    return {"title": title, "status": status, "detail": detail, "instance": instance}


# USPS -------------------------------------------------------------------------------------------
def usps_track(world: World, number: str) -> dict[str, Any] | None:
    story = world.story(number)
    if story is None:
        return None
    seen = world.visible(story)
    events = []
    for st in reversed(seen):
        code, text, _cat = USPS[st.kind]
        events.append({"eventType": text, "eventTimestamp": st.at.strftime("%Y-%m-%dT%H:%M:%S"),
                       "GMTTimestamp": st.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "GMTOffset": "+00:00",
                       "eventCountry": None, "eventCity": st.city, "eventState": st.state, "eventZIP": st.postal,
                       "firm": None, "name": story.signer if st.kind == "delivered" else None,
                       "authorizedAgent": "false", "eventCode": code})
    last = seen[-1]
    _code, text, cat = USPS[last.kind]
    body: dict[str, Any] = {"trackingNumber": number, "mailClass": "Priority Mail", "status": text,
                            "statusCategory": cat, "statusSummary": text, "trackingEvents": events,
                            "proofOfDeliveryEnabled": "true" if last.kind == "delivered" else "false"}
    if last.kind not in ("delivered", "returned", "cancelled"):
        eta = world.eta_now(story, seen)
        body["expectedDeliveryTimeStamp"] = f"{eta.isoformat()}T21:00:00Z"
        body["predictedDeliveryDate"] = eta.isoformat()
    return body


def usps_error(status: int, message: str, detail: str = "", code: str = "") -> dict[str, Any]:
    return {"apiVersion": "v3", "error": {"code": str(status), "message": message, "errors": [
        {"status": str(status), "code": code or str(status), "title": message, "detail": detail or message}]}}


def story_summary(story: Story) -> dict[str, Any]:
    return {"number": story.number, "eta": story.eta.isoformat(), "steps": [[s.at.isoformat(), s.kind] for s in story.steps]}
