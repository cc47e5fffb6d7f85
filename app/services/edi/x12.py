"""A small, tolerant ASC X12 reader and writer (004010), with 997 acknowledgements.

No maintained Python library reads the sets Depot needs from real partners' files, which
are messy: the ISA is not always 106 characters wide, terminators may be ``~``, ``*``,
a newline, or a space followed by CR/LF, and the last terminator is often missing.
So the reader takes every delimiter from the ISA itself:

* element separator = the 4th character of the file (right after ``ISA``);
* component separator = ISA16 (the character after the 16th element separator);
* segment terminator = the character right after ISA16. When that is whitespace
  (space, CR or LF) segments are split by line breaks instead. Binary delimiters (0x1C,
  0x1D, 0x07 ...) are read like any other.

CR/LF and indentation around segments are ignored. A file hard-wrapped at a fixed width
(line breaks inside segments, even inside the ISA) is unwrapped first (``unwrap``). A file
may hold several interchanges (``parse_all``), and an interchange may carry ISB/ISE and
TA1 segments before its first group. A damaged segment (a NUL byte or another control
character, a tag that is not a tag) is refused, never read around. The envelope's control counts are
checked (ISA13 = IEA02, IEA01 groups, GS06 = GE02, GE01 transactions, ST02 = SE02,
SE01 segment count); each disagreement is reported as a ``problem`` naming both values.
Structural breakage (no ISA, a transaction with no SE, no IEA) raises ``X12Error``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.services.edi.text import decode
from app.services.errors import DomainError


class X12Error(DomainError):
    """The file is not a readable X12 interchange (or its counts are wrong)."""


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"


Segment = list[str]  # [tag, e01, e02, ...]


def el(seg: Sequence[str], i: int) -> str:
    """Element ``i`` of a segment (1-based like the X12 reference: ``el(seg, 1)`` is XXX01), '' when absent."""
    return seg[i].strip() if i < len(seg) else ""


@dataclass
class Transaction:
    set_id: str
    control: str
    segments: list[Segment]  # ST .. SE inclusive
    problems: list[str] = field(default_factory=list)
    #: mandatory segments the reader of the set found missing (id, position expected): the 997
    #: names each in an AK3 (code 3, mandatory segment missing)
    missing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def body(self) -> list[Segment]:
        return self.segments[1:-1]


@dataclass
class Group:
    functional_id: str
    sender: str
    receiver: str
    control: str
    version: str
    transactions: list[Transaction] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control: str
    version: str
    usage: str
    date: str
    time: str
    delimiters: Delimiters
    groups: list[Group] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: TA1 interchange acknowledgements the interchange carries (a partner's answer to ours)
    ta1: list[Segment] = field(default_factory=list)

    @property
    def transactions(self) -> list[Transaction]:
        return [t for g in self.groups for t in g.transactions]

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        for g in self.groups:
            out += g.problems
            for t in g.transactions:
                out += t.problems
        return out

    def check(self) -> None:
        """Raise ``X12Error`` listing every control-count problem, if any."""
        probs = self.all_problems()
        if probs:
            raise X12Error("; ".join(probs))


_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
#: a terminator among these means "segments end at line breaks" (str.isspace would also take 0x1C-0x1F,
#: which real partners use as binary delimiters)
_BLANKS = " \t\r\n"
#: optional envelope segments between ISA and the first GS: grade of service, deferred delivery,
#: and TA1 (an interchange acknowledgement, which may also come alone)
_ENVELOPE_EXTRAS = ("ISB", "ISE", "TA1")


def read_delimiters(text: str) -> tuple[Delimiters, int]:
    """Delimiters from the ISA and the index where the first segment after the ISA starts."""
    start = text.find("ISA")
    if start < 0 or text[:start].strip():
        raise X12Error("not an X12 interchange: the file does not start with an ISA segment")
    if len(text) < start + 4:
        raise X12Error("truncated X12 file: the ISA segment is incomplete")
    sep = text[start + 3]
    if sep.isalnum() or sep in _BLANKS:  # binary separators (0x1D, 0x07 ...) are fine
        raise X12Error(f"ISA: {sep!r} cannot be an element separator")
    pos = start + 3
    for n in range(16):
        pos = text.find(sep, pos + (1 if n else 0))
        if pos < 0:
            raise X12Error("truncated X12 file: the ISA segment has fewer than 16 elements")
    if pos + 1 >= len(text):
        raise X12Error("truncated X12 file: the ISA segment ends before ISA16")
    component = text[pos + 1]
    term = text[pos + 2] if pos + 2 < len(text) else "\n"
    if component.isalnum() or component == sep:
        raise X12Error(f"ISA16: {component!r} cannot be a component separator")
    if term.isalnum() or term == sep:
        raise X12Error(f"ISA: {term!r} after ISA16 cannot be a segment terminator")
    return Delimiters(sep, component, term), pos + 2


def unwrap(text: str) -> tuple[str, int]:
    """A file hard-wrapped at a fixed width (80 columns, as some mailboxes and mainframes send
    them) has line breaks inside segments, even inside the ISA. X12 data never holds a line
    break, so when the segment terminator is a visible character and the lines are cut at one
    width (or the ISA itself is cut), the breaks are removed. Returns (text, width or 0)."""
    start = text.find("ISA")
    if start < 0 or "\n" not in text[start:] and "\r" not in text[start:]:
        return text, 0
    body = text[start:]
    flat = body.replace("\r", "").replace("\n", "")
    try:
        delims, _ = read_delimiters(flat)
    except X12Error:
        return text, 0
    if delims.segment in _BLANKS:
        return text, 0
    lines = [ln.rstrip("\r") for ln in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) < 2:
        return text, 0
    isa_cut = lines[0].count(delims.element) < 16
    widths = {len(ln) for ln in lines[:-1]}
    fixed = len(lines) > 2 and len(widths) == 1 and min(widths) >= 40 and len(lines[-1]) <= min(widths)
    if not (isa_cut or fixed) or all(ln.rstrip().endswith(delims.segment) for ln in lines[:-1]):
        return text, 0
    return text[:start] + flat, len(lines[0])


def split_segments(text: str, *, unwrapped: bool = False) -> tuple[list[Segment], Delimiters]:
    """All segments of a file, delimiters taken from its (first) ISA."""
    if not unwrapped:
        text, _ = unwrap(text)
    delims, _ = read_delimiters(text)
    body = text[text.find("ISA"):]
    # Line breaks never belong to element data, so they end a segment too: this tolerates
    # files whose terminator is a line break, or that drop the terminator on some lines.
    if delims.segment in _BLANKS:
        raw = re.split(r"\r\n|\r|\n", body)
    else:
        raw = re.split(f"{re.escape(delims.segment)}|[\r\n]+", body)
    segs: list[Segment] = []
    for r in raw:
        r = r.strip("\r\n\t ")
        if r:
            segs.append(r.split(delims.element))
    return segs, delims


def _check_segments(segs: list[Segment], delims: Delimiters, text: str) -> list[str]:
    """Every segment's tag; a damaged segment (a NUL byte, a control character, a cut tag) is
    refused. One search over the whole text finds a control character that is not a delimiter
    (they may be binary) or a line break; only then are the segments walked to say which."""
    allowed = {"\t", "\r", "\n", delims.element, delims.component, delims.segment}
    control = re.compile("[" + re.escape("".join(c for c in map(chr, [*range(32), 0x7F]) if c not in allowed)) + "]")
    tags = [seg[0].strip().upper() for seg in segs]
    for n, tag in enumerate(tags, 1):
        if not _TAG.fullmatch(tag):
            raise X12Error(f"segment {n}: {segs[n - 1][0][:12]!r} is not a segment tag (damaged file?)")
    if control.search(text):
        in_data = re.compile("[" + re.escape("".join(c for c in map(chr, [*range(32), 0x7F])
                                                       if c not in ("\t", delims.component))) + "]")
        for n, seg in enumerate(segs, 1):
            for i, value in enumerate(seg[1:], 1):
                m = in_data.search(value)
                if m is not None:
                    raise X12Error(f"segment {n} ({tags[n - 1]}) element {i} holds the control character "
                                   f"0x{ord(m.group()):02X} (damaged file?)")
    return tags


def parse(data: bytes | str) -> Interchange:
    """Read a file that holds one interchange (see ``parse_all`` for files that hold several)."""
    ics = parse_all(data)
    if len(ics) > 1:
        raise X12Error(f"the file holds {len(ics)} interchanges where one was expected")
    return ics[0]


def parse_all(data: bytes | str) -> list[Interchange]:
    """Every interchange of a file (partners batch several ISA..IEA in one file); count
    problems are collected per interchange (see ``Interchange.check``)."""
    # mainframes pad the last block with NULs or spaces; DOS tools end a file with Ctrl-Z
    text = decode(data).rstrip("\x00\x1a \t\r\n")
    text, width = unwrap(text)
    segs, delims = split_segments(text, unwrapped=True)
    tags = _check_segments(segs, delims, text)
    out: list[Interchange] = []
    i = 0
    while i < len(segs):
        if tags[i] != "ISA":
            raise X12Error(f"segment {tags[i]} after IEA (expected the ISA of another interchange or the end)")
        ic, i = _interchange(segs, tags, i, delims)
        if width:
            ic.warnings.append(f"the file is wrapped at {width} columns; line breaks inside segments were ignored")
        out.append(ic)
    return out


def _interchange(segs: list[Segment], tags: list[str], i: int, first: Delimiters) -> tuple[Interchange, int]:
    """One ISA..IEA starting at ``segs[i]``; returns it and the index after its IEA."""
    isa = segs[i]
    where = f"interchange {len(isa) > 13 and el(isa, 13) or '?'}"
    if len(isa) != 17:
        raise X12Error(f"ISA has {len(isa) - 1} elements, expected 16"
                       + (" (a later interchange with other delimiters? split the file)" if i else ""))
    delims = Delimiters(first.element, isa[16][:1] or first.component, first.segment)
    ic = Interchange(
        sender_qualifier=el(isa, 5), sender_id=el(isa, 6), receiver_qualifier=el(isa, 7), receiver_id=el(isa, 8),
        date=el(isa, 9), time=el(isa, 10), version=el(isa, 12), control=el(isa, 13), usage=el(isa, 15),
        delimiters=delims,
    )
    if ic.version not in ("00401", "00402", "00403", "00501"):
        ic.warnings.append(f"ISA12 version {ic.version!r} is unusual (expected 00401)")
    if len(isa[6]) != 15 or len(isa[8]) != 15:
        ic.warnings.append("ISA is not fixed-width (ISA06/ISA08 are not 15 characters)")
    group: Group | None = None
    tx: Transaction | None = None
    i += 1
    while i < len(segs):
        seg, tag = segs[i], tags[i]
        i += 1
        if tx is not None:
            tx.segments.append(seg)
            if tag == "SE":
                _close_transaction(tx)
                assert group is not None
                group.transactions.append(tx)
                tx = None
            elif tag in ("ST", "GE", "IEA", "ISA", "GS"):
                raise X12Error(f"transaction {tx.set_id} {tx.control} has no SE before {tag} (truncated or malformed)")
            continue
        if tag == "GS":
            if group is not None:
                raise X12Error(f"group {group.control} has no GE before the next GS")
            group = Group(functional_id=el(seg, 1), sender=el(seg, 2), receiver=el(seg, 3), control=el(seg, 6),
                          version=el(seg, 8))
        elif tag == "ST":
            if group is None:
                raise X12Error("ST segment outside a functional group (no GS)")
            tx = Transaction(set_id=el(seg, 1), control=el(seg, 2), segments=[seg])
        elif tag == "GE":
            if group is None:
                raise X12Error("GE without GS")
            if el(seg, 2) != group.control:
                group.problems.append(f"GE02 control number {el(seg, 2)!r} does not match GS06 {group.control!r}")
            if el(seg, 1) != str(len(group.transactions)):
                group.problems.append(
                    f"GE01 says {el(seg, 1)} transaction sets but group {group.control} holds {len(group.transactions)}")
            ic.groups.append(group)
            group = None
        elif tag in _ENVELOPE_EXTRAS and group is None:
            if tag == "TA1":
                ic.ta1.append(seg)
        elif tag == "IEA":
            if group is not None:
                raise X12Error(f"group {group.control} has no GE before IEA (truncated or malformed)")
            if el(seg, 2) != ic.control:
                ic.problems.append(f"IEA02 control number {el(seg, 2)!r} does not match ISA13 {ic.control!r}")
            if el(seg, 1) != str(len(ic.groups)):
                ic.problems.append(f"IEA01 says {el(seg, 1)} functional groups but the interchange holds {len(ic.groups)}")
            return ic, i
        elif tag == "ISA":
            raise X12Error(f"{where} has no IEA before the next ISA (truncated or malformed)")
        else:
            raise X12Error(f"unexpected segment {tag} outside a transaction set")
    if tx is not None:
        raise X12Error(f"truncated X12 file: transaction {tx.set_id} {tx.control} has no SE")
    if group is not None:
        raise X12Error(f"truncated X12 file: group {group.control} has no GE")
    raise X12Error("truncated X12 file: no IEA segment")


def _close_transaction(tx: Transaction) -> None:
    se = tx.segments[-1]
    if el(se, 2) != tx.control:
        tx.problems.append(f"SE02 control number {el(se, 2)!r} does not match ST02 {tx.control!r}")
    if el(se, 1) != str(len(tx.segments)):
        tx.problems.append(
            f"SE01 says {el(se, 1)} segments but transaction {tx.set_id} {tx.control} has {len(tx.segments)}")


# ---------------------------------------------------------------- writing

def _fixed(value: str, width: int) -> str:
    return value[:width].ljust(width)


def write_interchange(
    *, sender: tuple[str, str], receiver: tuple[str, str], control: int, functional_id: str,
    transactions: Iterable[tuple[str, list[Segment]]], when: dt.datetime, usage: str = "P",
    delimiters: Delimiters = Delimiters(),
) -> str:
    """One interchange with one group; ``transactions`` = (set id, body segments without ST/SE).

    Control numbers: ISA13 = ``control`` (9 digits), GS06 = ``control``, ST02 = 0001, 0002 ...
    Every count (SE01, GE01, IEA01) is computed here, never passed in.
    """
    e, t = delimiters.element, delimiters.segment
    if control <= 0 or control > 999_999_999:
        raise X12Error(f"control number {control} is outside 1..999999999")
    for value in (sender[1], receiver[1]):
        if any(c in value for c in (e, t, delimiters.component)):
            raise X12Error(f"interchange id {value!r} contains a delimiter")
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10, _fixed(sender[0], 2), _fixed(sender[1], 15),
        _fixed(receiver[0], 2), _fixed(receiver[1], 15), when.strftime("%y%m%d"), when.strftime("%H%M"),
        "U", "00401", f"{control:09d}", "0", usage, delimiters.component,
    ]
    lines = [e.join(isa)]
    lines.append(e.join(["GS", functional_id, sender[1], receiver[1], when.strftime("%Y%m%d"),
                         when.strftime("%H%M"), str(control), "X", "004010"]))
    n = 0
    for set_id, body in transactions:
        n += 1
        st_control = f"{n:04d}"
        segs = [["ST", set_id, st_control], *body]
        segs.append(["SE", str(len(segs) + 1), st_control])
        for s in segs:
            clean = [_clean(v, delimiters) for v in s]
            lines.append(e.join(clean).rstrip(e) if len(clean) > 1 else clean[0])
    lines.append(e.join(["GE", str(n), str(control)]))
    lines.append(e.join(["IEA", "1", f"{control:09d}"]))
    return "".join(line + t + "\n" for line in lines)


def _clean(value: object, d: Delimiters) -> str:
    """Element text with delimiters and line breaks replaced: X12 has no escape character."""
    s = str(value)
    for c in (d.element, d.segment, d.component, "\r", "\n"):
        s = s.replace(c, " ")
    return s


# ---------------------------------------------------------------- 997

def ack_997_body(ic: Interchange, g: Group) -> list[Segment]:
    """The AK1..AK9 segments acknowledging one group of ``ic`` (accepted or rejected per set)."""
    body: list[Segment] = [["AK1", g.functional_id, g.control]]
    accepted = 0
    for tx in g.transactions:
        body.append(["AK2", tx.set_id, tx.control])
        for seg_id, position in tx.missing:
            body.append(["AK3", seg_id, str(position), "", "3"])
        if tx.problems:
            # AK5 codes: 3 = SE missing, 4 = segment count wrong, 5 = control number mismatch
            code = "4" if any(p.startswith("SE01") for p in tx.problems) else "5"
            body.append(["AK5", "R", code])
        else:
            accepted += 1
            body.append(["AK5", "A"])
    n = len(g.transactions)
    if g.problems or ic.problems:
        status = "R"
    else:
        status = "A" if accepted == n else ("P" if accepted else "R")
    ak9 = ["AK9", status, str(n), str(n), str(accepted)]
    if status != "A":
        ak9.append("5" if any("GE01" in p for p in g.problems) else "2")
    body.append(ak9)
    return body


def build_997(ic: Interchange, *, our_id: tuple[str, str], control: int, when: dt.datetime) -> str:
    """A complete 997 interchange back to the sender of ``ic``: one 997 set per functional group
    (X12 acknowledges groups; a 997 carries one AK1)."""
    return write_interchange(
        sender=our_id, receiver=(ic.sender_qualifier, ic.sender_id), control=control, functional_id="FA",
        transactions=[("997", ack_997_body(ic, g)) for g in ic.groups], when=when,
    )


def is_acknowledgement(ic: Interchange) -> bool:
    """An interchange that only acknowledges (997s, 999s, TA1): never acknowledged back, or two
    systems would answer each other forever."""
    sets = {t.set_id for t in ic.transactions}
    return (bool(sets) and sets <= {"997", "999"}) or (not sets and bool(ic.ta1))
