"""One tracking pass over N shipments against the carrier sandbox on loopback.

    depot bench carrier_track [--shipments 5000] [--per-minute 60000]

The sandbox runs in its own process (``depot carrier-sandbox``), so the CPU figure is the
client's alone: adapters, HTTP, parsing. Shipments are spread over carriers as the large seed
does (the sandbox carrier twice as often as UPS, FedEx, DHL, USPS); each account is worked by one
thread with the carrier's batch size (FedEx and the sandbox 30 numbers a request, the others one)
and its own rate limiter (``--per-minute``). Figures: wall time, client CPU per shipment (target
under 2 ms), requests, outcomes.
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import threading
import time

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def numbers(n: int) -> dict[str, list[str]]:
    """Tracking numbers by carrier api, shaped like the seed's."""
    mix = ["sandbox", "sandbox", "ups", "fedex", "dhl", "usps"]
    out: dict[str, list[str]] = collections.defaultdict(list)
    for i in range(1, n + 1):
        api = mix[i % len(mix)]
        out[api].append({"sandbox": f"SBX{i:012d}", "ups": f"1ZDEP0010{i:09d}", "fedex": f"{700000000000 + i:012d}",
                         "dhl": f"{3000000000 + i:010d}", "usps": f"9400{i:018d}"}[api])
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench carrier_track")
    ap.add_argument("--shipments", type=int, default=5000)
    ap.add_argument("--per-minute", type=int, default=60_000, help="each account's request budget")
    args = ap.parse_args(argv)
    from app.services.carriers.adapters import Account, adapter_class
    from app.services.carriers.limits import RateLimiter
    from app.services.carriers.sandbox.server import DEMO_SECRET

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "carrier-sandbox", "--port", str(port), "--speed", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/sandbox/status", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        work = numbers(args.shipments)
        adapters = {api: adapter_class(api)(
            Account(f"bench-{api}", api, url, "SANDBOX-B" if api == "sandbox" else "B1", "bench", DEMO_SECRET),
            limiter=RateLimiter(f"bench-{api}", args.per_minute, burst=min(args.per_minute, 50)), max_wait=60.0)
            for api in work}
        for ad in adapters.values():  # tokens first: a pass normally runs with tokens in hand
            ad.test_connection()
        outcomes: collections.Counter[str] = collections.Counter()
        lock = threading.Lock()

        def run(api: str) -> None:
            ad = adapters[api]
            reply = ad.track(work[api])
            with lock:
                outcomes.update(str(s.outcome) for s in reply.shipments)

        calls0 = sum(ad.calls for ad in adapters.values())
        cpu0, wall0 = time.process_time(), time.perf_counter()
        threads = [threading.Thread(target=run, args=(api,)) for api in work]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        calls = sum(ad.calls for ad in adapters.values()) - calls0
        status = requests.get(f"{url}/sandbox/status", timeout=5).json()
    finally:
        proc.terminate()
        proc.wait(10)
    n = args.shipments
    print(f"tracked {n:,} shipments in {calls:,} requests over {len(work)} accounts: {wall:.2f} s wall, "
          f"{cpu:.2f} s client CPU = {cpu / n * 1000:.2f} ms CPU a shipment ({wall / n * 1000:.2f} ms wall)")
    print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    print(f"  per-minute budget {args.per_minute:,} an account; sandbox served {status['requests']:,} requests")
    return 0
