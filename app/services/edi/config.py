"""EDI settings (Settings > EDI): the folders files are exchanged through, and the partner ids.

Folders are workstation settings (``edi.outbound_dir``, ``edi.inbound_dir``): a folder must exist
and be writable when it is saved, so "Send" never learns at the last moment that it is missing.
Partner ids are the suppliers' master data (format, qualifier, interchange id); our own id per
branch is ``DEPOT<branch code>`` (``common.our_id``) and is shown for partners to configure.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.parties import Supplier
from app.services import audit
from app.services.auth import Actor
from app.services.edi.common import OUR_QUALIFIER
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.ownership import ownership

FORMATS = ("", "x12", "edifact")


def check_folder(value: str, field: str) -> str:
    """'' (not set) or an existing, writable folder; never created silently."""
    text = (value or "").strip()
    if not text:
        return ""
    p = Path(text).expanduser()
    if not p.exists():
        raise ValidationError(field, f"{p} does not exist: create the folder first (or choose another)")
    if not p.is_dir():
        raise ValidationError(field, f"{p} is a file, not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise ValidationError(field, f"{p} is not writable by this user")
    return str(p)


def folders(settings: Any) -> tuple[str, str]:
    return str(settings.get("edi.outbound_dir", "") or ""), str(settings.get("edi.inbound_dir", "") or "")


def save_folders(settings: Any, outbound: str, inbound: str) -> tuple[str, str]:
    """Both checked first; neither stored when one is wrong."""
    out = check_folder(outbound, "EDI outbound folder")
    inn = check_folder(inbound, "EDI inbound folder")
    if out and inn and Path(out).resolve() == Path(inn).resolve():
        raise ValidationError("EDI inbound folder", "must differ from the outbound folder (we would read our own files)")
    settings.set("edi.outbound_dir", out)
    settings.set("edi.inbound_dir", inn)
    return out, inn


@dataclass(frozen=True)
class Partner:
    supplier_id: uuid.UUID
    code: str
    name: str
    edi_format: str
    qualifier: str
    edi_id: str
    email: str


def partners(session: Session) -> list[Partner]:
    """Every active supplier with how it receives orders (EDI format and ids, or e-mail)."""
    return [Partner(s.id, s.code, s.name, s.edi_format, s.edi_qualifier, s.edi_id, s.contact_email)
            for s in session.scalars(select(Supplier).where(Supplier.deleted_at.is_(None), Supplier.active.is_(True))
                                     .order_by(Supplier.code))]


def our_ids(session: Session) -> list[tuple[str, str, str]]:
    """(branch code, qualifier, interchange id) partners must send to."""
    return [(b.code, OUR_QUALIFIER, f"DEPOT{b.code}") for b in session.scalars(
        select(Branch).where(Branch.deleted_at.is_(None)).order_by(Branch.code))]


def set_partner(session: Session, actor: Actor, code: str, edi_format: str, qualifier: str, edi_id: str) -> Supplier:
    """Set a supplier's EDI format and ids (head-office master data; audited)."""
    actor.require("settings.edit")
    own = ownership(session)
    if own.enforced and not own.head_office:
        raise PermissionDenied("suppliers' EDI ids are head-office master data: change them at head office")
    sup = session.scalars(select(Supplier).where(Supplier.code == code.strip().upper())).one_or_none()
    if sup is None or sup.deleted_at is not None:
        raise NotFound("supplier", code)
    fmt = (edi_format or "").strip().lower()
    if fmt not in FORMATS:
        raise ValidationError("EDI format", f"{edi_format!r} is not x12 or edifact (or empty for e-mail only)")
    q, ident = (qualifier or "").strip().upper(), (edi_id or "").strip()
    if fmt and not ident:
        raise ValidationError("partner id", f"{sup.code} trades by {fmt}: give its interchange id (ISA08 / UNB recipient)")
    if len(q) > 2 or (q and not q.isalnum()):
        raise ValidationError("qualifier", f"{qualifier!r} is not a 2-character qualifier (e.g. ZZ, 01, 14)")
    if len(ident) > 35 or any(c in ident for c in "*~:+'\n"):
        raise ValidationError("partner id", f"{ident!r} is too long or holds an EDI separator")
    if ident:
        clash = session.scalar(select(Supplier.code).where(Supplier.edi_id == ident, Supplier.id != sup.id,
                                                           Supplier.deleted_at.is_(None)))
        if clash:
            raise ValidationError("partner id", f"{ident} is already {clash}'s: inbound files could not tell them apart")
    before = (sup.edi_format, sup.edi_qualifier, sup.edi_id)
    sup.edi_format, sup.edi_qualifier, sup.edi_id = fmt, (q or ("ZZ" if ident else "")), ident
    session.flush()
    audit.record(session, actor, "supplier.edi", "supplier", sup.id, sup.owner_branch_id,
                 before=list(before), after=[sup.edi_format, sup.edi_qualifier, sup.edi_id])
    return sup
