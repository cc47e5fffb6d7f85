"""Pure parsers: a carrier's raw body (and HTTP status) to normalised tracking results.

``parse_track(carrier, body, http_status, headers, requested)`` is what the adapters, the
``depot carrier parse`` command, the benchmarks and the tests all call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from app.services.carriers.model import TrackReply
from app.services.carriers.parsing import Body

CARRIERS = ("ups", "fedex", "dhl", "usps")


_PARSERS: dict[str, Callable[..., TrackReply]] = {}


def parse_track(carrier: str, body: Body, http_status: int | None = None,
                headers: Mapping[str, str] | None = None, requested: Sequence[str] = ()) -> TrackReply:
    if not _PARSERS:
        from app.services.carriers.parsers import dhl, fedex, ups, usps

        _PARSERS.update({"ups": ups.parse_track, "fedex": fedex.parse_track, "dhl": dhl.parse_track,
                         "usps": usps.parse_track, "sandbox": fedex.parse_track})
    fn = _PARSERS.get(carrier) or _PARSERS.get(carrier.lower())
    if fn is None:
        raise ValueError(f"carrier: '{carrier}' is not one of {', '.join(CARRIERS)}")
    return fn(body, http_status, headers, requested)
