"""A real carrier sandbox on loopback for the adapter tests (one per module, in a thread)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.services.carriers.adapters import Account, Adapter, adapter_class
from app.services.carriers.model import Address, Parcel, ShipmentRequest
from app.services.carriers.sandbox.server import DEMO_SECRET, Sandbox
from app.services.carriers.transport import TokenCache

SHIPMENT = ShipmentRequest("SO-1001", Address("Depot Dallas", "1 Dock Rd", "Dallas", "TX", "75261"),
                           Address("Acme Builders", "5 Elm St", "Atlanta", "GA", "30320"), (Parcel(2500),))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=1.0, seed=7) as sb:
        yield sb


@pytest.fixture
def fresh(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with no queued faults, generous limits and live tokens."""
    with sandbox.state.lock:
        sandbox.state.forced.clear()
        sandbox.state.fault_rate = 0.0
        sandbox.state.per_minute = 60_000
        sandbox.state.buckets.clear()
    yield sandbox


def make(api: str, sb: Sandbox, secret: str = DEMO_SECRET, **kw: object) -> Adapter:
    acct = Account(f"acct-{api}", api, sb.url, "SANDBOX-1" if api == "sandbox" else "A12345", "client-1", secret,
                   api.upper(), {"crid": "1", "mid": "2"}, "", secret)
    return adapter_class(api)(acct, tokens=TokenCache(), **kw)  # type: ignore[arg-type]
