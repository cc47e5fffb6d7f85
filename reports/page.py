"""Page chrome shared by every document: header line, footer with 'page x of y'.

reportlab learns the page count only after the story is laid out, so ``NumberedCanvas``
keeps every page's state and writes 'page x of y' when the document is saved.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

from reports.styles import ACCENT, MARGIN, RULE


class NumberedCanvas(rl_canvas.Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    def __init__(self, *args: Any, footer_left: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: list[dict[str, Any]] = []
        self._footer_left = footer_left

    def showPage(self) -> None:  # noqa: N802 (reportlab API)
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        w, _h = self._pagesize
        self.setStrokeColor(RULE)
        self.line(MARGIN, MARGIN - 4, w - MARGIN, MARGIN - 4)
        self.setFont("Helvetica", 7.5)
        self.setFillColor(ACCENT)
        self.drawString(MARGIN, MARGIN - 12, self._footer_left)
        self.drawRightString(w - MARGIN, MARGIN - 12, f"page {self._pageNumber} of {total}")


def render(
    story: Sequence[Flowable],
    *,
    title: str,
    footer_left: str = "",
    on_page: Callable[[rl_canvas.Canvas, Any], None] | None = None,
    pagesize: tuple[float, float] = A4,
) -> bytes:
    """Lay out ``story`` and return the PDF bytes (page x of y in the footer of every page)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 6, title=title, author="Depot",
    )
    hook = on_page or (lambda c, d: None)
    doc.build(
        list(story), onFirstPage=hook, onLaterPages=hook,
        canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer_left=footer_left, **k),
    )
    return buf.getvalue()
