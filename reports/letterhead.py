"""The company letterhead every document prints, from plain data.

``Letterhead`` is what ``app.services.org.company.letterhead`` returns; ``letterhead_block``
lays it out (logo, name, address, contact line, tax id) for the top-left of a document, so the
PO today and invoices later look like one company's paper.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, Paragraph, Spacer

from reports.styles import BODY, SMALL, TITLE

#: the logo is scaled to fit this box, keeping its proportions
LOGO_MAX_W = 45 * mm
LOGO_MAX_H = 16 * mm


@dataclass(frozen=True)
class Letterhead:
    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    tax_id: str = ""
    #: PNG or JPEG bytes ('' = none)
    logo: bytes = b""
    #: the issuing branch when it is not the head office ("Dallas, 1 Commerce St, Dallas TX")
    branch: str = ""

    def contact_line(self) -> str:
        return "  ·  ".join(v for v in (self.phone, self.email, self.website) if v)


def _p(text: str, style: object) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def logo_image(data: bytes) -> Image | None:
    """The logo scaled into LOGO_MAX_W x LOGO_MAX_H, or None when there is none."""
    if not data:
        return None
    reader = ImageReader(io.BytesIO(data))
    w, h = reader.getSize()
    scale = min(LOGO_MAX_W / w, LOGO_MAX_H / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale, hAlign="LEFT")


def letterhead_block(lh: Letterhead) -> list[Flowable]:
    """Logo, company name, address, contact line, tax id and issuing branch (top-left block)."""
    out: list[Flowable] = []
    logo = logo_image(lh.logo)
    if logo is not None:
        out += [logo, Spacer(1, 1.5 * mm)]
    out.append(_p(lh.name, TITLE))
    if lh.address:
        out.append(_p(lh.address, SMALL))
    if lh.contact_line():
        out.append(_p(lh.contact_line(), SMALL))
    if lh.tax_id:
        out.append(_p(f"Tax id {lh.tax_id}", SMALL))
    if lh.branch:
        out.append(_p(f"Issued by {lh.branch}", BODY))
    return out
