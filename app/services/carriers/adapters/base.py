"""The interface every carrier adapter offers, and the plumbing they share.

``track(numbers) -> TrackReply``, ``rate(shipment) -> RateReply``, ``create_label(shipment,
service) -> LabelReply``, ``void(label) -> Reply`` and ``test_connection() -> Reply``: each
returns a typed outcome and never raises for what a carrier (or the network) did. Requests are
paced by the account's ``RateLimiter``; a 401 on a cached token drops it and retries once with a
new one (the token expired mid-run); a 429 blocks the account for its Retry-After.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from app.services.carriers.limits import RateLimiter
from app.services.carriers.model import (
    Label,
    LabelReply,
    Outcome,
    RateReply,
    Reply,
    ShipmentRequest,
    TrackReply,
    TrackResult,
)
from app.services.carriers.parsing import outcome_for_status, retry_after, snippet
from app.services.carriers.transport import DEFAULT_TIMEOUT, TOKENS, Raw, TokenCache, redact, send

log = logging.getLogger("depot.carriers")


@dataclass(frozen=True)
class Account:
    """What an adapter needs of a carrier account (the secret is held here only in memory)."""

    id: str
    api: str
    base_url: str
    account_number: str = ""
    client_id: str = ""
    secret: str = field(default="", repr=False)
    carrier_code: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    #: for a carrier with a second host (DHL Express rating and labels) and its own password
    alt_base_url: str = ""
    secret2: str = field(default="", repr=False)


def batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


class Adapter:
    #: which wire format; an instance takes its account's api ("sandbox" speaks FedEx's format)
    api: str = ""
    #: tracking numbers per request
    batch_size: ClassVar[int] = 1
    #: label document format this adapter asks for
    label_format: ClassVar[str] = "pdf"

    def __init__(self, account: Account, *, limiter: RateLimiter | None = None, tokens: TokenCache | None = None,
                 session: requests.Session | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 max_wait: float = 2.0) -> None:
        self.account = account
        self.api = account.api or type(self).api
        self.base = account.base_url.rstrip("/")
        self.limiter = limiter
        self.tokens = tokens or TOKENS
        self.session = session
        self.timeout = timeout
        #: how long a call may wait for the rate limiter before answering rate_limited itself
        self.max_wait = max_wait
        #: API requests sent (paced), token requests sent, and how many of all of them got an HTTP
        #: answer: none means the carrier could not be reached at all (the cycle says so)
        self.calls = 0
        self.token_calls = 0
        self.answered = 0
        #: the latest time a carrier's answer was dated (its HTTP Date header): the carrier's clock
        self.carrier_now: dt.datetime | None = None

    # -- the interface ----------------------------------------------------------------------
    def track(self, numbers: Sequence[str]) -> TrackReply:
        """Every number, in the carrier's batch size; a call-level failure stops the pass and is
        the reply's outcome (numbers not reached come back with it)."""
        numbers = [n.strip() for n in numbers if n and n.strip()]
        if not numbers:
            return TrackReply(Outcome.PERMANENT, "tracking numbers: none given")
        results: list[TrackResult] = []
        foreign = [n for n in numbers if self.refuses(n)]
        for n in foreign:
            results.append(TrackResult(n, Outcome.PERMANENT, message=self.refuses(n)))
        todo = [n for n in numbers if n not in foreign]
        for chunk in batches(todo, self.batch_size):
            reply = self.track_batch(chunk)
            if reply.shipments:
                results.extend(reply.shipments)
            elif reply.outcome is not Outcome.OK:
                done = {r.tracking_number for r in results}
                rest = [n for n in todo if n not in done]
                results.extend(TrackResult(n, reply.outcome, message=reply.message) for n in rest)
                return TrackReply(reply.outcome, reply.message, reply.retry_after, reply.http_status, results)
        from app.services.carriers.parsing import combine

        return combine(results, 200)

    def track_batch(self, numbers: list[str]) -> TrackReply:
        raise NotImplementedError

    def rate(self, shipment: ShipmentRequest, services: Sequence[str] = ()) -> RateReply:
        raise NotImplementedError

    def create_label(self, shipment: ShipmentRequest, service: str) -> LabelReply:
        raise NotImplementedError

    def void(self, label: Label) -> Reply:
        raise NotImplementedError

    def test_connection(self) -> Reply:
        """Credentials and reachability in one answer: a token (where OAuth) and one tracking call
        for a number the carrier cannot know. ok or not_found both mean "connected"."""
        reply = self.track_batch([self.probe_number])
        if reply.outcome in (Outcome.OK, Outcome.NOT_FOUND, Outcome.PERMANENT) and reply.http_status != 401:
            return Reply(Outcome.OK, f"connected to {self.host}: credentials accepted", http_status=reply.http_status)
        return Reply(reply.outcome, reply.message, reply.retry_after, reply.http_status)

    probe_number: ClassVar[str] = "000000000000"

    def refuses(self, number: str) -> str:
        """Why a number is not this carrier's ('' when it may be): saves a call and names the problem."""
        from app.services.carriers.numbers import carrier_of

        other = carrier_of(number)
        if other and other != self.api and self.api != "sandbox":
            return f"{number} is a {other.upper()} tracking number, not {self.api.upper()}'s"
        return ""

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.base.split("//", 1)[-1]

    def _secrets(self) -> list[str]:
        return [self.account.secret, self.account.secret2]

    def _pace(self) -> Reply | None:
        if self.limiter is None:
            return None
        deadline = time.monotonic() + self.max_wait
        while True:
            wait = self.limiter.acquire()
            if wait <= 0:
                return None
            if time.monotonic() + wait > deadline:
                return Reply(Outcome.RATE_LIMITED, f"{self.api.upper()} account {self.account.account_number or self.account.id}: "
                             f"request budget used (next in {wait:.0f} s)", retry_after=round(wait, 3))
            time.sleep(wait)

    def token(self) -> str | Reply:
        return ""

    def _fetch_token(self) -> tuple[str, float] | Reply:
        raise NotImplementedError

    @property
    def token_key(self) -> str:
        """Per account, host and credentials: a changed secret never reuses the old token."""
        import hashlib

        creds = hashlib.sha256(f"{self.account.client_id}\0{self.account.secret}".encode()).hexdigest()[:16]
        return f"{self.api}:{self.account.id}:{self.base}:{creds}"

    def oauth(self) -> str | Reply:
        def fetch() -> tuple[str, float] | Reply:
            self.token_calls += 1
            got = self._fetch_token()
            if not isinstance(got, Reply) or got.http_status is not None:
                self.answered += 1
            return got
        return self.tokens.get(self.token_key, fetch)

    def token_reply(self, raw: Raw | Reply) -> tuple[str, float] | Reply:
        """Read an OAuth token answer (access_token, expires_in) in any of the carriers' envelopes."""
        import json

        if isinstance(raw, Reply):
            return Reply(raw.outcome, f"token: {raw.message}", raw.retry_after, raw.http_status)
        wait = retry_after(raw.headers)
        try:
            data = json.loads(raw.body or b"{}")
        except ValueError:
            outcome = outcome_for_status(raw.status) or Outcome.MALFORMED
            return Reply(outcome, f"token: HTTP {raw.status}: {snippet(raw.body)}", wait, raw.status)
        if raw.status == 200 and isinstance(data, dict) and data.get("access_token"):
            try:
                life = float(data.get("expires_in") or 3600)
            except (TypeError, ValueError):
                life = 3600.0
            return str(data["access_token"]), life
        outcome = outcome_for_status(raw.status) or Outcome.MALFORMED
        if raw.status in (400, 401, 403):
            outcome = Outcome.AUTH_FAILED
        return Reply(outcome, f"{self.api.upper()} refused the credentials: {_error_text(data) or f'HTTP {raw.status}'}"
                     if outcome is Outcome.AUTH_FAILED else f"token: HTTP {raw.status}: {_error_text(data)}",
                     wait if outcome is Outcome.RATE_LIMITED else None, raw.status)

    def call(self, method: str, path: str, *, auth_headers: Callable[[str], dict[str, str]] | None = None,
             url: str | None = None, **kwargs: Any) -> Raw | Reply:
        """One paced request; with ``auth_headers`` an OAuth token is added, and a 401 drops it and
        retries once with a fresh one."""
        for attempt in (1, 2):
            paced = self._pace()
            if paced is not None:
                return paced
            headers = dict(kwargs.pop("headers", None) or {})
            token = ""
            if auth_headers is not None:
                got = self.oauth()
                if isinstance(got, Reply):
                    return got
                token = got
                headers.update(auth_headers(token))
            self.calls += 1
            raw = send(method, url or f"{self.base}{path}", session=self.session, timeout=self.timeout,
                       secrets=[*self._secrets(), token], headers=headers, **kwargs)
            kwargs["headers"] = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if isinstance(raw, Reply):
                log.info("%s %s %s: %s", self.api, method, path, raw.message)
                return raw
            self.answered += 1
            self._note_clock(raw.headers)
            if raw.status == 429 and self.limiter is not None:
                self.limiter.block(retry_after(raw.headers) or 1.0)
            if raw.status == 401 and token and attempt == 1:
                log.info("%s: token refused (expired?); fetching a new one", self.api)
                self.tokens.invalidate(self.token_key, token)
                continue
            return raw
        return raw

    def _note_clock(self, headers: Any) -> None:
        stamp = headers.get("Date") if headers is not None else None
        if not stamp:
            return
        try:
            at = email.utils.parsedate_to_datetime(stamp)
        except (TypeError, ValueError):
            return
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        if self.carrier_now is None or at > self.carrier_now:
            self.carrier_now = at

    def clean(self, text: str) -> str:
        return redact(text, self._secrets())


def _error_text(data: Any) -> str:
    """The first human sentence in any of the carriers' error envelopes."""
    if not isinstance(data, dict):
        return ""
    for path in (("response", "errors"), ("errors",), ("error", "errors")):
        cur: Any = data
        for p in path:
            cur = cur.get(p) if isinstance(cur, dict) else None
        if isinstance(cur, list) and cur and isinstance(cur[0], dict):
            e = cur[0]
            return " ".join(str(x) for x in (e.get("code"), e.get("message") or e.get("detail") or e.get("title")) if x)
    err = data.get("error")
    if isinstance(err, dict):
        return " ".join(str(x) for x in (err.get("code"), err.get("message")) if x)
    if isinstance(err, str):
        return f"{err}: {data.get('error_description', '')}".strip(": ")
    for k in ("detail", "title", "message"):
        if data.get(k):
            return str(data[k])
    return ""


def error_text(data: Any) -> str:
    return _error_text(data)


def reply_for(raw: Raw, what: str, data: Any = None) -> Reply:
    """A non-2xx (or unreadable) answer to a rate/label/void call as a typed Reply."""
    outcome = outcome_for_status(raw.status) or Outcome.MALFORMED
    text = _error_text(data) if data is not None else snippet(raw.body)
    return Reply(outcome, f"{what}: HTTP {raw.status}: {text}" if text else f"{what}: HTTP {raw.status}",
                 retry_after(raw.headers) if outcome is Outcome.RATE_LIMITED else None, raw.status)


def read_json(raw: Raw, what: str) -> tuple[Any, Reply | None]:
    import json

    try:
        data = json.loads(raw.body)
    except ValueError:
        outcome = outcome_for_status(raw.status) or Outcome.MALFORMED
        kind = "an HTML page" if raw.body.lstrip()[:1] == b"<" else "unreadable JSON"
        return None, Reply(outcome, f"{what}: HTTP {raw.status}, {kind}: {snippet(raw.body)}",
                           retry_after(raw.headers) if outcome is Outcome.RATE_LIMITED else None, raw.status)
    if not 200 <= raw.status < 300:
        return data, reply_for(raw, what, data)
    return data, None


def label_reply(label: Label | None, message: str, raw: Raw) -> LabelReply:
    if label is None:
        return LabelReply(Outcome.MALFORMED, message, http_status=raw.status)
    return LabelReply(Outcome.OK, message, http_status=raw.status, label=label)


def as_rate(reply: Reply) -> RateReply:
    return RateReply(reply.outcome, reply.message, reply.retry_after, reply.http_status)


def as_label(reply: Reply) -> LabelReply:
    return LabelReply(reply.outcome, reply.message, reply.retry_after, reply.http_status)


def as_track(reply: Reply, numbers: Sequence[str] = ()) -> TrackReply:
    shipments = [TrackResult(n, reply.outcome, message=reply.message) for n in numbers] \
        if reply.outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT) else []
    return TrackReply(reply.outcome, reply.message, reply.retry_after, reply.http_status, shipments)
