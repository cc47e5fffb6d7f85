"""The pure parsers on the carriers' real published bodies (../shared/fixtures/carriers) and on
the ways answers go wrong: garbage, HTML at 200, truncated JSON, error envelopes inside a 200,
401/403/404/429/5xx, Retry-After as seconds or a date."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path

import pytest

from app.services.carriers.model import Outcome
from app.services.carriers.parsers import parse_track

FIX = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "carriers"


def body(rel: str) -> bytes:
    return (FIX / rel).read_bytes()


def one(reply):  # noqa: ANN001, ANN201
    assert len(reply.shipments) == 1, reply
    return reply.shipments[0]


def test_every_fixture_parses_to_the_cli_shape() -> None:
    files = sorted(FIX.glob("*/*.json"))
    assert len(files) == 10
    for f in files:
        d = parse_track(f.parent.name, f.read_bytes()).to_dict()
        assert set(d) >= {"outcome", "retry_after", "shipments"}
        assert d["outcome"] in {o.value for o in Outcome}
        for s in d["shipments"]:
            assert set(s) >= {"tracking_number", "outcome", "status", "raw_status", "eta_date", "events", "pod"}
            assert set(s["pod"]) >= {"signed_by", "at"}
            json.dumps(d)


def test_ups_delivered_package() -> None:
    r = parse_track("ups", body("ups/track_v1_details_delivered.json"))
    s = one(r)
    assert (r.outcome, s.tracking_number, s.status, s.raw_status) == ("ok", "1Z1442YY7229014688", "delivered", "D")
    assert s.eta_date == dt.date(2022, 1, 26)
    assert [e.status for e in s.events] == ["label_created", "delivered"]  # oldest first
    assert s.events[-1].at == dt.datetime(2022, 1, 26, 16, 30, tzinfo=dt.UTC)
    assert s.events[-1].location == "PARAMUS, NJ, US" and s.events[-1].raw_code == "D/F4"
    assert s.pod is not None and s.pod.at == dt.datetime(2022, 1, 26, 16, 30, tzinfo=dt.UTC)
    assert s.pod.image == "ups:signature"  # a reference, never the base64 image


def test_ups_not_found_comes_as_a_200_warning() -> None:
    r = parse_track("ups", body("ups/track_v1_details_not_found_warning.json"), 200, requested=["1Z999AA10123456784"])
    s = one(r)
    assert r.outcome == s.outcome == Outcome.NOT_FOUND
    assert s.tracking_number == "1Z999AA10123456784" and "TW0001" in s.message


def test_ups_error_envelopes() -> None:
    auth = parse_track("ups", body("ups/track_v1_auth_error.json"), 200)
    assert auth.outcome == Outcome.AUTH_FAILED and auth.shipments == [] and "250003" in auth.message
    bad = parse_track("ups", body("ups/track_v1_details_invalid_number_error.json"), 200, requested=["12345"])
    assert bad.outcome == Outcome.PERMANENT and one(bad).tracking_number == "12345"


def test_ups_track_alert_webhooks_read_as_one_shipment() -> None:
    s = one(parse_track("ups", body("ups/trackalert_webhook_examples.json")))
    assert [e.status for e in s.events] == ["out_for_delivery", "delivered"]
    assert s.status == "delivered" and s.pod is not None and s.pod.signed_by == "John"
    assert s.pod.at == dt.datetime(2024, 4, 23, 13, 50, 4, tzinfo=dt.UTC)  # the GMT time, not local


def test_fedex_mixed_answer_found_and_not_found() -> None:
    r = parse_track("fedex", body("fedex/track_v1_trackingnumbers_response.json"))
    found, missing = r.shipments
    assert r.outcome == Outcome.OK
    assert found.tracking_number == "123456789012" and found.status == "delayed" and found.raw_status == "PU"
    assert found.eta_date == dt.date(2021, 10, 15) and found.eta_window is not None
    assert found.events[0].at == dt.datetime(2018, 2, 2, 19, 1, tzinfo=dt.UTC)  # -07:00 to UTC
    assert found.pod is not None and found.pod.signed_by == "Reciever"
    assert (missing.tracking_number, missing.outcome) == ("39936862321", Outcome.NOT_FOUND)


@pytest.mark.parametrize(("status", "outcome"), [(400, "permanent"), (401, "auth_failed"), (403, "auth_failed"),
                                                 (404, "not_found"), (500, "transient"), (503, "transient")])
def test_fedex_error_bodies_by_status(status: int, outcome: str) -> None:
    examples = json.loads(body("fedex/track_v1_error_examples_by_status.json"))
    r = parse_track("fedex", json.dumps(examples[str(status)]), status)
    assert r.outcome == outcome and examples[str(status)]["errors"][0]["code"] in r.message
    # the whole file, picked by --http-status, says the same
    assert parse_track("fedex", body("fedex/track_v1_error_examples_by_status.json"), status).outcome == outcome


def test_dhl_inconsistent_sample_keeps_the_documented_code_and_the_raw_text() -> None:
    s = one(parse_track("dhl", body("dhl/track_shipments_response.json")))
    assert s.tracking_number == "7777777770"  # an integer in the sample
    assert s.status == "label_created" and s.raw_status == "pre-transit" and s.raw_text == "JESSICA"
    assert s.eta_date == dt.date(2018, 8, 3)
    assert s.pod is not None and s.pod.signed_by == "John" and s.pod.at == dt.datetime(2018, 9, 5, 16, 33, tzinfo=dt.UTC)


def test_dhl_404_problem_is_not_found_for_the_number_in_instance() -> None:
    r = parse_track("dhl", body("dhl/track_shipments_404_problem.json"), 404)
    assert r.outcome == Outcome.NOT_FOUND and one(r).tracking_number == "8264715546"
    assert parse_track("dhl", body("dhl/track_shipments_404_problem.json")).outcome == Outcome.NOT_FOUND


def test_usps_list_of_bodies() -> None:
    r = parse_track("usps", body("usps/tracking_v3_responses.json"))
    real, placeholder = r.shipments
    assert real.status == "delivered" and real.raw_status == "Delivered" and len(real.events) == 12
    assert real.events[0].status == "label_created" and real.events[-1].status == "delivered"
    assert [e.status for e in real.events].count("out_for_delivery") == 1
    assert real.pod is not None and real.pod.at == dt.datetime(2024, 11, 22, 18, 58, 40, tzinfo=dt.UTC)
    assert placeholder.eta_date == dt.date(2019, 8, 24) and placeholder.status == "unknown"


@pytest.mark.parametrize("carrier", ["ups", "fedex", "dhl", "usps"])
@pytest.mark.parametrize(("raw", "status", "outcome"), [
    (b'{"trackResponse": {"shipment": [', 200, "malformed"),                       # truncated
    (b"\x00\xff garbage", 200, "malformed"),
    (b"<html><body>Maintenance</body></html>", 200, "malformed"),                 # HTML at 200
    (b"<html><body>502 Bad Gateway</body></html>", 502, "transient"),
    (b"", 200, "malformed"), (b"", 503, "transient"),
    (b"[1, 2]", 200, "malformed"), (b'"text"', 200, "malformed"),
])
def test_unreadable_bodies_are_typed(carrier: str, raw: bytes, status: int, outcome: str) -> None:
    r = parse_track(carrier, raw, status)
    assert r.outcome == outcome and r.message


def test_rate_limited_with_retry_after_seconds_and_http_date() -> None:
    r = parse_track("dhl", b'{"title": "Too many requests", "status": 429}', 429, {"Retry-After": "7"})
    assert r.outcome == Outcome.RATE_LIMITED and r.retry_after == 7
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120), usegmt=True)
    r = parse_track("fedex", b'{"errors": [{"code": "TOO.MANY.REQUESTS.ERROR", "message": "slow down"}]}', 429,
                    {"retry-after": when})
    assert r.outcome == Outcome.RATE_LIMITED and r.retry_after is not None and 100 < r.retry_after <= 120


def test_usps_errors_and_oauth_errors() -> None:
    nf = parse_track("usps", json.dumps({"apiVersion": "v3", "error": {"code": "404", "message": "Not Found", "errors": [
        {"detail": "The Postal Service could not locate the tracking information for your request."}]}}), 404,
        requested=["9400100000000000000001"])
    assert nf.outcome == Outcome.NOT_FOUND and one(nf).tracking_number == "9400100000000000000001"
    auth = parse_track("usps", b'{"error": "invalid_token", "error_description": "expired"}', 401)
    assert auth.outcome == Outcome.AUTH_FAILED


def test_status_mapping_covers_trouble() -> None:
    from app.services.carriers.parsers.fedex import fedex_status
    from app.services.carriers.parsers.ups import ups_status
    from app.services.carriers.parsers.usps import usps_status

    assert ups_status("I", "OT", "021", "Out For Delivery Today") == "out_for_delivery"
    assert ups_status("X", "48", "022", "The receiver was not available") == "delivery_attempted"
    assert ups_status("X", "WT", "", "Severe weather conditions have delayed delivery") == "delayed"
    assert ups_status("RS", "RS", "", "Returned") == "returned" and ups_status("MV", "", "", "") == "cancelled"
    assert fedex_status("DE", "Customer not available or business closed") == "delivery_attempted"
    assert fedex_status("SE", "damaged") == "exception" and fedex_status("HL") == "available_for_pickup"
    assert fedex_status("IT", "", delayed=True) == "delayed" and fedex_status("DL", "", delayed=True) == "delivered"
    assert usps_status("In Transit", "NT", "In Transit, Arriving Late") == "delayed"
    assert usps_status("Alert", "05", "Undeliverable") == "exception"
    assert usps_status("", "02", "Notice Left") == "delivery_attempted"


def test_only_distinctive_numbers_are_claimed_for_a_carrier() -> None:
    """A bare 10-digit number is a DHL Express waybill as well as a USPS one (82 + 8 digits): claiming it
    for USPS made the DHL adapter refuse its own label's number (a sandbox DHL label 8222570113)."""
    from app.services.carriers.numbers import carrier_of

    assert carrier_of("8222570113") is None
    assert carrier_of("1Z999AA10123456784") == "ups"
    assert carrier_of("9400111899223197428490") == "usps" and carrier_of("EC123456789US") == "usps"
    assert carrier_of("JD014600006281230701") == "dhl" and carrier_of("SBX000000000007") == "sandbox"
