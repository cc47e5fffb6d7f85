"""A CSV file as people really save it: the one place every importer reads its file.

Excel writes what the machine's locale says: UTF-8 with a byte-order mark ("CSV UTF-8"),
Windows-1252 ("CSV (comma delimited)" on a western Windows), UTF-16 with tabs ("Unicode
text"), and a semicolon instead of a comma (with a decimal comma) where the comma is the
decimal mark. So the encoding and the separator are detected here, said in the import's
report when they are not plain UTF-8 and commas, and can be named by the user
(``--encoding``, ``--delimiter``) when detection guesses wrong:

* encoding: a byte-order mark (UTF-8, UTF-16) decides; else UTF-8 if the bytes are valid
  UTF-8; else Windows-1252. Bytes that are neither are refused with their line. A workbook
  (.xlsx/.xls) or a file with NUL bytes is refused with what it is.
* separator: a ``sep=;`` first line (Excel's own hint) decides; else the candidate (comma,
  semicolon, tab) whose split of the header names the most known columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.services.errors import DomainError, ValidationError

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_WORKBOOKS = {b"PK\x03\x04": "an Excel workbook (.xlsx)", b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)"}
_SAVE_AS = "in Excel use File > Save As > CSV UTF-8"


class CsvFileError(DomainError):
    """The file cannot be read as CSV text at all (nothing is imported)."""


@dataclass
class CsvText:
    """The decoded text of a CSV file and how it was read."""

    name: str
    text: str
    encoding: str  # 'utf-8', 'utf-8-sig', 'utf-16', 'windows-1252' or the user's name for it
    notes: list[str] = field(default_factory=list)


def delimiter_option(value: str | None) -> str | None:
    """`--delimiter` as users type it: ``;``, ``tab``, ``\\t``, ``semicolon`` ..."""
    if value is None or value == "":
        return None
    d = _DELIMITER_NAMES.get(value.lower(), value)
    if len(d) != 1 or d in "\r\n\"" or d.isalnum():
        raise ValidationError("delimiter", f"{value!r} is not a separator (use , ; tab or |)")
    return d


def delimiter_name(d: str) -> str:
    return _NAMES.get(d, repr(d))


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode(data: bytes, name: str, encoding: str | None = None) -> CsvText:
    """Bytes of a CSV file to text; see the module docstring for the rules."""
    for magic, what in _WORKBOOKS.items():
        if data.startswith(magic):
            raise CsvFileError(f"{name}: this is {what}, not a CSV file; {_SAVE_AS}")
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ValidationError("encoding", f"unknown encoding {encoding!r} (e.g. utf-8, windows-1252, utf-16)") from None
        if codec == "utf-8":
            codec = "utf-8-sig"  # a byte-order mark is never part of the first column's name
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as e:
            raise CsvFileError(f"{name}: line {_line_of(data, e.start)}: byte 0x{data[e.start]:02X} is not valid "
                               f"{encoding}") from None
        return CsvText(name, text, encoding, [f"read as {encoding} (as asked)"])
    if data.startswith(codecs.BOM_UTF8):
        return CsvText(name, _strict(data[3:], "utf-8", name), "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        le = data.startswith(codecs.BOM_UTF16_LE)
        return CsvText(name, _strict(data[2:], "utf-16-le" if le else "utf-16-be", name), "utf-16",
                       ["read as UTF-16 (Excel's \"Unicode text\")"])
    if b"\x00" in data:
        head = data[:200]
        if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
            return CsvText(name, _strict(data, "utf-16-le", name), "utf-16-le", ["read as UTF-16 (no byte-order mark)"])
        line = _line_of(data, data.index(0))
        raise CsvFileError(f"{name}: line {line}: the file holds NUL bytes, so it is not a text file; {_SAVE_AS}")
    try:
        return CsvText(name, data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as e:
        raise CsvFileError(f"{name}: line {_line_of(data, e.start)}: byte 0x{data[e.start]:02X} is neither UTF-8 nor "
                           f"Windows-1252; {_SAVE_AS}, or name the encoding with --encoding") from None
    return CsvText(name, text, "windows-1252", ["read as Windows-1252 (the file is not UTF-8)"])


def _strict(data: bytes, codec: str, name: str) -> str:
    """Decode a file whose byte-order mark (already removed) named its encoding."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        line = data[:e.start].decode(codec, errors="replace").count("\n") + 1
        label = codec.upper().removesuffix("-LE").removesuffix("-BE")
        raise CsvFileError(f"{name}: line {line}: the file is not valid {label} (its byte-order mark says it "
                           f"is)") from None


def load(source: Path | str | TextIO | bytes, encoding: str | None = None, name: str = "") -> CsvText:
    """Read a file (path), bytes or an already-open text stream."""
    if isinstance(source, bytes):
        return decode(source, name or "<input>", encoding)
    if isinstance(source, Path | str):
        p = Path(source)
        if not p.is_file():
            raise DomainError(f"{p}: no such file")
        try:
            data = p.read_bytes()
        except OSError as e:
            raise DomainError(f"{p}: cannot read it ({e.strerror})") from None
        return decode(data, str(p), encoding)
    return CsvText(name or getattr(source, "name", "<input>"), source.read().removeprefix("\ufeff"), "text")


def _first_line(text: str) -> tuple[str, int]:
    """The first non-blank line and its index."""
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            return line, i
    return "", 0


def _norm(cell: str) -> str:
    return cell.strip().strip('"').strip().lower()


def detect_delimiter(text: str, known: Iterable[str] = ()) -> tuple[str, bool]:
    """(separator, whether the first line is Excel's ``sep=X`` hint and must be skipped)."""
    first, _ = _first_line(text)
    m = re.fullmatch(r'"?sep=(.)"?\s*', first, flags=re.IGNORECASE)
    if m and m.group(1) not in "\r\n":
        return m.group(1), True
    names = {k.lower() for k in known}
    best, score = ",", (-1, -1)
    for d in DELIMITERS:
        try:
            cells = next(csv.reader([first], delimiter=d), [])
        except csv.Error:
            continue
        s = (sum(1 for c in cells if _norm(c) in names), len(cells))
        if s > score:
            best, score = d, s
    return best, False


def rows_text(text: str, skip_first: bool) -> io.StringIO:
    """The text to hand to ``csv.reader`` (the ``sep=`` line blanked, so line numbers stay the file's)."""
    if skip_first:
        first, i = _first_line(text)
        lines = text.splitlines(keepends=True)
        lines[i] = "\n"
        text = "".join(lines)
    return io.StringIO(text, newline="")
