"""Carriers and their services from a legacy system: one row per service, grouped by carrier.

A carrier the database does not know yet is created from its first row (name, api); services go
on the carrier, new or known. Head-office master data like items and suppliers. Carrier accounts
(credentials) are not imported: their secrets belong in the keyring, entered at Settings > Carriers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.parties import SERVICE_LEVELS, Carrier, CarrierService
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.importer.fields import Field, Problem, Row, boolean, choice, code, text, whole
from app.services.masterdata import head_office_id

#: the adapters Depot has (app/services/carriers/adapters and the sandbox)
APIS = ("ups", "fedex", "dhl", "usps", "sandbox")

CARRIER_FIELDS = [
    Field("carrier", code(12), True), Field("service_code", code(20), True), Field("service_name", text(80), True),
    Field("carrier_name", text(80)), Field("api", choice(*APIS)), Field("service_level", choice(*SERVICE_LEVELS)),
    Field("transit_days", whole), Field("active", boolean),
]


def prepare_carriers(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    carriers = {c.code: c for c in session.scalars(select(Carrier).where(Carrier.deleted_at.is_(None)))}
    services = {(cid, c) for cid, c in session.execute(select(CarrierService.carrier_id, CarrierService.code))}
    first: dict[str, Row] = {}
    out = []
    for row in rows:
        v = row.values
        errors = []
        known = carriers.get(v["carrier"])
        if known is not None and (known.id, v["service_code"]) in services:
            errors.append(f"service {v['service_code']} of carrier {v['carrier']} already exists in the database")
        if known is None:
            lead = first.setdefault(v["carrier"], row)
            if lead is row and not v.get("carrier_name"):
                errors.append(f"carrier_name: carrier {v['carrier']} is new: give its name")
            elif lead is not row and v.get("carrier_name") and v["carrier_name"] != lead.values.get("carrier_name"):
                errors.append(f"carrier_name: {v['carrier_name']!r} differs from line {lead.line} of carrier "
                              f"{v['carrier']}")
        if v.get("transit_days", 1) > 60:
            errors.append(f"transit_days: {v['transit_days']} is more than 60")
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        out.append({**v, "_carrier": known})
    return out


def write_carriers(session: Session, actor: Actor | None, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session).hex
    stamp = Stamp.take(session)
    new: dict[str, str] = {}
    carriers = []
    for v in rows:
        if v["_carrier"] is None and v["carrier"] not in new:
            new[v["carrier"]] = new_id()
            carriers.append((new[v["carrier"]], ho, stamp.now, stamp.now, stamp.hlc, stamp.site, v["carrier"],
                             v["carrier_name"], v.get("api", "sandbox"), int(v.get("active", True))))
    BulkInsert(session, Carrier, ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "code",
                                  "name", "api", "active")).write(carriers)
    services = [(new_id(), ho, stamp.now, stamp.now, stamp.hlc, stamp.site,
                 v["_carrier"].id.hex if v["_carrier"] is not None else new[v["carrier"]], v["service_code"],
                 v["service_name"], v.get("service_level", "standard"), v.get("transit_days", 3)) for v in rows]
    return BulkInsert(session, CarrierService, ("id", "owner_branch_id", "created_at", "updated_at", "hlc",
                                                "hlc_site", "carrier_id", "code", "name", "service_level",
                                                "transit_days")).write(services)
