"""Bytes of a partner's file to text, as partners really save them.

Real files start with a UTF-8 byte-order mark (Windows tools write one), or come as UTF-16
from an editor's "Unicode" save; neither is part of the interchange. The mark is dropped
before anything looks for ``ISA`` or ``UNA``/``UNB``; UTF-16 is read by its mark.
"""

from __future__ import annotations

import codecs

from app.services.errors import DomainError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class EdiTextError(DomainError):
    """The file's bytes cannot be text of an interchange."""


def decode(data: bytes | str) -> str:
    """Text of an EDI file: BOM dropped; UTF-8, else Latin-1 (every byte is a character)."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if not data.strip():
        raise EdiTextError("the file is empty" if not data else "the file holds only white space")
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise EdiTextError("the file says it is UTF-16 (byte-order mark) but is not valid UTF-16") from None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def was_utf16(data: bytes) -> bool:
    """True when the file came as UTF-16 (worth a warning: X12 and EDIFACT are 8-bit)."""
    return data.startswith(_UTF16_BOMS)
