"""Reading a legacy CSV: header checks, typed field parsers, and per-row problems.

Every parser raises ``ValueError`` with a message naming the rule; the importer turns
it into a ``Problem`` with the file line and column, so a user can fix the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from app.models.types import DomainValueError, to_money, to_qty
from app.services.errors import DomainError

Parser = Callable[[str], Any]

#: columns an export writes that an import may meet and ignores (the database sets them)
SYSTEM_COLUMNS = frozenset({"id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "deleted_at"})


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str
    #: the row's cells as read (so a kind can tell which document a bad row belonged to)
    raw: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(DomainError):
    """The file has bad rows (or a bad header); nothing was imported."""

    def __init__(self, source: str, problems: list[Problem], *, header: bool = False) -> None:
        self.source = source
        self.problems = problems
        self.header = header
        first = problems[0] if problems else Problem(1, "no rows")
        more = f" (and {len(problems) - 1} more bad rows)" if len(problems) > 1 else ""
        hint = "" if header else "; nothing imported (use --skip-bad to import the good rows)"
        super().__init__(f"{source}: {first}{more}{hint}")


@dataclass(frozen=True)
class Field:
    name: str
    parse: Parser
    required: bool = False


def text(max_len: int) -> Parser:
    def p(v: str) -> str:
        if len(v) > max_len:
            raise ValueError(f"is longer than {max_len} characters")
        return v
    return p


def code(max_len: int) -> Parser:
    def p(v: str) -> str:
        v = v.upper()
        if len(v) > max_len:
            raise ValueError(f"{v!r} is longer than {max_len} characters")
        return v
    return p


def money(v: str) -> Decimal:
    try:
        d = to_money(v, "")
    except DomainValueError as e:
        raise ValueError(str(e).split(": ", 1)[-1]) from None
    if d < 0:
        raise ValueError(f"{v} is negative")
    return d


def qty(v: str) -> int:
    """A whole, positive quantity in base units."""
    try:
        return to_qty(v, "")
    except DomainValueError as e:
        raise ValueError(str(e).split(": ", 1)[-1]) from None


def whole(v: str) -> int:
    """A whole number that may be zero (days, dimensions, grams)."""
    try:
        return to_qty(v, "", allow_zero=True)
    except DomainValueError as e:
        raise ValueError(str(e).split(": ", 1)[-1]) from None


def decimal4(v: str) -> Decimal:
    return money(v)


_TRUE = {"1", "true", "yes", "y", "t", "x"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def boolean(v: str) -> bool:
    low = v.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{v!r} is not yes/no (use true/false, yes/no or 1/0)")


def date(v: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a date (use YYYY-MM-DD)") from None


def choice(*options: str) -> Parser:
    def p(v: str) -> str:
        low = v.lower()
        if low not in options:
            raise ValueError(f"{v!r} is not one of {', '.join(options)}")
        return low
    return p


def gtin(v: str) -> str:
    if not v.isdigit() or len(v) not in (8, 12, 13, 14):
        raise ValueError(f"{v!r} is not a GTIN (8, 12, 13 or 14 digits)")
    digits = v.zfill(14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:13]))
    if (10 - total % 10) % 10 != int(digits[13]):
        raise ValueError(f"{v!r} has a wrong check digit")
    return digits


@dataclass
class Row:
    line: int
    values: dict[str, Any]


def open_source(source: Path | str | TextIO) -> tuple[str, TextIO]:
    if isinstance(source, Path | str):
        p = Path(source)
        if not p.is_file():
            raise DomainError(f"{p}: no such file")
        return str(p), io.StringIO(p.read_text(encoding="utf-8-sig"))
    return getattr(source, "name", "<input>"), source


def read_rows(name: str, stream: TextIO, fields: list[Field], problems: list[Problem]) -> Iterator[Row]:
    """Check the header, then parse each non-empty row; bad rows go to ``problems``."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(name, [Problem(1, "the file is empty (a header row is required)")], header=True) from None
    except csv.Error as e:
        raise ImportRejected(name, [Problem(1, f"not a CSV file ({e})")], header=True) from None
    cols = [h.strip().lower().lstrip("\ufeff") for h in header]
    by_name = {f.name: f for f in fields}
    missing = [f.name for f in fields if f.required and f.name not in cols]
    unknown = [c for c in cols if c not in by_name and c not in SYSTEM_COLUMNS]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    bad = []
    if missing:
        bad.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        bad.append(f"unknown column(s) {', '.join(unknown)} (known: {', '.join(by_name)})")
    if dupes:
        bad.append(f"column(s) {', '.join(dupes)} appear more than once")
    if bad:
        raise ImportRejected(name, [Problem(1, "header: " + "; ".join(bad))], header=True)
    try:
        for raw in reader:
            line = reader.line_num
            if not any(c.strip() for c in raw):
                continue
            if len(raw) != len(cols):
                problems.append(Problem(line, f"has {len(raw)} fields, the header has {len(cols)}"))
                continue
            values: dict[str, Any] = {}
            errors = []
            for col, cell in zip(cols, raw, strict=True):
                f = by_name.get(col)
                if f is None:
                    continue
                cell = cell.strip()
                if not cell:
                    if f.required:
                        errors.append(f"{col}: is required")
                    continue
                try:
                    values[col] = f.parse(cell)
                except ValueError as e:
                    errors.append(f"{col}: {e}")
            if errors:
                problems.append(Problem(line, "; ".join(errors), {c: v.strip() for c, v in zip(cols, raw, strict=True)}))
                continue
            yield Row(line, values)
    except csv.Error as e:
        problems.append(Problem(reader.line_num, f"not valid CSV ({e})"))
