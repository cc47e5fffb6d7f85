"""The poll cycle in three steps, each a plain function (``depot track poll --once``, the window's
background poller and the tests call the same ones):

1. ``plan(session)``   read what is due, decide the leases, queue the notices owed (a short write);
2. ``fetch(work)``     ask one carrier account for its numbers: network only, no database lock
                       (the account's rate limiter paces it; batches are the carrier's size);
3. ``apply(session)``  store that account's answers (a short write per account).

``run_cycle`` strings them together: accounts are fetched in parallel (bounded), and each
account's answers are applied as soon as they arrive, so a cycle killed half way keeps what it
applied and the next one resumes from ``next_poll_at``. Nothing here raises for what a carrier
or the network did: every shipment gets an outcome and a next poll.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from app.models.carriers import CarrierAccount
from app.models.docs_common import AuditEntry
from app.models.parties import Carrier
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import TrackingCycle, derived_id
from app.models.types import utcnow
from app.services import audit, events, jobs, mail
from app.services.bulk import BulkInsert
from app.services.carriers import accounts
from app.services.carriers.accounts import AccountInfo
from app.services.carriers.adapters import Adapter
from app.services.carriers.adapters.base import batches
from app.services.carriers.model import Outcome, TrackReply, TrackResult
from app.services.changes import Change
from app.services.db import session_scope
from app.services.errors import DomainError
from app.services.exception_inbox import raise_exception
from app.services.masterdata import branch_code
from app.services.ownership import ownership
from app.services.settings import Settings
from app.services.tracking import lease, notices
from app.services.tracking.ingest import Batch, candidate_ids, emit_trouble, ingest, write_shipments
from app.services.tracking.policy import FINAL, next_poll, policy_for
from app.services.tracking.poll_report import AccountReport, CycleReport
from app.services.tracking.responses import SIBLINGS

log = logging.getLogger("depot.tracking")

#: a next poll further ahead than a day and a fifth was written by a clock running ahead
SKEW_LIMIT = dt.timedelta(hours=29)
DEFAULT_LIMIT = 10_000
FAULT_ENV = "DEPOT_TRACK_FAULT"
#: the e-mail a cycle delivers at most (MAIL_ROUNDS x MAIL_BATCH; the mail job sends the rest)
MAIL_BATCH = 50
MAIL_ROUNDS = 10


@dataclass
class Work:
    """One carrier account's share of a cycle."""

    account_id: uuid.UUID
    label: str
    info: AccountInfo
    carrier_code: str
    #: tracking number -> shipment id
    shipments: dict[str, uuid.UUID]

    @property
    def numbers(self) -> list[str]:
        return list(self.shipments)


@dataclass
class Plan:
    now: dt.datetime
    work: list[Work] = field(default_factory=list)
    leases: dict[str, str] = field(default_factory=dict)
    held: set[uuid.UUID] | None = None
    problems: list[str] = field(default_factory=list)
    notices: int = 0
    adopted: int = 0

    @property
    def shipments(self) -> int:
        return sum(len(w.shipments) for w in self.work)


@dataclass
class Fetched:
    work: Work
    reply: TrackReply
    requests: int
    wall_s: float
    #: requests of any kind sent (the token's too), and how many got an HTTP answer (none: the
    #: carrier could not be reached)
    attempts: int = 0
    answered: int = 0
    #: the carrier's clock: the latest Date its answers carried (None: not known)
    carrier_now: dt.datetime | None = None


# -- step 1: plan ------------------------------------------------------------------------------------


def _accounts(session: Session) -> dict[uuid.UUID, AccountInfo]:
    return {a.id: a for a in accounts.list_accounts(session, None, all_branches=True)}


def plan(session: Session, now: dt.datetime | None = None, *, limit: int = DEFAULT_LIMIT,
         shipments: Collection[uuid.UUID] | None = None, force: bool = False) -> Plan:
    """What this workstation polls now: due shipments of its branch (all branches on a standalone
    file) grouped by carrier account, for the accounts whose lease it holds. ``shipments`` with
    ``force``: exactly those, due or not ("poll now"). Renews leases and queues owed notices."""
    now = now or utcnow()
    out = Plan(now)
    own = ownership(session)
    infos = _accounts(session)
    mine = {a: i for a, i in infos.items() if i.active and (not own.enforced or _branch_of(session, a) == own.branch_id)}
    owner_of = {a: _branch_of(session, a) for a in mine}
    minutes = {a: policy_for(session, b).lease_minutes for a, b in owner_of.items()}
    states = lease.decide(session, owner_of, now, minutes)
    out.held = None if not own.enforced else {a for a, st in states.items() if st.polls}
    for a, st in states.items():
        out.leases[mine[a].label] = st.sentence(mine[a].label)
        if st.newly_held:
            out.adopted += notices.adopt(session, a, now)
            _poll_all_now(session, mine[a], owner_of[a], now)  # their schedule came from another clock
    q = select(Shipment.id, Shipment.tracking_number, Shipment.carrier_id, Shipment.owner_branch_id,
               Shipment.account_id).where(Shipment.deleted_at.is_(None), Shipment.tracking_number != "")
    if shipments is not None:
        q = q.where(Shipment.id.in_(list(shipments)))
    if not force:
        # never polled: due unless it ended before tracking knew it (a delivered history)
        q = q.where(Shipment.stopped == "", Shipment.status != "cancelled",
                    or_(and_(Shipment.next_poll_at.is_(None), Shipment.status.not_in(tuple(FINAL))),
                        Shipment.next_poll_at <= now, Shipment.next_poll_at > now + SKEW_LIMIT))
    if own.enforced:
        q = q.where(Shipment.owner_branch_id == own.branch_id)
    rows = session.execute(q.order_by(Shipment.next_poll_at).limit(limit)).all()
    codes = dict(session.execute(select(Carrier.id, Carrier.code)).all())
    by_account: dict[uuid.UUID, Work] = {}
    no_account: dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]] = {}
    for sid, number, carrier_id, branch_id, account_id in rows:
        acct = lease.account_for(session, branch_id, carrier_id, account_id)
        if acct is None or acct not in mine:
            no_account.setdefault((branch_id, carrier_id), []).append(sid)
            continue
        if not states[acct].polls:
            continue  # another workstation polls this account's shipments
        work = by_account.get(acct)
        if work is None:
            info = mine[acct]
            work = by_account[acct] = Work(acct, info.label, info, codes.get(carrier_id, info.carrier_code), {})
        work.shipments[number.strip()] = sid
    for (branch_id, carrier_id), ids in no_account.items():
        text = (f"{branch_code(session, branch_id)} has no active {codes.get(carrier_id, 'carrier')} account: "
                f"{len(ids)} shipment{'s' if len(ids) != 1 else ''} not polled (Settings > Carriers)")
        out.problems.append(text)
        session.execute(update(Shipment).where(Shipment.id.in_(ids)).values(  # the schedule only: no new version
            poll_outcome="no_account", poll_message=text[:300], polled_at=now, updated_at=Shipment.updated_at,
            next_poll_at=now + dt.timedelta(minutes=policy_for(session, branch_id).unknown_minutes)))
    out.work = sorted(by_account.values(), key=lambda w: w.label)
    released = notices.release(session, now, out.held)
    out.notices = released.queued
    session.flush()
    return out


def _branch_of(session: Session, account_id: uuid.UUID) -> uuid.UUID:
    cache: dict[uuid.UUID, uuid.UUID] = session.info.setdefault("tracking_account_branch", {})
    if account_id not in cache:
        branch = session.scalar(select(CarrierAccount.owner_branch_id).where(CarrierAccount.id == account_id))
        if branch is None:
            raise LookupError(f"carrier account {account_id} is gone")
        cache[account_id] = branch
    return cache[account_id]


def _poll_all_now(session: Session, info: AccountInfo, branch_id: uuid.UUID, now: dt.datetime) -> None:
    carrier_id = session.scalar(select(CarrierAccount.carrier_id).where(CarrierAccount.id == info.id))
    session.execute(update(Shipment).where(
        Shipment.owner_branch_id == branch_id, Shipment.carrier_id == carrier_id, Shipment.stopped == "",
        Shipment.deleted_at.is_(None), Shipment.next_poll_at > now).values(
            next_poll_at=now, updated_at=Shipment.updated_at))  # the schedule only: no new version, not sent


# -- step 2: fetch ------------------------------------------------------------------------------------


def fetch(work: Work, settings: Settings, engine: Engine | None = None, *, max_wait: float = 30.0) -> Fetched:
    """Ask the carrier for every number of ``work`` (network only). Never raises: an adapter
    failure becomes a ``transient`` reply for the numbers it did not answer."""
    t0 = time.perf_counter()
    _fault("fetch")
    try:
        adapter = accounts.adapter_for(work.info, settings, engine, max_wait=max_wait)
    except Exception as e:  # noqa: BLE001 - a broken account (bad options) fails its own work only
        reply = TrackReply(Outcome.PERMANENT, f"cannot use the account: {e}")
        return Fetched(work, reply, 0, time.perf_counter() - t0)
    try:
        reply = track(adapter, work.numbers)
    except Exception as e:  # noqa: BLE001 - an adapter bug must not stop the cycle: retried later
        log.exception("tracking %s", work.label)
        reply = TrackReply(Outcome.TRANSIENT, f"{type(e).__name__}: {e}")
    return Fetched(work, reply, adapter.calls, time.perf_counter() - t0, adapter.calls + adapter.token_calls,
                   adapter.answered, adapter.carrier_now)


#: the poll job's name (jobs that end every cycle name it in ``Job.follows``)
POLL_NAME = "tracking.poll"
#: this many failed requests in a row: the carrier is down, the rest of the pass waits
STOP_AFTER = 3


def track(adapter: Adapter, numbers: list[str]) -> TrackReply:
    """Every number in the carrier's batch size, like ``Adapter.track``, except that one failed
    request (a reset, a garbled body) costs only its own numbers a retry: the pass goes on, and
    stops for a rate limit or refused credentials (nobody may call) or after ``STOP_AFTER``
    failures in a row. The reply's outcome is the one that stopped it, or the last failure when no
    request was answered (a carrier that cannot be reached at all, in one or two requests), else ok."""
    results: list[TrackResult] = []
    todo: list[str] = []
    for n in numbers:
        why = adapter.refuses(n)
        if why:
            results.append(TrackResult(n, Outcome.PERMANENT, message=why))
        else:
            todo.append(n)
    stop: TrackReply | None = None
    last: TrackReply | None = None
    failures = 0
    answered = False
    for chunk in batches(todo, adapter.batch_size):
        if stop is not None:
            results.extend(TrackResult(n, stop.outcome, message=stop.message) for n in chunk)
            continue
        reply = adapter.track_batch(chunk)
        if reply.shipments:
            results.extend(reply.shipments)
            answered = True
            failures = 0
            continue
        if reply.outcome is Outcome.OK:
            continue
        results.extend(TrackResult(n, reply.outcome, message=reply.message) for n in chunk)
        last = reply
        failures += 1
        if reply.outcome in (Outcome.RATE_LIMITED, Outcome.AUTH_FAILED) or failures >= STOP_AFTER:
            stop = reply
    if stop is not None:
        return TrackReply(stop.outcome, stop.message, stop.retry_after, stop.http_status, results)
    if last is not None and not answered:  # every request failed (fewer than STOP_AFTER): the pass failed, say why
        return TrackReply(last.outcome, last.message, last.retry_after, last.http_status, results)
    return TrackReply(Outcome.OK, last.message if last else "", last.retry_after if last else None, 200, results)


# -- step 3: apply ------------------------------------------------------------------------------------


#: shipments one apply transaction stores (a big account's answers are stored in several, so the
#: write lock is never held for long: users' writes and the rate limiter's state go in between)
APPLY_CHUNK = 500


def apply(session: Session, plan_: Plan, fetched: Fetched, now: dt.datetime | None = None, *,
          only: list[str] | None = None, last: bool = True) -> AccountReport:
    """Store one account's answers: events, derived status, next polls, follow-ups, notices.
    ``only``: just these numbers of the work (one chunk); ``last``: the account's last chunk (the
    account-level outcome, unknown numbers and the notices owed are handled there)."""
    now = now or utcnow()
    work, reply = fetched.work, fetched.reply
    numbers = only if only is not None else list(work.shipments)
    rep = AccountReport(work.label, shipments=len(numbers), requests=fetched.requests if last else 0)
    ids = [work.shipments[n] for n in numbers]
    ships, siblings = _shipments(session, ids)
    orders = list({s.sales_order_id for s in ships.values() if s.sales_order_id is not None})
    # the follow-ups read the orders: held here (the identity map keeps rows only while referred to),
    # loaded before the first shipment that changes (``Batch.follow_ups``): an answer with nothing new loads none
    held: list[Any] = []

    def hold_orders() -> None:
        for n in range(0, len(orders), 500):
            held.extend(session.scalars(select(SalesOrder).where(SalesOrder.id.in_(orders[n:n + 500]))))
    session.info[SIBLINGS] = siblings
    wanted = set(numbers)
    results: dict[str, TrackResult] = {}
    for r in reply.shipments:
        number = (r.tracking_number or "").strip()
        if number in wanted:
            results.setdefault(number, r)
        elif number not in work.shipments and last:
            rep.unknown_numbers += 1
            log.info("%s answered for %r, which no shipment polled here carries", work.label, r.tracking_number)
    batch = Batch(session, now, fetched.carrier_now)
    batch.before_follow_ups = hold_orders
    batch.prefetch(i for r in results.values() if r.outcome is Outcome.OK
                   for i in candidate_ids(batch, work.carrier_code, r))
    # one flush at the end, not one before every read a handler makes: handlers read the rows they
    # need through the identity map, which holds this batch's changes (exceptions flush themselves);
    # the status changes' audit entries written together at the end (``audit.batched``)
    with session.no_autoflush, audit.batched(session, BulkInsert(session, AuditEntry, audit.COLUMNS).write):
        for number in numbers:
            sid = work.shipments[number]
            shipment = ships.get(sid)
            if shipment is None:
                continue
            r = results.get(number) or TrackResult(number, reply.outcome if not reply.ok else Outcome.TRANSIENT,
                                                   message=reply.message or "no answer for this number")
            policy = policy_for(session, shipment.owner_branch_id)
            rep.outcomes[str(r.outcome)] += 1
            ahead = ""
            if r.outcome is Outcome.OK:
                change = ingest(session, batch, shipment, work.carrier_code, r, policy)
                rep.new_events += change.new_events
                rep.status_changes += int(change.changed)
                failures = 0
                ahead = change.future_sentence(change.clock or now)
                if ahead:
                    rep.future_events += len(change.future)
                    rep.notes.append(f"{shipment.number}: {ahead}")
            elif r.outcome is Outcome.NOT_FOUND:
                failures = 0
            elif r.outcome in (Outcome.TRANSIENT, Outcome.MALFORMED):
                failures = shipment.poll_failures + 1
            else:
                failures = shipment.poll_failures
            shipment.polled_at = now
            shipment.poll_outcome = str(r.outcome)
            shipment.poll_failures = failures
            shipment.poll_message = (ahead or r.message or (reply.message if r.outcome is not Outcome.OK else ""))[:300]
            nxt = next_poll(policy, status=shipment.status, outcome=str(r.outcome), failures=failures, now=now,
                            moved_at=shipment.moved_at or shipment.shipped_at or shipment.created_at,
                            has_pod=bool(shipment.pod_signed_by or shipment.pod_at),
                            retry_after=reply.retry_after, key=str(shipment.id))
            shipment.next_poll_at = nxt.at
            if nxt.stopped != shipment.stopped:
                batch.follow_ups()
                was = shipment.stopped
                shipment.stopped = nxt.stopped
                if nxt.stopped == "stale" and not was:
                    days = policy.stale_days
                    emit_trouble(session, shipment, "stale", f"no new event for {days} day{'s' if days != 1 else ''}")
                elif nxt.stopped == "invalid" and not was:
                    emit_trouble(session, shipment, "invalid", r.message or "the carrier refuses the number")
        write_shipments(session, ships.values())  # stored form, one executemany, not the flush's UPDATE a row
    batch.flush()
    session.info.pop(SIBLINGS, None)
    if not last:
        session.flush()
        return rep
    if reply.outcome is Outcome.AUTH_FAILED:
        rep.message = f"the carrier refused the credentials ({reply.message}); check Settings > Carriers"
        _account_case(session, work, rep.message, now)
    elif fetched.attempts and not fetched.answered and not reply.ok:
        rep.unreachable = True
        rep.attempts = fetched.attempts
        rep.message = (f"could not be reached: {fetched.attempts} request{'s' if fetched.attempts != 1 else ''} "
                       f"sent, none answered ({reply.message})")
    elif not reply.ok:
        rep.message = f"{reply.outcome}: {reply.message}"
    released = notices.release(session, now, plan_.held)
    rep.notices = released.queued
    rep.notes.extend(released.skipped)
    session.flush()
    return rep


def _shipments(session: Session, ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, Shipment], dict[uuid.UUID, Any]]:
    """The polled shipments (id -> ORM row) and all their orders' shipments (order id -> rows, the
    follow-ups' ``SIBLINGS``) in one query per 500: a polled shipment is read once, not twice."""
    wanted = set(ids)
    ships: dict[uuid.UUID, Shipment] = {}
    siblings: dict[uuid.UUID, dict[uuid.UUID, Shipment]] = {}
    for n in range(0, len(ids), 500):
        chunk = ids[n:n + 500]
        theirs = select(Shipment.sales_order_id).where(Shipment.id.in_(chunk), Shipment.sales_order_id.is_not(None))
        for sh in session.scalars(select(Shipment).where(or_(
                Shipment.id.in_(chunk), and_(Shipment.sales_order_id.in_(theirs), Shipment.deleted_at.is_(None))))):
            if sh.id in wanted:
                ships[sh.id] = sh
            if sh.sales_order_id is not None and sh.deleted_at is None:
                siblings.setdefault(sh.sales_order_id, {})[sh.id] = sh
    return ships, {order: list(rows.values()) for order, rows in siblings.items()}


def _account_case(session: Session, work: Work, message: str, now: dt.datetime) -> None:
    owner = _branch_of(session, work.account_id)
    key = f"tracking.account:{work.account_id.hex}"
    raise_exception(session, None, kind="tracking.account", role="admin", severity="error", owner_branch_id=owner,
                    title=f"{work.label}: tracking stopped, the carrier refuses the credentials",
                    detail=f"{message}\nSuggested action: enter the client secret again in Settings > Carriers and "
                           "press Test connection.",
                    entity="carrier_account", entity_id=work.account_id, entity_ref=work.label, key=key,
                    item_id=derived_id("exception", key, now.date()))


# -- the whole cycle ----------------------------------------------------------------------------------


def _fault(point: str, count: int = 0) -> None:
    """Crash tests: DEPOT_TRACK_FAULT=fetch (killed while the carriers answer) or apply:N (killed
    right after the N-th account's answers were committed)."""
    want = os.environ.get(FAULT_ENV, "")
    if want and (want == point or want == f"{point}:{count}"):
        os.kill(os.getpid(), signal.SIGKILL)


def run_cycle(engine: Engine, settings: Settings, *, clock: Callable[[], dt.datetime] = utcnow,
              limit: int = DEFAULT_LIMIT, shipments: Collection[uuid.UUID] | None = None, force: bool = False,
              max_workers: int = 4, smtp: mail.SmtpConfig | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> CycleReport:
    """plan -> fetch (in parallel, one thread per account, at most ``max_workers``) -> apply each
    account as it answers; then deliver due mail when ``smtp`` is given. Records the cycle."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    started = clock()
    with session_scope(engine) as s:
        p = plan(s, started, limit=limit, shipments=shipments, force=force)
    report = CycleReport(started, problems=list(p.problems), leases=dict(p.leases), notices=p.notices)
    if p.adopted:
        report.notes.append(f"took over {p.adopted} notices from the previous workstation")
    total = len(p.work)
    if progress:
        progress(0, total, f"asking {total} carrier account{'s' if total != 1 else ''} about {p.shipments} shipments")
    if p.work:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, total)), thread_name_prefix="tracking") as pool:
            futures = [pool.submit(fetch, w, settings, engine) for w in p.work]
            for done, fut in enumerate(as_completed(futures), 1):
                fetched = fut.result()
                numbers = fetched.work.numbers
                parts = [numbers[i:i + APPLY_CHUNK] for i in range(0, len(numbers), APPLY_CHUNK)] or [[]]
                total_rep = AccountReport(fetched.work.label)
                for k, part in enumerate(parts, 1):
                    with session_scope(engine) as s:
                        total_rep.merge(apply(s, p, fetched, clock(), only=part, last=k == len(parts)))
                report.add(total_rep)
                _fault("apply", done)
                if progress:
                    progress(done, total, f"{fetched.work.label}: {len(fetched.work.shipments)} shipments")
    _follow_ups(engine, settings, report)
    if smtp is not None:  # the notices just queued, and any an earlier cycle could not deliver
        for _ in range(MAIL_ROUNDS):  # SMTP with no transaction open (mail.deliver_due)
            sent = mail.deliver_due(engine, smtp, limit=MAIL_BATCH)
            report.mail_sent += sent.sent
            if sent.sent + sent.retry + sent.failed < MAIL_BATCH:
                break
    report.wall_s, report.cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    with session_scope(engine) as s:
        s.add(TrackingCycle(started_at=started, wall_s=report.wall_s, cpu_s=report.cpu_s, shipments=report.shipments,
                            requests=report.requests, new_events=report.new_events, changed=report.status_changes,
                            notices=report.notices, outcomes=json.dumps(dict(report.outcomes)),
                            problems="\n".join(report.problems)))
    return report


def _follow_ups(engine: Engine, settings: Settings, report: CycleReport) -> None:
    """The jobs that end every cycle (``Job.follows``): Billing settles the invoices the cycle's
    deliveries queued, so a delivery is a released invoice within the cycle that saw it. Their
    failure is the cycle's problem to report, not a reason to lose what it applied."""
    events.require_loaded("the jobs that follow a poll cycle")
    for job in jobs.following(POLL_NAME):
        try:
            done = job.run(engine, settings)
        except Exception as e:  # noqa: BLE001 - the job runs again on its own timer
            log.exception("%s after the poll cycle", job.name)
            report.problems.append(f"{job.label or job.name}: {type(e).__name__}: {e}")
            continue
        if done is not None and getattr(done, "changed", False):
            line = done.line() if hasattr(done, "line") else ""
            report.notes.append(f"{job.label or job.name}: {line}")


def poll_job(engine: Engine, settings: Any, *, shipments: Collection[uuid.UUID] | None = None) -> CycleReport:
    """One cycle as the window and ``depot track poll`` run it: the due shipments (or these, due or
    not), and the due mail delivered when an SMTP server is set up."""
    try:
        smtp: mail.SmtpConfig | None = mail.config_from_settings(settings)
    except DomainError:
        smtp = None  # no mail server yet: notices wait in the outbox
    return run_cycle(engine, settings, shipments=shipments, force=shipments is not None, smtp=smtp)


#: the window's carrier poller: every minute, the shipments that are due (app.services.jobs)
POLL = jobs.register(jobs.Job(
    POLL_NAME, lambda engine, settings: poll_job(engine, settings), interval_s=60, first_s=5,
    kinds=(Change.SHIPMENT, Change.TRACKING, Change.EXCEPTION, Change.ORDER, Change.MAIL), label="poll carriers"))
