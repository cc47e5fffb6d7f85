"""Payments from a bank's CSV export: every line checked first, then all paid in one transaction.

The file is read by the importer's ``read_csv`` (Excel-saved files: Windows-1252, ';' with
decimal commas, a ``sep=`` line), so a bank export opened and saved in Excel still reads. A bad
line (unparseable, unknown customer, unknown invoice, more than is open) is named with its file
line and nothing is paid. Each line has a key (the bank's reference, else a hash of the line and
its occurrence), so a file imported twice pays once: the second run reports the lines it skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Payment
from app.services.auth import Actor
from app.services.billing.receivables import (
    PaymentPlan,
    PaymentResult,
    PaymentSpec,
    plan_payment,
    post_payment,
)
from app.services.errors import DomainError
from app.services.importer.fields import Field, ImportRejected, Problem, code, date, money, read_csv, text

FIELDS = [
    Field("date", date, True), Field("customer", code(20), True), Field("amount", money, True),
    Field("invoice", text(200)), Field("reference", text(80)), Field("method", code(12)),
]


class BankFileRejected(DomainError):
    """Bad lines in a bank file: the first named with its line; nothing was paid."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        super().__init__(f"{name}: {problems[0]}{more}; nothing paid")


@dataclass
class BankImport:
    name: str
    paid: list[PaymentResult] = field(default_factory=list)
    #: lines already paid by an earlier import of the same file (line, key)
    skipped: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.paid), Decimal(0))


def _key(values: dict[str, object], seen: dict[str, int]) -> str:
    ref = str(values.get("reference") or "").strip()
    if ref:
        return f"ref:{values['customer']}:{ref}"[:80]
    raw = "|".join(str(values.get(k, "")) for k in ("date", "customer", "amount", "invoice"))
    seen[raw] = seen.get(raw, 0) + 1
    return "line:" + hashlib.sha256(f"{raw}#{seen[raw]}".encode()).hexdigest()[:40]


def import_bank_csv(session: Session, actor: Actor, source: Path | str | TextIO | bytes, *,
                    today: dt.date | None = None, encoding: str | None = None,
                    delimiter: str | None = None) -> BankImport:
    """Apply a bank export's payments (``payment.apply``); a bad line refuses the whole file."""
    actor.require("payment.apply")
    today = today or dt.date.today()
    problems: list[Problem] = []
    try:
        read = read_csv(source, FIELDS, problems, encoding=encoding, delimiter=delimiter)
    except ImportRejected as e:  # the header or the file itself: same words, without the importer's hint
        raise BankFileRejected(e.source, e.problems) from None
    if problems:
        raise BankFileRejected(read.name, problems)
    out = BankImport(read.name, notes=list(read.notes))
    seen: dict[str, int] = {}
    keyed = [(row, _key(row.values, seen)) for row in read.rows]
    done = set(session.scalars(select(Payment.bank_key).where(Payment.bank_key.in_([k for _r, k in keyed]))))
    taken: dict[tuple[object, str], Decimal] = {}
    plans: list[PaymentPlan] = []
    for row, key in keyed:
        if key in done:
            out.skipped.append(row.line)
            continue
        v = row.values
        invoices = tuple(p for p in str(v.get("invoice") or "").replace(";", " ").replace("|", " ").split() if p)
        spec = PaymentSpec(customer=v["customer"], amount=v["amount"], received_on=v["date"], invoices=invoices,
                           method=(v.get("method") or "bank").lower(), reference=str(v.get("reference") or ""),
                           bank_key=key, note=f"{read.name} line {row.line}")
        try:
            plans.append(plan_payment(session, spec, today=today, taken=taken))  # type: ignore[arg-type]
        except DomainError as e:
            problems.append(Problem(row.line, str(e)))
    if problems:
        raise BankFileRejected(read.name, problems)
    for plan in plans:
        out.paid.append(post_payment(session, actor, plan))
    return out
