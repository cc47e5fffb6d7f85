"""Where every parcel is, on the sandbox's accelerated clock.

A parcel's story is fixed by its tracking number (a hash), so every carrier endpoint and every
restart tell the same story: label, pickup, hub scans, out for delivery, delivery with a
signature, and for some parcels weather delays with a new ETA, a failed attempt, damage, or a
return to the sender. Labels issued by the sandbox start their story at issue time; numbers it
never issued (the seed's) are already on their way when the sandbox starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass, field

CITIES = (("MEMPHIS", "TN", "38118"), ("LOUISVILLE", "KY", "40209"), ("DALLAS", "TX", "75261"),
          ("CHICAGO", "IL", "60666"), ("ATLANTA", "GA", "30320"), ("ONTARIO", "CA", "91761"),
          ("NEWARK", "NJ", "07114"), ("DENVER", "CO", "80249"), ("PHOENIX", "AZ", "85034"))
SIGNERS = ("J. MARTINEZ", "FRONT DESK", "R. CHEN", "DOCK 4", "A. PATEL", "M. JOHNSON", "RECEIVING")


def digest(number: str) -> int:
    return int.from_bytes(hashlib.blake2b(number.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    kind: str  # label pickup depart arrive out attempt delay exception returning returned delivered cancelled
    city: str
    state: str
    postal: str
    note: str = ""


@dataclass
class Story:
    number: str
    service_days: int
    steps: list[Step]
    eta: dt.date
    first_eta: dt.date
    signer: str = ""
    window: tuple[dt.datetime, dt.datetime] | None = None


@dataclass
class Issued:
    created: dt.datetime
    days: int
    service: str
    voided: bool = False
    voided_at: dt.datetime | None = None
    origin: tuple[str, str, str] = ("MEMPHIS", "TN", "38118")
    dest: tuple[str, str, str] = ("ATLANTA", "GA", "30320")


@dataclass
class World:
    """The sandbox clock (``speed`` sandbox seconds per real second) and the parcels it knows."""

    speed: float = 60.0
    started_real: float = field(default_factory=time.time)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
    issued: dict[str, Issued] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> dt.datetime:
        return self.started + dt.timedelta(seconds=(time.time() - self.started_real) * self.speed)

    def issue(self, number: str, service: str, days: int, origin: tuple[str, str, str] | None = None,
              dest: tuple[str, str, str] | None = None) -> Issued:
        with self.lock:
            it = Issued(self.now(), max(days, 1), service)
            if origin:
                it.origin = origin
            if dest:
                it.dest = dest
            self.issued[number] = it
            return it

    def void(self, number: str) -> str:
        """'' when voided; else why not (unknown, already moving)."""
        with self.lock:
            it = self.issued.get(number)
            if it is None:
                return "unknown"
            story = self.story(number)
            if story is not None and any(s.kind != "label" and s.at <= self.now() for s in story.steps):
                return "in transit"
            it.voided = True
            it.voided_at = self.now()
            return ""

    def known(self, number: str) -> bool:
        """Numbers the sandbox never issued are known unless their hash says not (about 1 in 29),
        or they are all zeros (the probe adapters use to test a connection)."""
        if number in self.issued:
            return True
        digits = "".join(c for c in number if c.isalnum())[2:]
        if not digits or set(digits) <= {"0"}:
            return False
        return digest(number) % 29 != 0

    def story(self, number: str) -> Story | None:
        if not self.known(number):
            return None
        h = digest(number)
        it = self.issued.get(number)
        if it is not None:
            t0, days, origin, dest = it.created, it.days, it.origin, it.dest
        else:
            days = 1 + h % 5
            t0 = self.started - dt.timedelta(hours=(h >> 8) % (days * 24 + 30))
            origin, dest = CITIES[(h >> 16) % len(CITIES)], CITIES[(h >> 20) % len(CITIES)]
        hub = CITIES[(h >> 24) % 2]  # Memphis or Louisville
        eta = (t0 + dt.timedelta(days=days)).date()
        first_eta = eta
        steps = [Step(t0, "label", *origin)]
        if it is not None and it.voided:
            steps.append(Step(it.voided_at or t0, "cancelled", *origin))
            return Story(number, days, steps, eta, first_eta)
        transit = days * 24.0
        steps.append(Step(t0 + dt.timedelta(hours=3), "pickup", *origin))
        steps.append(Step(t0 + dt.timedelta(hours=5), "depart", *origin))
        steps.append(Step(t0 + dt.timedelta(hours=max(6.0, transit * 0.4)), "arrive", *hub))
        shift = dt.timedelta(0)
        scenario = (h >> 32) % 100
        if scenario < 10:  # weather at the hub: one day late, new ETA
            at = t0 + dt.timedelta(hours=max(7.0, transit * 0.4 + 1))
            eta = eta + dt.timedelta(days=1)
            steps.append(Step(at, "delay", *hub, note=eta.isoformat()))
            shift = dt.timedelta(days=1)
        elif scenario < 15:  # damaged, repackaged: a day lost
            at = t0 + dt.timedelta(hours=max(7.0, transit * 0.4 + 1))
            steps.append(Step(at, "exception", *hub, note="damaged; repackaged"))
            shift = dt.timedelta(days=1)
            eta = eta + dt.timedelta(days=1)
        steps.append(Step(t0 + dt.timedelta(hours=max(8.0, transit * 0.4 + 2)) + shift, "depart", *hub))
        day = dt.datetime.combine(eta, dt.time(0), dt.UTC)
        # at the destination the evening before, but never before leaving the hub (a one-day
        # parcel labelled late in the day would otherwise arrive before its label)
        steps.append(Step(max(day - dt.timedelta(hours=4), steps[-1].at + dt.timedelta(hours=1)), "arrive", *dest))
        out = day + dt.timedelta(hours=13, minutes=h % 50)
        signer = SIGNERS[h % len(SIGNERS)]
        window = (day + dt.timedelta(hours=13), day + dt.timedelta(hours=21))
        if 15 <= scenario < 25 or scenario >= 97:  # nobody there: try again tomorrow (and again)
            steps.append(Step(out, "out", *dest))
            steps.append(Step(out + dt.timedelta(hours=4), "attempt", *dest, note="receiver not available"))
            out += dt.timedelta(days=1)
            eta = out.date()
            if scenario >= 97:  # three strikes: back to the sender
                steps.append(Step(out, "out", *dest))
                steps.append(Step(out + dt.timedelta(hours=4), "attempt", *dest, note="receiver not available"))
                steps.append(Step(out + dt.timedelta(hours=6), "returning", *dest))
                steps.append(Step(out + dt.timedelta(days=days, hours=4), "returned", *origin))
                return Story(number, days, steps, eta, first_eta, "", window)
        steps.append(Step(out, "out", *dest))
        steps.append(Step(out + dt.timedelta(hours=3, minutes=h % 40), "delivered", *dest))
        return Story(number, days, steps, eta, first_eta, signer, window)

    def eta_now(self, story: Story, seen: list[Step]) -> dt.date:
        """The ETA as the carrier would state it now: the new date only once the trouble is seen."""
        return story.eta if any(s.kind in ("delay", "exception", "attempt") for s in seen) else story.first_eta

    def visible(self, story: Story) -> list[Step]:
        now = self.now()
        return [s for s in story.steps if s.at <= now] or story.steps[:1]
