"""Pick lists for many waves at once, to PDF files in a folder: run in the background by the
screen (progress and cancel through the callbacks; no Qt here) and resumable: a wave whose file is
already in the folder is not printed again, so a run stopped by a cancel or a failure goes on where
it stopped. Each file is written whole (a temporary name, then renamed), never half."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from app.services.dispatch.picklist import picklist_pdf
from app.services.errors import DomainError, ValidationError


@dataclass
class PrintRun:
    folder: Path
    printed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        parts = [f"{len(self.printed)} pick list(s) printed to {self.folder}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already there")
        if self.failed:
            parts.append("failed: " + "; ".join(f"{n}: {why}" for n, why in self.failed))
        if self.cancelled:
            parts.append(f"cancelled with {len(self.left)} left (print again to resume)")
        return ", ".join(parts)


def print_picklists(session: Session, numbers: Sequence[str], folder: Path, *,
                    report: Callable[[int, int, str], None] | None = None,
                    stop: Callable[[], bool] | None = None) -> PrintRun:
    if not numbers:
        raise ValidationError("waves", "choose the waves to print")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValidationError("folder", f"cannot write to {folder}: {e.strerror or e}") from None
    run = PrintRun(folder)
    total = len(numbers)
    for n, number in enumerate(numbers):
        if stop is not None and stop():
            run.cancelled = True
            run.left = list(numbers[n:])
            break
        if report is not None:
            report(n, total, f"pick list {number}")
        target = folder / f"{number}-picklist.pdf"
        if target.exists():
            run.skipped.append(number)
            continue
        try:
            _name, pdf = picklist_pdf(session, number)
            tmp = target.with_suffix(".part")
            tmp.write_bytes(pdf)
            os.replace(tmp, target)
        except DomainError as e:
            run.failed.append((number, str(e)))
        except OSError as e:
            run.failed.append((number, f"cannot write {target.name}: {e.strerror or e}"))
        else:
            run.printed.append(number)
    if report is not None and not run.cancelled:
        report(total, total, "done")
    return run
