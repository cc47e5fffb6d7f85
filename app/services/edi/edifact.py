"""EDIFACT reading and writing on top of pydifact, with the envelope counts checked.

pydifact tokenises (UNA service characters, release character, components) and
serialises; it does not check counts and it silently rewrites a wrong UNZ when it builds
an ``Interchange``. So this module walks the raw segments itself and reports every
disagreement: UNT01 (segments UNH..UNT), UNT02 = UNH01, UNZ01 (messages or groups),
UNZ02 = UNB05, and a missing UNZ (a truncated file).
"""

from __future__ import annotations

import datetime as dt
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


def raw_segments(data: bytes | str) -> list[Seg]:
    text = decode(data).lstrip(" \r\n\t")
    if not (text.startswith("UNA") or text.startswith("UNB")):
        raise EdifactError("not an EDIFACT interchange: the file does not start with UNA or UNB")
    # pydifact keeps line breaks that follow a terminator as part of the next tag; strip them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            segs = [Seg(s.tag.strip(), list(s.elements)) for s in Parser().parse(text)]
        except Exception as e:  # pydifact raises bare exceptions on malformed input
            raise EdifactError(f"malformed EDIFACT: {e}") from None
    return [s for s in segs if s.tag != "UNA"]


def parse(data: bytes | str) -> EdifactInterchange:
    segs = raw_segments(data)
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
