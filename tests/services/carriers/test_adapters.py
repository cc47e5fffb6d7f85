"""The real adapters against the real sandbox over HTTP on loopback: every typed outcome."""

from __future__ import annotations

import datetime as dt
import io
import logging
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
import zxingcpp
from pypdf import PdfReader

from app.services.carriers.limits import MemoryStore, RateLimiter
from app.services.carriers.model import Outcome
from app.services.carriers.sandbox import lanes
from app.services.carriers.sandbox.server import Sandbox
from tests.services.carriers.conftest import SHIPMENT, make

APIS = ["ups", "fedex", "dhl", "usps", "sandbox"]
SERVICE = {"ups": "03", "fedex": "FEDEX_GROUND", "dhl": "N", "usps": "PRIORITY_MAIL", "sandbox": "GROUND"}
SECRET = "s3cr3t-NEVER-PRINT-ME"


@pytest.mark.parametrize("api", APIS)
def test_connection_ok_and_wrong_secret(api: str, fresh: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert make(api, fresh).test_connection().outcome == Outcome.OK
    bad = make(api, fresh, secret=SECRET).test_connection()
    assert bad.outcome == Outcome.AUTH_FAILED
    assert SECRET not in bad.message and SECRET not in caplog.text


@pytest.mark.parametrize("api", ["ups", "fedex", "usps", "sandbox"])
def test_rates_come_from_the_lane_table(api: str, fresh: Sandbox) -> None:
    reply = make(api, fresh).rate(SHIPMENT)
    assert reply.outcome == Outcome.OK
    wire = "fedex" if api == "fedex" else api
    ground = next(q for q in reply.quotes if lanes.SERVICES[wire][q.service_code][0] == "ground")
    # 2500 g = 5.6 lb billed as 6 lb, Dallas 752 -> Atlanta 303: zone 5
    assert ground.amount == lanes.price("ground", "75261", "30320", lanes.Decimal("5.6"))
    assert ground.transit_days == lanes.days("ground", "75261", "30320") == 5
    assert len({q.service_code for q in reply.quotes}) == len(reply.quotes) >= 3


def _barcode(pdf: bytes, tmp: Path) -> str:
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is needed to rasterise labels"
    (tmp / "l.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(tmp / "l.pdf"), str(tmp / "page")], check=True)
    from PIL import Image

    img = np.array(Image.open(next(tmp.glob("page*.png"))).convert("L"))
    found = zxingcpp.read_barcodes(img)
    assert found, "no barcode on the label"
    return str(found[0].text)


@pytest.mark.parametrize("api", ["fedex", "usps", "sandbox", "dhl"])
def test_label_is_a_4x6_pdf_whose_barcode_is_the_tracking_number(api: str, fresh: Sandbox, tmp_path: Path) -> None:
    reply = make(api, fresh).create_label(SHIPMENT, SERVICE[api])
    assert reply.outcome == Outcome.OK and reply.label is not None
    label = reply.label
    assert label.format == "pdf" and label.data.startswith(b"%PDF")
    page = PdfReader(io.BytesIO(label.data)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288.0, 432.0)  # 4 x 6 inch
    assert "Acme Builders" in page.extract_text()
    assert _barcode(label.data, tmp_path) == label.tracking_number
    if api == "sandbox":
        assert label.tracking_number.startswith("SBX")


def test_ups_label_is_zpl_with_the_tracking_number_barcode(fresh: Sandbox) -> None:
    reply = make("ups", fresh).create_label(SHIPMENT, "03")
    assert reply.label is not None and reply.label.format == "zpl"
    zpl = reply.label.data.decode()
    assert zpl.startswith("^XA") and f"^BCN,220,N,N,N^FD{reply.label.tracking_number}^FS" in zpl
    assert reply.label.amount == lanes.price("ground", "75261", "30320", lanes.Decimal("5.6"))


@pytest.mark.parametrize("api", ["ups", "fedex", "usps", "sandbox"])
def test_label_tracks_then_voids_to_cancelled(api: str, fresh: Sandbox) -> None:
    ad = make(api, fresh)
    label = ad.create_label(SHIPMENT, SERVICE[api]).label
    assert label is not None
    first = ad.track([label.tracking_number])
    assert first.outcome == Outcome.OK and first.shipments[0].status == "label_created"
    assert first.shipments[0].eta_date is not None
    assert ad.void(label).outcome == Outcome.OK
    if api != "usps":  # USPS shows a cancelled label as pre-shipment still
        assert ad.track([label.tracking_number]).shipments[0].status == "cancelled"
    again = ad.void(label)
    assert again.outcome == Outcome.OK if api == "dhl" else again.outcome == Outcome.PERMANENT


def test_dhl_void_needs_no_call(fresh: Sandbox) -> None:
    ad = make("dhl", fresh)
    label = ad.create_label(SHIPMENT, "N").label
    assert label is not None
    calls = ad.calls
    assert ad.void(label).outcome == Outcome.OK and ad.calls == calls


def test_parcels_move_on_the_sandbox_clock_to_delivery_with_proof(fresh: Sandbox) -> None:
    ads = {api: make(api, fresh) for api in ["ups", "fedex", "usps", "dhl"]}
    labels = {api: ad.create_label(SHIPMENT, SERVICE[api]).label for api, ad in ads.items()}
    world = fresh.state.world
    world.started += dt.timedelta(days=12)  # twelve sandbox days later
    try:
        for api, ad in ads.items():
            lab = labels[api]
            assert lab is not None
            s = ad.track([lab.tracking_number]).shipments[0]
            assert s.status in ("delivered", "returned"), (api, s)
            kinds = [e.status for e in s.events]
            assert kinds[0] == "label_created" and "in_transit" in kinds and "out_for_delivery" in kinds
            if s.status == "delivered":
                assert s.pod is not None and s.pod.signed_by and s.pod.at == s.events[-1].at
            assert all(a.at <= b.at for a, b in zip(s.events, s.events[1:], strict=False) if a.at and b.at)
    finally:
        world.started -= dt.timedelta(days=12)


def test_trouble_in_the_world_weather_attempts_exceptions_returns() -> None:
    from app.services.carriers.sandbox.world import World

    w = World(speed=1.0)
    w.started += dt.timedelta(days=30)
    stories = [w.story(f"SBX{n:012d}") for n in range(1, 400)]
    kinds = [{s.kind for s in st.steps} for st in stories if st]
    assert sum("delay" in k for k in kinds) > 10 and sum("attempt" in k for k in kinds) > 10
    assert sum("exception" in k for k in kinds) > 5 and sum("returned" in k for k in kinds) >= 1
    assert len(kinds) < 399  # some numbers the carrier does not know
    late = next(st for st in stories if st and any(s.kind == "delay" for s in st.steps))
    assert late.eta == late.first_eta + dt.timedelta(days=1)


def test_fedex_tracks_30_numbers_a_request(fresh: Sandbox) -> None:
    ad = make("fedex", fresh)
    numbers = [f"{700000000000 + n}" for n in range(65)]
    before = fresh.state.counts.get("fedex.track", 0)
    reply = ad.track(numbers)
    assert fresh.state.counts["fedex.track"] - before == 3
    assert [s.tracking_number for s in reply.shipments] == numbers
    assert {s.outcome for s in reply.shipments} <= {Outcome.OK, Outcome.NOT_FOUND}


@pytest.mark.parametrize("api", ["ups", "fedex", "dhl", "usps"])
def test_unknown_number_is_not_found(api: str, fresh: Sandbox) -> None:
    n = {"ups": "1Z0000000000000000", "fedex": "000000000000", "dhl": "0000000000", "usps": "9400000000000000000000"}[api]
    reply = make(api, fresh).track([n])
    assert reply.outcome == Outcome.NOT_FOUND and reply.shipments[0].tracking_number == n


def test_a_number_of_another_carrier_is_refused_without_a_call(fresh: Sandbox) -> None:
    ad = make("fedex", fresh)
    reply = ad.track(["1Z999AA10123456784", "9400100000000000000001"])
    assert reply.outcome == Outcome.PERMANENT and ad.calls == 0
    assert "UPS tracking number" in reply.shipments[0].message and "USPS" in reply.shipments[1].message


@pytest.mark.parametrize("api", ["ups", "fedex", "usps"])
def test_expired_token_mid_run_is_refreshed_once(api: str, fresh: Sandbox) -> None:
    ad = make(api, fresh)
    n = {"ups": "1Z12345E0205271688", "fedex": "700000000123", "usps": "9400100000000000000123"}[api]
    assert ad.track([n]).outcome in (Outcome.OK, Outcome.NOT_FOUND)
    assert ad.tokens.fetches == 1
    requests.post(f"{fresh.url}/sandbox/expire-tokens", timeout=5)
    assert ad.track([n]).outcome in (Outcome.OK, Outcome.NOT_FOUND)
    assert ad.tokens.fetches == 2


def test_one_token_for_many_threads(fresh: Sandbox) -> None:
    ad = make("ups", fresh)
    before = fresh.state.counts.get("ups.token", 0)
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(ad.track(["1Z12345E0205271688"]).outcome)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh.state.counts["ups.token"] - before == 1 and len(out) == 8


def test_429_with_retry_after_blocks_the_account(fresh: Sandbox) -> None:
    fresh.state.per_minute = 1  # bucket holds one call
    limiter = RateLimiter("a", 6000, store=MemoryStore())
    ad = make("dhl", fresh, limiter=limiter, max_wait=0.0)
    ad.track(["3000000001"])
    reply = ad.track(["3000000002"])
    assert reply.outcome == Outcome.RATE_LIMITED and reply.retry_after is not None and reply.retry_after >= 1
    calls = ad.calls
    local = ad.track(["3000000003"])  # the account is blocked: no request leaves
    assert local.outcome == Outcome.RATE_LIMITED and ad.calls == calls and local.retry_after


@pytest.mark.parametrize(("fault", "outcome", "words"), [
    ("garbage", Outcome.MALFORMED, "unreadable JSON"), ("html", Outcome.MALFORMED, "HTML page"),
    ("html502", Outcome.TRANSIENT, "502"), ("truncated", Outcome.MALFORMED, "cut the answer short"),
    ("reset", Outcome.TRANSIENT, "connection"), ("500", Outcome.TRANSIENT, "unavailable"),
    ("429", Outcome.RATE_LIMITED, "Too many"),
])
def test_faults_are_typed(fault: str, outcome: Outcome, words: str, fresh: Sandbox) -> None:
    ad = make("fedex", fresh)
    assert ad.test_connection().outcome == Outcome.OK  # token in hand
    fresh.force_faults(fault)
    reply = ad.track(["700000000999"])
    assert reply.outcome == outcome and words in reply.message, reply.message
    assert ad.track(["700000000999"]).outcome in (Outcome.OK, Outcome.NOT_FOUND)  # next call is fine


@pytest.mark.parametrize(("fault", "outcome", "words"), [
    ("truncated", Outcome.MALFORMED, "cut the answer short"), ("reset", Outcome.TRANSIENT, "connection reset"),
    ("html", Outcome.MALFORMED, "HTML page"), ("429", Outcome.RATE_LIMITED, ""),
])
def test_faults_on_a_kept_alive_tracking_get_are_typed(fault: str, outcome: Outcome, words: str,
                                                      fresh: Sandbox) -> None:
    """UPS and DHL track by GET over transport's own kept-alive connections (not requests): the same outcomes."""
    ad = make("dhl", fresh)
    assert ad.track(["3000000001"]).outcome in (Outcome.OK, Outcome.NOT_FOUND)  # leaves a connection open
    fresh.force_faults(fault)
    reply = ad.track(["3000000002"])
    assert reply.outcome == outcome and words in reply.message, reply.message
    if fault == "429":
        assert reply.retry_after is not None and reply.retry_after >= 1
    assert ad.track(["3000000003"]).outcome in (Outcome.OK, Outcome.NOT_FOUND)  # next call is fine


def test_a_connection_the_carrier_closed_while_idle_is_replaced(fresh: Sandbox) -> None:
    from app.services.carriers import transport

    ad = make("ups", fresh)
    assert ad.track(["1Z0000000000000000"]).outcome == Outcome.NOT_FOUND
    url = urlsplit(fresh.url)
    key = ("http", url.hostname or "", url.port or 80)
    assert transport._idle.get(key), "the GET's connection was kept for the next one"
    assert fresh.httpd is not None
    fresh.httpd.close_all()  # the carrier drops its kept-alive connections
    calls = fresh.state.counts.get("ups.track", 0)
    reply = ad.track(["1Z0000000000000000"])
    assert reply.outcome == Outcome.NOT_FOUND, reply.message
    assert fresh.state.counts.get("ups.track", 0) == calls + 1  # asked once, on a fresh connection


def test_slow_answer_times_out(fresh: Sandbox) -> None:
    fresh.state.slow_seconds = 1.5
    ad = make("usps", fresh, timeout=(1.0, 0.5))
    assert ad.test_connection().outcome == Outcome.OK
    fresh.force_faults("slow")
    reply = ad.track(["9400100000000000000555"])
    assert reply.outcome == Outcome.TRANSIENT and "timeout" in reply.message


def test_sandbox_stopped_is_transient() -> None:
    sb = Sandbox().start()
    url = sb.url
    sb.stop()
    from app.services.carriers.adapters import Account, adapter_class

    ad = adapter_class("ups")(Account("x", "ups", url, "1", "c", SECRET))
    reply = ad.test_connection()
    assert reply.outcome == Outcome.TRANSIENT and "refused" in reply.message and SECRET not in reply.message


@pytest.mark.slow
def test_soak_every_answer_under_random_faults_is_typed() -> None:
    """DEPOT_SLOW=1: 30% of answers go wrong in every way for 1,500 tracking calls on four
    carriers; every reply is a typed outcome with a message, nothing raises, no secret leaks."""
    with Sandbox(fault_rate=0.3, slow_seconds=0.3, seed=11) as sb:
        seen: dict[str, int] = {}
        ads = [make(api, sb) for api in ("ups", "fedex", "dhl", "usps")]
        for i in range(1500):
            ad = ads[i % 4]
            ad.timeout = (1.0, 0.2)
            n = {"ups": f"1ZSOAK{i:012d}", "fedex": f"{700000000000 + i}", "dhl": f"{3000000000 + i}",
                 "usps": f"9400{i:018d}"}[ad.api]
            reply = ad.track([n])
            assert reply.outcome in set(Outcome) and (reply.outcome == Outcome.OK or reply.message)
            assert SECRET not in reply.message and "sandbox-demo-secret" not in reply.message
            seen[reply.outcome] = seen.get(reply.outcome, 0) + 1
    assert {Outcome.OK, Outcome.MALFORMED, Outcome.TRANSIENT, Outcome.RATE_LIMITED} <= set(seen), seen
