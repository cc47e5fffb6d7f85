"""What a poll cycle did, per carrier account and in all: the figures ``depot track poll`` prints,
the window's status line shows and the job runner records (kept apart from the cycle's steps)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AccountReport:
    label: str
    shipments: int = 0
    requests: int = 0
    new_events: int = 0
    status_changes: int = 0
    notices: int = 0
    unknown_numbers: int = 0
    #: events dated too far ahead of our clock (not stored; named in ``notes``)
    future_events: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    message: str = ""
    notes: list[str] = field(default_factory=list)
    #: requests were sent (``attempts``, tokens' too) and none got an answer: the carrier could not be reached
    unreachable: bool = False
    attempts: int = 0

    def merge(self, part: AccountReport) -> None:
        """Add one apply chunk's figures (the account's answers are stored in chunks)."""
        self.shipments += part.shipments
        self.requests += part.requests
        self.new_events += part.new_events
        self.status_changes += part.status_changes
        self.notices += part.notices
        self.unknown_numbers += part.unknown_numbers
        self.future_events += part.future_events
        self.outcomes.update(part.outcomes)
        self.message = self.message or part.message
        self.unreachable = self.unreachable or part.unreachable
        self.attempts += part.attempts
        self.notes.extend(part.notes)


@dataclass
class CycleReport:
    started_at: dt.datetime
    wall_s: float = 0.0
    cpu_s: float = 0.0
    shipments: int = 0
    requests: int = 0
    new_events: int = 0
    status_changes: int = 0
    notices: int = 0
    mail_sent: int = 0
    unknown_numbers: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    leases: dict[str, str] = field(default_factory=dict)
    accounts: list[AccountReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, rep: AccountReport) -> None:
        self.accounts.append(rep)
        self.shipments += rep.shipments
        self.requests += rep.requests
        self.new_events += rep.new_events
        self.status_changes += rep.status_changes
        self.notices += rep.notices
        self.unknown_numbers += rep.unknown_numbers
        self.outcomes.update(rep.outcomes)
        if rep.message:
            self.problems.append(f"{rep.label}: {rep.message}")
        self.notes.extend(rep.notes)

    @property
    def ok(self) -> bool:
        """For the job runner: a cycle that ran is ok (an account's trouble is in ``problems``)."""
        return True

    @property
    def changed(self) -> bool:
        return bool(self.shipments or self.notices or self.mail_sent)

    def line(self) -> str:
        """One sentence for the status line and the CLI."""
        if not self.shipments and not self.problems:
            return f"nothing due ({self.notices} notices queued)" if self.notices else "nothing due"
        ok = self.outcomes.get("ok", 0)
        gone = [a for a in self.accounts if a.unreachable]
        if gone and not ok:  # nothing answered: say so, not "0 answered" and a count of requests
            names = ", ".join(f"{a.label} ({a.attempts} request{'s' if a.attempts != 1 else ''}, no answer)" for a in gone)
            text = (f"the carrier could not be reached: {names}; {self.shipments} shipment"
                    f"{'s' if self.shipments != 1 else ''} not polled, asked again after a back-off")
        else:
            text = (f"{self.shipments} shipments polled ({ok} answered) in {self.wall_s:.1f} s: {self.new_events} new "
                    f"events, {self.status_changes} changed status, {self.notices} notices queued")
            if gone:
                text += f"; {', '.join(a.label for a in gone)} could not be reached"
        if self.problems:
            text += f"; {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(timespec="seconds"), "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "cpu_ms_per_shipment": round(self.cpu_s * 1000 / self.shipments, 3) if self.shipments else None,
            "shipments": self.shipments, "requests": self.requests, "new_events": self.new_events,
            "status_changes": self.status_changes, "notices_queued": self.notices, "mail_sent": self.mail_sent,
            "unknown_numbers": self.unknown_numbers, "outcomes": dict(sorted(self.outcomes.items())),
            "problems": self.problems, "leases": self.leases, "notes": self.notes,
            "unreachable": [a.label for a in self.accounts if a.unreachable],
            "accounts": [{"account": a.label, "shipments": a.shipments, "requests": a.requests,
                          "new_events": a.new_events, "status_changes": a.status_changes, "notices": a.notices,
                          "outcomes": dict(a.outcomes), "message": a.message, "unreachable": a.unreachable}
                         for a in self.accounts],
        }
