"""The branch's tracking policy (responses on/off, stale days, cadence, lease, notice templates),
and the two pure rules built on it: when to poll a shipment next, and how at risk it is.

A branch has at most one ``tracking_policy`` row (replicated, so every workstation of the branch
polls and responds alike); without one the defaults below apply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.tracking import NOTICE_KINDS, TrackingPolicy, derived_id
from app.services import audit
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.tracking.templates import check_templates

#: moving, but something is wrong or needs someone: poll soon
TROUBLE = frozenset({"delayed", "exception", "delivery_attempted", "available_for_pickup"})
FINAL = frozenset({"delivered", "returned", "cancelled"})
#: a delivered shipment without proof of delivery is asked again this long, then left
POD_GRACE = dt.timedelta(days=2)
MAX_BACKOFF = dt.timedelta(hours=6)
FIRST_BACKOFF = dt.timedelta(minutes=5)
AUTH_RETRY = dt.timedelta(hours=1)

_BOOLS = ("order_shipped_on_pickup", "late_eta_exception", "trouble_cases", "notice_shipped", "notice_eta",
          "notice_delivered", "notice_exception")
#: (field, lowest, highest, what a person calls it)
_INTS = (("stale_days", 1, 60, "stale after (days)"), ("label_minutes", 1, 1440, "new label: poll every (minutes)"),
         ("transit_minutes", 1, 1440, "in transit: poll every (minutes)"),
         ("out_minutes", 1, 240, "out for delivery: poll every (minutes)"),
         ("trouble_minutes", 1, 240, "trouble: poll every (minutes)"),
         ("unknown_minutes", 1, 1440, "not known yet: poll every (minutes)"),
         ("lease_minutes", 2, 240, "take over after (minutes)"))


@dataclass(frozen=True)
class Policy:
    order_shipped_on_pickup: bool = True
    late_eta_exception: bool = True
    trouble_cases: bool = True
    notice_shipped: bool = True
    notice_eta: bool = True
    notice_delivered: bool = True
    notice_exception: bool = True
    stale_days: int = 5
    label_minutes: int = 360
    transit_minutes: int = 60
    out_minutes: int = 15
    trouble_minutes: int = 10
    unknown_minutes: int = 120
    lease_minutes: int = 15
    #: kind -> {"subject": ..., "body": ...} overriding the built-in template
    templates: dict[str, dict[str, str]] = field(default_factory=dict)

    def notice_on(self, kind: str) -> bool:
        return bool(getattr(self, f"notice_{kind}", False))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


DEFAULT = Policy()


def policy_id(branch_id: uuid.UUID) -> uuid.UUID:
    return derived_id("tracking-policy", branch_id)


def _from_row(row: TrackingPolicy) -> Policy:
    try:
        templates = json.loads(row.templates) if row.templates else {}
    except ValueError:
        templates = {}
    values: dict[str, Any] = {f: getattr(row, f) for f in (*_BOOLS, *(i[0] for i in _INTS))}
    return Policy(**values, templates=templates if isinstance(templates, dict) else {})


def policy_for(session: Session, branch_id: uuid.UUID) -> Policy:
    """The branch's policy (cached for the session: a poll cycle reads it once per account)."""
    cache: dict[uuid.UUID, Policy] = session.info.setdefault("tracking_policy", {})
    found = cache.get(branch_id)
    if found is None:
        row = session.scalar(select(TrackingPolicy).where(TrackingPolicy.owner_branch_id == branch_id,
                                                          TrackingPolicy.deleted_at.is_(None)))
        found = _from_row(row) if row is not None else DEFAULT
        cache[branch_id] = found
    return found


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValidationError(name, f"must be yes or no, not {value!r}")


def _as_int(value: Any, name: str, low: int, high: int) -> int:
    try:
        n = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise ValidationError(name, f"must be a whole number, not {value!r}") from None
    if not low <= n <= high:
        raise ValidationError(name, f"must be between {low} and {high}")
    return n


def save_policy(session: Session, actor: Actor, branch_id: uuid.UUID, **changes: Any) -> Policy:
    """Change the branch's policy (manager): every value is checked first, so a bad one changes
    nothing. ``templates`` is checked by ``notices.check_templates`` (unknown placeholders)."""
    actor.require("tracking.configure")
    known = {*_BOOLS, *(i[0] for i in _INTS), "templates"}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValidationError(unknown[0], f"is not a tracking setting (known: {', '.join(sorted(known))})")
    current = policy_for(session, branch_id)
    values = current.to_dict()
    for name in _BOOLS:
        if name in changes:
            values[name] = _as_bool(changes[name], name.replace("_", " "))
    for name, low, high, label in _INTS:
        if name in changes:
            values[name] = _as_int(changes[name], label, low, high)
    if "templates" in changes:
        values["templates"] = check_templates(changes["templates"] or {})
    new = Policy(**values)
    row = session.get(TrackingPolicy, policy_id(branch_id))
    if row is None:
        row = TrackingPolicy(id=policy_id(branch_id), owner_branch_id=branch_id)
        session.add(row)
    for name in (*_BOOLS, *(i[0] for i in _INTS)):
        setattr(row, name, values[name])
    row.templates = json.dumps(new.templates, sort_keys=True) if new.templates else ""
    row.updated_by = actor.username
    row.deleted_at = None
    session.flush()
    changed = {k: v for k, v in new.to_dict().items() if current.to_dict().get(k) != v}
    audit.record(session, actor, "tracking.policy", "tracking_policy", row.id, branch_id, changed=changed)
    session.info.pop("tracking_policy", None)
    return new


# -- cadence -----------------------------------------------------------------------------------------


def _jitter(key: str, delay: dt.timedelta) -> dt.timedelta:
    """Spread polls of shipments scanned together by up to +-10% (fixed per shipment), so a
    thousand parcels picked up at once do not all fall due in the same minute again."""
    h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=2).digest(), "big")
    return delay * (0.9 + 0.2 * h / 65535)


@dataclass(frozen=True)
class Next:
    """When to ask again (None: stop) and why polling stopped ('' when it did not)."""

    at: dt.datetime | None
    stopped: str = ""


def next_poll(policy: Policy, *, status: str, outcome: str, failures: int, now: dt.datetime,
              moved_at: dt.datetime | None, has_pod: bool = False, retry_after: float | None = None,
              key: str = "") -> Next:
    """The adaptive cadence: a new label slowly, in transit hourly, out for delivery every 15
    minutes, trouble soon; stop at delivered with proof of delivery (a delivery without one is
    asked again for two days), at returned/cancelled, at an invalid number, or after
    ``stale_days`` without movement. Failures back off 5 min, 10, 20 ... 6 h, never sooner than
    the carrier's Retry-After."""
    wait = dt.timedelta(seconds=retry_after or 0)
    if outcome == "rate_limited":
        return Next(now + max(wait, dt.timedelta(minutes=1)))
    if outcome in ("transient", "malformed"):
        back = min(FIRST_BACKOFF * 2 ** max(failures - 1, 0), MAX_BACKOFF)
        return Next(now + max(back, wait))
    if outcome == "auth_failed":
        return Next(now + AUTH_RETRY)
    if outcome == "permanent":
        return Next(None, "invalid")
    if status in FINAL:
        if status == "delivered" and not has_pod and moved_at is not None and now - moved_at < POD_GRACE:
            return Next(now + _jitter(key, dt.timedelta(minutes=policy.label_minutes)))
        return Next(None, status)
    if moved_at is not None and now - moved_at >= dt.timedelta(days=policy.stale_days):
        return Next(None, "stale")
    if outcome == "not_found":
        minutes = policy.unknown_minutes
    elif status == "label_created":
        minutes = policy.label_minutes
    elif status == "out_for_delivery":
        minutes = policy.out_minutes
    elif status in TROUBLE:
        minutes = policy.trouble_minutes
    else:
        minutes = policy.transit_minutes
    return Next(now + _jitter(key, dt.timedelta(minutes=minutes)))


def skewed(next_poll_at: dt.datetime | None, now: dt.datetime, policy: Policy) -> bool:
    """A next poll further ahead than any cadence allows was written by a clock running ahead
    (another workstation of the branch, before this one took over): poll it now."""
    if next_poll_at is None:
        return False
    longest = max(policy.label_minutes, policy.unknown_minutes, policy.transit_minutes) * 1.2
    return next_poll_at - now > max(dt.timedelta(minutes=longest), MAX_BACKOFF, AUTH_RETRY)


# -- risk --------------------------------------------------------------------------------------------

RISKS = ("late", "at_risk", "on_time")


def risk(*, status: str, promised: dt.date | None, eta: dt.date | None, delivered_at: dt.datetime | None,
         today: dt.date, stopped: str = "", flag: str = "") -> str:
    """late: delivered after, or expected after, the promised date (or still on its way past it);
    at risk: trouble on the way, tracking gone quiet, or no ETA on the eve of the promise;
    on time: the rest. '' for a shipment that will not be delivered (returned, cancelled)."""
    if status in ("returned", "cancelled"):
        return ""
    if status == "delivered":
        if promised is not None and delivered_at is not None and delivered_at.date() > promised:
            return "late"
        return "at_risk" if flag else "on_time"
    if promised is not None and (today > promised or (eta is not None and eta > promised)):
        return "late"
    if status in TROUBLE or stopped in ("stale", "invalid") or flag:
        return "at_risk"
    if promised is not None and eta is None and promised <= today + dt.timedelta(days=1):
        return "at_risk"
    return "on_time"


__all__ = ["DEFAULT", "FINAL", "branches", "NOTICE_KINDS", "Next", "Policy", "RISKS", "TROUBLE", "next_poll", "policy_for",
           "risk", "save_policy", "skewed"]


def branches(session: Session) -> list[tuple[uuid.UUID, str, str]]:
    """The branches a policy is for (not head office): (id, code, name)."""
    return [(i, c, n) for i, c, n in session.execute(
        select(Branch.id, Branch.code, Branch.name).where(Branch.deleted_at.is_(None), Branch.is_head_office.is_(False))
        .order_by(Branch.code))]
