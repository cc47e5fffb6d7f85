"""Reading a legacy CSV: header checks, typed field parsers, and per-row problems.

Every parser raises ``ValueError`` with a message naming the rule; the importer turns
it into a ``Problem`` with the file line and column, so a user can fix the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from app.models.types import QTY_MAX, DomainValueError, to_money, to_qty
from app.services.errors import DomainError
from app.services.importer import csvfile

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

    def __init__(self, source: str, problems: list[Problem], *, header: bool = False,
                 notes: list[str] | None = None) -> None:
        self.source = source
        self.problems = problems
        self.header = header
        #: how the file was read ("read as Windows-1252 ..."), worth saying beside the bad rows
        self.notes = notes or []
        first = problems[0] if problems else Problem(1, "no rows")
        more = f" (and {len(problems) - 1} more bad rows)" if len(problems) > 1 else ""
        hint = "" if header else "; nothing imported (use --skip-bad to import the good rows)"
        super().__init__(f"{source}: {first}{more}{hint}")


@dataclass(frozen=True)
class Field:
    name: str
    parse: Parser
    required: bool = False


#: C0 and C1 control characters (a regular expression scans a cell in C: millions of cells a file)
_CONTROLS = {"": re.compile("[\x00-\x1f\x7f-\x9f]"), "\n\t": re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")}


def _control(v: str, allowed: str = "") -> None:
    pattern = _CONTROLS.get(allowed)
    if pattern is not None:
        found = pattern.search(v)
        bad = found.group() if found else None
    else:
        bad = next((c for c in v if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) and c not in allowed), None)
    if bad is not None:
        raise ValueError(f"holds a control character (U+{ord(bad):04X}): is the file damaged?")


def text(max_len: int) -> Parser:
    def p(v: str) -> str:
        if len(v) > max_len:
            raise ValueError(f"is longer than {max_len} characters")
        _control(v, "\n\t")  # a cell Excel wrapped with Alt+Enter keeps its line break
        return v
    return p


def code(max_len: int) -> Parser:
    def p(v: str) -> str:
        v = v.upper()
        if len(v) > max_len:
            shown = v if len(v) <= 60 else v[:57] + "..."
            raise ValueError(f"{shown!r} is longer than {max_len} characters")
        _control(v)
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


def signed_money(v: str) -> Decimal:
    """Money that may be negative (an open credit among a customer's open items)."""
    try:
        return to_money(v, "")
    except DomainValueError as e:
        raise ValueError(str(e).split(": ", 1)[-1]) from None


def qty(v: str) -> int:
    """A whole, positive quantity in base units."""
    if v.isdigit() and len(v) < 13 and v.isascii():  # the common case, without Decimal
        q = int(v)
        if q > 0 and q <= QTY_MAX:
            return q
    try:
        return to_qty(v, "")
    except DomainValueError as e:
        raise ValueError(str(e).split(": ", 1)[-1]) from None


def whole(v: str) -> int:
    """A whole number that may be zero (days, dimensions, grams)."""
    if v.isdigit() and len(v) < 13 and v.isascii():
        q = int(v)
        if q <= QTY_MAX:
            return q
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
    if re.fullmatch(r"\d+([.,]\d+)?[eE]\+\d+", v):
        raise ValueError(f"{v!r} is a number in scientific notation, as Excel shows long numbers: format the "
                         f"column as Text in Excel and save again")
    if not v.isascii() or not v.isdigit() or len(v) not in (8, 12, 13, 14):
        raise ValueError(f"{v[:40]!r} is not a GTIN (8, 12, 13 or 14 digits)")
    digits = v.zfill(14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:13]))
    if (10 - total % 10) % 10 != int(digits[13]):
        raise ValueError(f"{v!r} has a wrong check digit")
    return digits


@dataclass
class Row:
    line: int
    values: dict[str, Any]


def open_source(source: Path | str | TextIO, encoding: str | None = None) -> tuple[str, TextIO]:
    """(name, text stream) of a CSV source, its encoding detected (``csvfile.decode``)."""
    src = csvfile.load(source, encoding)
    return src.name, io.StringIO(src.text, newline="")


@dataclass
class CsvRead:
    """What ``read_csv`` found: the good rows, and how the file was read (said in the report)."""

    name: str
    rows: list[Row]
    encoding: str
    delimiter: str
    notes: list[str]


@dataclass
class CsvStream:
    """``iter_csv``'s answer: like ``CsvRead``, with the rows still to be read (a big file)."""

    name: str
    stream: Iterator[Row]
    encoding: str
    delimiter: str
    notes: list[str]


def iter_csv(source: Path | str | TextIO | bytes, fields: list[Field], problems: list[Problem], *,
             encoding: str | None = None, delimiter: str | None = None) -> CsvStream:
    """``read_csv`` for files too big to hold as parsed rows: the header is checked now, the rows
    are parsed as the caller iterates (sales history streams through the importer chunk by chunk)."""
    src = csvfile.load(source, encoding)
    sep = csvfile.delimiter_option(delimiter)
    notes = list(src.notes)
    skip = False
    if sep is None:
        sep, skip = csvfile.detect_delimiter(src.text, [f.name for f in fields] + list(SYSTEM_COLUMNS))
        if sep != "," or skip:
            notes.append(f"columns separated by {csvfile.delimiter_name(sep)}"
                         + (" (the file's sep= line)" if skip else ""))
    stream = csvfile.rows_text(src.text, skip)
    rows = read_rows(src.name, stream, fields, problems, delimiter=sep)
    first = next(rows, None)  # reads and checks the header (an ImportRejected comes now, not mid-import)
    return CsvStream(src.name, itertools.chain([first] if first is not None else [], rows), src.encoding, sep, notes)


def read_csv(source: Path | str | TextIO | bytes, fields: list[Field], problems: list[Problem], *,
             encoding: str | None = None, delimiter: str | None = None) -> CsvRead:
    """The one way an importer reads its file: encoding and separator detected (or as named),
    header checked, every row parsed; bad rows go to ``problems``. Whatever the bytes, this
    returns or raises a ``DomainError``: a file that cannot be read at all imports nothing."""
    read = iter_csv(source, fields, problems, encoding=encoding, delimiter=delimiter)
    return CsvRead(read.name, list(read.stream), read.encoding, read.delimiter, read.notes)


def _printable(text: str) -> str:
    """A name as a one-line message can show it (a stray quote can pull a line break into a header cell)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _decimal_comma(cell: str) -> str:
    """``12,50`` -> ``12.50``: Excel writes a decimal comma where it separates columns with ``;``."""
    return cell.replace(",", ".") if re.fullmatch(r"[+-]?\d*,\d+", cell) else cell


def read_rows(name: str, stream: TextIO, fields: list[Field], problems: list[Problem], *,
              delimiter: str = ",") -> Iterator[Row]:
    """Check the header, then parse each non-empty row; bad rows go to ``problems``.

    A stream that stops being CSV (an unclosed quote running into a huge field, a NUL byte)
    refuses the whole file: the rows after it cannot be read, so none are imported."""
    # Excel-saved files hold long notes; the stdlib limit (128 KB) stays, a longer cell is refused
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header: list[str] = []
        while not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise ImportRejected(name, [Problem(1, "the file is empty (a header row is required)")], header=True) from None
    except csv.Error as e:
        raise ImportRejected(name, [Problem(reader.line_num or 1, f"not a CSV file ({e})")], header=True) from None
    header_line = reader.line_num
    cols = [h.strip().lower().lstrip("\ufeff") for h in header]
    while cols and not cols[-1]:  # Excel keeps separators of columns that once held something
        cols.pop()
    by_name = {f.name: f for f in fields}
    missing = [f.name for f in fields if f.required and f.name not in cols]
    unknown = [c for c in cols if c not in by_name and c not in SYSTEM_COLUMNS]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    bad = []
    if missing:
        bad.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        shown = [_printable(c if len(c) <= 40 else c[:37] + "...") for c in unknown[:8]]
        bad.append(f"unknown column(s) {', '.join(shown)}{' ...' if len(unknown) > 8 else ''} "
                   f"(known: {', '.join(by_name)})")
    if dupes:
        bad.append(f"column(s) {', '.join(_printable(d) for d in dupes)} appear more than once")
    if bad:
        if len(cols) == 1 and len(fields) > 1:
            bad.append(f"the header has one column when split at {csvfile.delimiter_name(delimiter)}s: "
                       f"if the file uses another separator, name it with --delimiter")
        raise ImportRejected(name, [Problem(header_line, "header: " + "; ".join(bad))], header=True)
    numeric = {f.name for f in fields if f.parse in (money, decimal4, signed_money)} if delimiter == ";" else set()
    parsers = [by_name.get(c) for c in cols]  # per column, looked up once (millions of cells)
    width = len(cols)
    try:
        for raw in reader:
            line = reader.line_num
            if not "".join(raw).strip():
                continue
            if len(raw) > width and not "".join(raw[width:]).strip():
                raw = raw[:width]
            if len(raw) != width:
                problems.append(Problem(line, f"has {len(raw)} fields, the header has {width}"))
                continue
            values: dict[str, Any] = {}
            errors = []
            for col, f, cell in zip(cols, parsers, raw, strict=True):
                if f is None:
                    continue
                cell = cell.strip()
                if not cell:
                    if f.required:
                        errors.append(f"{col}: is required")
                    continue
                if col in numeric:
                    cell = _decimal_comma(cell)
                try:
                    values[col] = f.parse(cell)
                except ValueError as e:
                    errors.append(f"{col}: {e}")
            if errors:
                problems.append(Problem(line, "; ".join(errors), {c: v.strip() for c, v in zip(cols, raw, strict=True)}))
                continue
            yield Row(line, values)
    except csv.Error as e:
        raise ImportRejected(name, [Problem(reader.line_num, f"not valid CSV from here on ({e}); nothing imported")],
                             header=True) from None
