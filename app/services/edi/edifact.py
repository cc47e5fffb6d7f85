"""EDIFACT reading and writing on top of pydifact, with the envelope counts checked.

pydifact tokenises (UNA service characters, release character, components) and
serialises; it does not check counts and it silently rewrites a wrong UNZ when it builds
an ``Interchange``. So this module walks the raw segments itself and reports every
disagreement: UNT01 (segments UNH..UNT), UNT02 = UNH01, UNZ01 (messages or groups),
UNZ02 = UNB05, and a missing UNZ (a truncated file).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydifact.control.characters import Characters
from pydifact.parser import Parser
from pydifact.segments import Segment as PSegment
from pydifact.serializer import Serializer

from app.services.edi.text import decode
from app.services.errors import DomainError


class EdifactError(DomainError):
    """The file is not a readable EDIFACT interchange (or its counts are wrong)."""


@dataclass
class Seg:
    tag: str
    elements: list[Any]  # str or list[str] (composite)

    def get(self, i: int, j: int = 0) -> str:
        """Element ``i`` (0-based after the tag), component ``j``; '' when absent."""
        if i >= len(self.elements):
            return ""
        e = self.elements[i]
        if isinstance(e, list):
            return str(e[j]).strip() if j < len(e) and e[j] is not None else ""
        return str(e).strip() if j == 0 and e is not None else ""


@dataclass
class Message:
    ref: str
    type: str
    version: str
    release: str
    segments: list[Seg]  # UNH .. UNT inclusive
    problems: list[str] = field(default_factory=list)

    @property
    def body(self) -> list[Seg]:
        return self.segments[1:-1]


@dataclass
class EdifactInterchange:
    sender: str
    sender_qualifier: str
    recipient: str
    control: str
    application_ref: str
    messages: list[Message] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def all_problems(self) -> list[str]:
        return self.problems + [p for m in self.messages for p in m.problems]

    def check(self) -> None:
        probs = self.all_problems()
        if probs:
            raise EdifactError("; ".join(probs))


_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")


def _service_chars(text: str) -> tuple[str, str, str]:
    """(element separator, release character, segment terminator) from the UNA, else the defaults."""
    if text.startswith("UNA") and len(text) >= 9:
        return text[4], text[6], text[8]
    return "+", "?", "'"


def _normalise(text: str) -> tuple[str, bool]:
    """Line breaks out of the interchange: partners put one after each terminator, and some wrap
    the whole file at a fixed width (80 columns), breaking segments anywhere. EDIFACT data never
    holds a line break, so they all go (unless the UNA makes the line break the terminator).
    Returns the text and whether a segment was broken by a line."""
    _, release, term = _service_chars(text)
    if term in "\r\n":
        return text.replace("\r\n", "\n").replace("\r", "\n") if term == "\n" else text, False
    broken = re.search(rf"[^{re.escape(term)}\s][ \t]*[\r\n]+\s*\S", text) is not None
    return text.replace("\r", "").replace("\n", ""), broken


def _split(text: str, release: str, term: str) -> list[str]:
    """Segment texts, honouring the release character (``?'`` is a quote inside data)."""
    out: list[str] = []
    begin, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == release and i + 1 < n:
            i += 2
            continue
        if c == term:
            out.append(text[begin:i])
            begin = i + 1
        i += 1
    if text[begin:].strip():
        out.append(text[begin:])  # a missing final terminator
    return out


def _interchange_texts(text: str) -> tuple[list[str], bool]:
    """The file cut into interchanges (UNA?/UNB .. UNZ), each checked for damaged tags and
    control characters before pydifact sees it. Returns the texts and whether lines were wrapped."""
    text, wrapped = _normalise(text)
    sep, release, term = _service_chars(text)
    chunks: list[str] = []
    una = ""
    cur: list[str] = []
    for n, raw in enumerate(_split(text, release, term), 1):
        seg = raw.strip(" \t\r\n")
        if not seg:
            continue
        tag = seg[:3]
        if tag == "UNA" and not cur:
            una = raw.lstrip(" \t\r\n")[:8] + term  # its 8th character (reserved) is often a space
            sep, release, term = _service_chars(una)
            continue
        if not _TAG.fullmatch(tag) or (len(seg) > 3 and seg[3] not in (sep, term)):
            shown = seg[:12]
            raise EdifactError(f"segment {n}: {shown!r} does not start with a segment tag (damaged file?)")
        bad = next((c for c in seg if ord(c) < 32 and c != "\t" or ord(c) == 0x7F), None)
        if bad is not None:
            raise EdifactError(f"segment {n} ({tag}) holds the control character 0x{ord(bad):02X} (damaged file?)")
        cur.append(seg)
        if tag == "UNZ":
            chunks.append(una + "".join(x + term for x in cur))
            una, cur = "", []
    if cur:
        chunks.append(una + "".join(x + term for x in cur))
    return chunks, wrapped


def _tokenise(chunk: str) -> list[Seg]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            segs = [Seg(s.tag.strip(), list(s.elements)) for s in Parser().parse(chunk)]
        except Exception as e:  # pydifact raises bare exceptions on malformed input
            raise EdifactError(f"malformed EDIFACT: {str(e)[:200]}") from None
    return [s for s in segs if s.tag != "UNA"]


def raw_segments(data: bytes | str) -> list[Seg]:
    """Every segment of every interchange in the file (UNA left out)."""
    text = _start(data)
    chunks, _ = _interchange_texts(text)
    return [s for c in chunks for s in _tokenise(c)]


def _start(data: bytes | str) -> str:
    text = decode(data).lstrip(" \r\n\t").rstrip("\x00\x1a \t\r\n")
    if not (text.startswith("UNA") or text.startswith("UNB")):
        raise EdifactError("not an EDIFACT interchange: the file does not start with UNA or UNB")
    return text


def parse(data: bytes | str) -> EdifactInterchange:
    """Read a file that holds one interchange (see ``parse_all`` for files that hold several)."""
    ics = parse_all(data)
    if len(ics) > 1:
        raise EdifactError(f"the file holds {len(ics)} interchanges where one was expected")
    return ics[0]


def parse_all(data: bytes | str) -> list[EdifactInterchange]:
    """Every interchange of a file, each with its count problems collected."""
    chunks, wrapped = _interchange_texts(_start(data))
    out = []
    for chunk in chunks:
        ic = _parse_one(_tokenise(chunk))
        if wrapped:
            ic.warnings.append("the file is wrapped at a fixed width; line breaks inside segments were ignored")
        out.append(ic)
    return out


def _parse_one(segs: list[Seg]) -> EdifactInterchange:
    if not segs or segs[0].tag != "UNB":
        raise EdifactError("EDIFACT interchange has no UNB header")
    unb = segs[0]
    ic = EdifactInterchange(sender=unb.get(1), sender_qualifier=unb.get(1, 1), recipient=unb.get(2),
                            control=unb.get(4), application_ref=unb.get(6))
    msg: Message | None = None
    groups = 0
    ended = False
    for s in segs[1:]:
        if ended:
            ic.problems.append(f"segment {s.tag} after UNZ")
            break
        if msg is not None:
            msg.segments.append(s)
            if s.tag == "UNT":
                if s.get(1) != msg.ref:
                    msg.problems.append(f"UNT02 reference {s.get(1)!r} does not match UNH01 {msg.ref!r}")
                if s.get(0) != str(len(msg.segments)):
                    msg.problems.append(
                        f"UNT01 says {s.get(0)} segments but message {msg.ref} ({msg.type}) has {len(msg.segments)}")
                ic.messages.append(msg)
                msg = None
            elif s.tag in ("UNH", "UNZ"):
                raise EdifactError(f"message {msg.ref} ({msg.type}) has no UNT before {s.tag} (truncated or malformed)")
            continue
        if s.tag == "UNH":
            msg = Message(ref=s.get(0), type=s.get(1, 0), version=s.get(1, 1), release=s.get(1, 2), segments=[s])
        elif s.tag == "UNG":
            groups += 1
        elif s.tag == "UNE":
            pass
        elif s.tag == "UNZ":
            counted = groups or len(ic.messages)
            what = "groups" if groups else "messages"
            if s.get(0) != str(counted):
                ic.problems.append(f"UNZ01 says {s.get(0)} {what} but the interchange holds {counted}")
            if s.get(1) != ic.control:
                ic.problems.append(f"UNZ02 reference {s.get(1)!r} does not match UNB05 {ic.control!r}")
            ended = True
        else:
            raise EdifactError(f"unexpected segment {s.tag} outside a message")
    if msg is not None:
        raise EdifactError(f"truncated EDIFACT file: message {msg.ref} ({msg.type}) has no UNT")
    if not ended:
        ic.problems.append("truncated EDIFACT file: no UNZ trailer")
    if ic.application_ref and ic.messages and ic.application_ref not in {m.type for m in ic.messages}:
        ic.warnings.append(
            f"UNB application reference {ic.application_ref!r} does not match the message type {ic.messages[0].type}")
    return ic


def write_interchange(
    *, sender: tuple[str, str], recipient: tuple[str, str], control: int, messages: Iterable[tuple[str, str, list[Seg]]],
    when: dt.datetime,
) -> str:
    """An interchange with a UNA, one UNB/UNZ, and messages (type, version 'D:96A:UN', body).

    UNH references are 1, 2, ...; UNT01 and UNZ01 are counted here.
    """
    chars = Characters(decimal_point=".")  # type: ignore[no-untyped-call]
    segments: list[PSegment] = [
        PSegment("UNB", ["UNOA", "2"], [sender[0], sender[1]], [recipient[0], recipient[1]],
                 [when.strftime("%y%m%d"), when.strftime("%H%M")], str(control)),
    ]
    n = 0
    for msg_type, version, body in messages:
        n += 1
        ref = str(n)
        parts = [msg_type, *version.split(":")]
        msg = [PSegment("UNH", ref, parts)]
        msg += [PSegment(s.tag, *s.elements) for s in body]
        msg.append(PSegment("UNT", str(len(msg) + 1), ref))
        segments += msg
    segments.append(PSegment("UNZ", str(n), str(control)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = Serializer(chars).serialize(segments, with_una_header=True, break_lines=True)
    return text if text.endswith("\n") else text + "\n"


def seg(tag: str, *elements: str | Sequence[str]) -> Seg:
    return Seg(tag, [list(e) if not isinstance(e, str) else e for e in elements])
