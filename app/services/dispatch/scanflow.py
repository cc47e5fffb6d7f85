"""The picker's scan sequence, one scan at a time: bin, then item, then quantity (Enter = all the
line asks; a number; ``SHORT n reason``). The Picking tab and ``depot pick --scans`` both feed it,
so a scanner log replays exactly as the screen would have taken it. Each scan is answered with a
``Feedback`` (ok or refused, the words to show, what to scan next); only the quantity writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.dispatch import PickLine, Wave
from app.models.org import Location
from app.services.auth import Actor
from app.services.dispatch.picking import (
    PickOutcome,
    check_bin,
    check_item,
    confirm,
    find_bin,
    live_wave,
    next_stop,
    open_at,
)
from app.services.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.items import find_by_code

_SHORT = re.compile(r"^SHORT\s+(\d+)\s*(.*)$", re.IGNORECASE)


@dataclass
class Feedback:
    ok: bool
    message: str
    #: what the picker scans next: 'bin', 'item', 'qty', 'serial' or 'done'
    expect: str
    outcome: PickOutcome | None = None


@dataclass
class ScanFlow:
    wave: str
    bin: str = ""
    item: str = ""
    expect: str = "bin"
    #: a serial-tracked item: the serials scanned so far, and how many the line asks
    serials: list[str] = field(default_factory=list)
    want: int = 0

    def prompt(self, session: Session) -> str:
        wave = live_wave(session, self.wave)
        nxt = next_stop(session, wave)
        return f"scan bin {nxt}" if nxt else f"wave {wave.number} is picked"

    def scan(self, session: Session, actor: Actor, text: str) -> Feedback:
        """Take one scan; a refused scan changes nothing and keeps the step."""
        text = (text or "").strip()
        try:
            with session.begin_nested():  # a refusal part-way through a pick leaves nothing behind
                return self._scan(session, actor, text)
        except DomainError as e:
            return Feedback(False, str(e), self.expect)

    def _scan(self, session: Session, actor: Actor, text: str) -> Feedback:
        wave = live_wave(session, self.wave)
        if self.expect in ("item", "qty") and text and not _SHORT.match(text) and not text.isdigit():
            here = _bin_with_lines(session, wave, text)
            if here is not None:  # a bin scanned (again): start over at that bin
                return self._at_bin(session, here[0].code, here[1])
        if self.expect == "bin":
            if _bin_with_lines(session, wave, text) is None and find_by_code(session, text) is not None:
                raise Conflict(f"scan the bin first (next stop: {next_stop(session, wave)})")
            try:
                find_bin(session, wave, text)
            except NotFound:
                raise Conflict(f"{text} is no bin of this warehouse (next stop: {next_stop(session, wave)})") from None
            loc, lines = check_bin(session, wave, text)
            return self._at_bin(session, loc.code, lines)
        if self.expect == "item":
            loc, _lines = check_bin(session, wave, self.bin)
            pl = check_item(session, wave, loc, text)
            want = pl.qty - pl.qty_picked
            tote = f" into tote {pl.tote}" if pl.tote else ""
            self.item, self.want, self.serials = text, want, []
            if session.scalar(select(Item.track_serial).where(Item.id == pl.item_id)):
                self.expect = "serial"
                return Feedback(True, f"{want} to pick{tote}: scan the serial of each unit (or SHORT n reason)",
                                "serial")
            self.expect = "qty"
            return Feedback(True, f"{want} to pick{tote}: Enter for all {want}, a number, or SHORT n reason", "qty")
        if self.expect == "serial":
            return self._serial(session, actor, wave, text)
        m = _SHORT.match(text)
        if m:
            out = confirm(session, actor, self.wave, bin=self.bin, item=self.item, qty=int(m.group(1)),
                          short_reason=m.group(2))
        elif text in ("", "+"):
            out = confirm(session, actor, self.wave, bin=self.bin, item=self.item)
        elif text.isdigit():
            out = confirm(session, actor, self.wave, bin=self.bin, item=self.item, qty=int(text))
        else:
            return Feedback(False, f"{text!r} is not a quantity: Enter for all, a number, or SHORT n reason", "qty")
        return self._after(session, wave, out)

    def _serial(self, session: Session, actor: Actor, wave: Wave, text: str) -> Feedback:
        m = _SHORT.match(text)
        if m:
            out = confirm(session, actor, self.wave, bin=self.bin, item=self.item, qty=int(m.group(1)),
                          short_reason=m.group(2), serials=self.serials)
            return self._after(session, wave, out)
        if not text:
            raise ValidationError("serial", f"scan the serial of each unit ({len(self.serials)} of {self.want})")
        if text.upper() in self.serials:
            raise ValidationError("serial", f"serial {text.upper()} was scanned already")
        if len(self.serials) + 1 < self.want:
            self.serials.append(text.upper())
            return Feedback(True, f"serial {text.upper()}: {len(self.serials)} of {self.want}; scan the next", "serial")
        out = confirm(session, actor, self.wave, bin=self.bin, item=self.item, serials=[*self.serials, text])
        return self._after(session, wave, out)

    def _after(self, session: Session, wave: Wave, out: PickOutcome) -> Feedback:
        self.item, self.serials, self.want = "", [], 0
        if out.wave_status == "picked":
            self.expect, self.bin = "done", ""
            return Feedback(True, out.message, "done", out)
        more_here = _bin_with_lines(session, wave, self.bin) is not None
        self.expect = "item" if more_here else "bin"
        if not more_here:
            self.bin = ""
        return Feedback(True, out.message + ("; next item here" if more_here else f"; next: {next_stop(session, wave)}"),
                        self.expect, out)

    def _at_bin(self, session: Session, code: str, lines: list[PickLine]) -> Feedback:
        self.bin, self.item, self.expect = code, "", "item"
        skus = {i: sku for i, sku in session.execute(select(Item.id, Item.sku).where(
            Item.id.in_({pl.item_id for pl in lines})))}
        first = lines[0]
        what = f"{first.qty - first.qty_picked} {skus.get(first.item_id, '?')}" + (
            f" into tote {first.tote}" if first.tote else "")
        more = f" (and {len(lines) - 1} more line(s) here)" if len(lines) > 1 else ""
        return Feedback(True, f"bin {code}: pick {what}{more}; scan the item", "item")


def _bin_with_lines(session: Session, wave: Wave, code: str) -> tuple[Location, list[PickLine]] | None:
    """The bin ``code`` names and its open lines on the wave, or None (not a bin, or nothing there)."""
    if not code:
        return None
    try:
        loc = find_bin(session, wave, code)
    except DomainError:
        return None
    lines = open_at(session, wave, loc)
    return (loc, lines) if lines else None
