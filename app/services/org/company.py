"""The company profile and the letterhead documents print.

One ``company`` row per file (id ``COMPANY_ID``), head-office master data. ``letterhead`` turns
it into plain data for the report renderers (``reports.letterhead.Letterhead``): the PO PDF
uses it now, invoices and packing slips later. A file without a profile still prints: the
head office's name and address stand in.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import COMPANY_ID, Branch, Company
from app.services import audit
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.masterdata import head_office_id
from app.services.org.setup import authorize
from app.services.site_rights import require_head_office
from reports.letterhead import Letterhead

#: a logo bigger than this is refused (it travels to every site and into every PDF)
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4000
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}
#: editable text fields: name -> (label, max length)
FIELDS: dict[str, tuple[str, int]] = {
    "name": ("company name", 120), "address": ("address", 400), "phone": ("phone", 40),
    "email": ("e-mail", 200), "website": ("website", 200), "tax_id": ("tax id", 40),
    "base_currency": ("base currency", 3), "timezone": ("time zone", 64),
}


@dataclass(frozen=True)
class CompanyProfile:
    name: str
    address: str
    phone: str
    email: str
    website: str
    tax_id: str
    base_currency: str
    timezone: str
    logo: bytes
    logo_mime: str

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in FIELDS}
        out["logo"] = f"{self.logo_mime}, {len(self.logo):,} bytes" if self.logo else ""
        return out


def _profile(c: Company) -> CompanyProfile:
    logo = base64.b64decode(c.logo_b64) if c.logo_b64 else b""
    return CompanyProfile(c.name, c.address, c.phone, c.email, c.website, c.tax_id, c.base_currency, c.timezone,
                          logo, c.logo_mime)


def get_company(session: Session) -> CompanyProfile | None:
    c = session.get(Company, COMPANY_ID)
    return _profile(c) if c is not None and c.deleted_at is None else None


def check_timezone(value: str, field: str = "time zone") -> str:
    tz = value.strip()
    if not tz:
        raise ValidationError(field, "is required (an IANA name such as America/Chicago, or UTC)")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(field, f"{tz!r} is not a known time zone (use an IANA name such as "
                                     "America/Chicago, or UTC)") from None
    return tz


def check_currency(value: str, field: str = "base currency") -> str:
    cur = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", cur):
        raise ValidationError(field, f"{value!r} is not a three-letter ISO 4217 code (USD, EUR, ...)")
    return cur


def _clean(values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, raw in values.items():
        if key not in FIELDS:
            raise ValidationError("company", f"unknown field {key!r} (known: {', '.join(FIELDS)})")
        label, limit = FIELDS[key]
        text = str(raw or "").strip()
        if key == "timezone":
            text = check_timezone(text)
        elif key == "base_currency":
            text = check_currency(text)
        elif len(text) > limit:
            raise ValidationError(label, f"is longer than {limit} characters")
        elif key == "email" and text and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
            raise ValidationError(label, f"{text!r} is not an e-mail address")
        out[key] = text
    if "name" in out and not out["name"]:
        raise ValidationError("company name", "is required")
    return out


def check_logo(data: bytes) -> str:
    """The MIME type of a usable logo (PNG or JPEG, bounded size), or ValidationError."""
    if not data:
        raise ValidationError("logo", "the file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError("logo", f"{len(data):,} bytes is more than {LOGO_MAX_BYTES // 1024} KB: "
                                      "save it smaller (a letterhead logo needs about 600 x 200 pixels)")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            size = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("logo", "is not a readable PNG or JPEG image") from None
    if fmt not in _MIME:
        raise ValidationError("logo", f"is a {fmt or 'unknown'} image: use PNG or JPEG")
    if max(size) > LOGO_MAX_PIXELS or min(size) < 1:
        raise ValidationError("logo", f"{size[0]} x {size[1]} pixels: use at most {LOGO_MAX_PIXELS} on a side")
    return _MIME[fmt]


def set_company(session: Session, actor: Actor | None, *, logo: bytes | None = None, remove_logo: bool = False,
                **values: Any) -> CompanyProfile:
    """Create or change the company profile (only the fields given). ``logo`` replaces the logo
    (PNG or JPEG); ``remove_logo`` drops it. A new profile needs at least its name."""
    authorize(session, actor)
    require_head_office(session, "the company profile", "change it at a head-office workstation")
    clean = _clean(values)
    mime = check_logo(logo) if logo is not None else ""
    ho = head_office_id_or_explain(session)
    row = session.get(Company, COMPANY_ID)
    created = row is None
    if row is None:
        if not clean.get("name"):
            raise ValidationError("company name", "is required")
        row = Company(id=COMPANY_ID, owner_branch_id=ho, name=clean["name"])
        session.add(row)
    for key, value in clean.items():
        setattr(row, key, value)
    if logo is not None:
        row.logo_b64, row.logo_mime = base64.b64encode(logo).decode("ascii"), mime
    elif remove_logo:
        row.logo_b64, row.logo_mime = "", ""
    row.deleted_at = None
    session.flush()
    audit.record(session, actor, "company.create" if created else "company.update", "company", row.id, ho,
                 fields=sorted(clean), logo=("new" if logo is not None else "removed" if remove_logo else "kept"))
    return _profile(row)


def head_office_id_or_explain(session: Session) -> uuid.UUID:
    from app.services.errors import NotFound

    try:
        return head_office_id(session)
    except NotFound:
        raise ValidationError("head office", "create the head office branch first (Settings > Organisation, or "
                                             "depot branch add HQ --name 'Head office' --head-office)") from None


def letterhead(session: Session, branch_id: uuid.UUID | None = None) -> Letterhead:
    """What documents print at the top: the company profile (with its logo), and the issuing
    branch when it is not the head office. Without a profile, the head office's name and
    address (or the branch's) stand in, so a document is never anonymous."""
    c = session.get(Company, COMPANY_ID)
    branch = session.get(Branch, branch_id) if branch_id is not None else None
    issued = ""
    if branch is not None and not branch.is_head_office:
        issued = ", ".join(v for v in (branch.name, branch.address.replace("\n", ", ")) if v)
    if c is None or c.deleted_at is not None:
        ho = session.scalars(select(Branch).where(Branch.is_head_office.is_(True))).first()
        src = ho or branch
        return Letterhead(name=src.name if src else "Depot", address=src.address if src else "", branch=issued)
    logo = b""
    if c.logo_b64:
        try:
            logo = base64.b64decode(c.logo_b64, validate=True)
        except (binascii.Error, ValueError):
            logo = b""  # a damaged logo must not stop a document
    return Letterhead(name=c.name, address=c.address, phone=c.phone, email=c.email, website=c.website,
                      tax_id=c.tax_id, logo=logo, branch=issued)
