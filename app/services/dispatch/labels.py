"""Carrier labels: buy one for a packed shipment's chosen service, void one.

Buying is three steps (read, ask the carrier with no transaction open, write), so a carrier that
fails or times out leaves the shipment exactly as it was: packed, no label, ready to try again;
never half-shipped (nothing moves until ship confirmation). If the shipment changed while the
carrier answered (someone voided, cancelled or bought another label), the new label is voided at
the carrier at once and nothing is written. A carton over the carrier's parcel limit is refused
before anyone is asked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.models.packing import ShipmentLabel
from app.models.parties import Carrier
from app.models.shipping import Shipment
from app.services.auth import Actor
from app.services.carriers import accounts as ac
from app.services.carriers.model import Label, ShipmentRequest
from app.services.db import session_scope
from app.services.dispatch.confirm import find_shipment
from app.services.dispatch.parcels import overweight, shipment_request
from app.services.dispatch.rating import AdapterFactory
from app.services.errors import Conflict, DomainError, ValidationError
from app.services.settings import Settings
from app.services.workflow import transition


class CarrierFailed(DomainError):
    """The carrier did not issue (or void) the label: its outcome and words, nothing changed here."""


@dataclass
class LabelAsk:
    shipment_id: uuid.UUID
    number: str
    account: ac.AccountInfo
    service_code: str
    request: ShipmentRequest


@dataclass
class LabelResult:
    number: str
    tracking_number: str
    carrier: str
    service_code: str
    amount: str
    format: str
    label_id: uuid.UUID

    def sentence(self) -> str:
        return (f"{self.number}: {self.carrier} label {self.tracking_number} ({self.service_code}"
                f"{', ' + self.amount if self.amount else ''}); confirm the shipment when it leaves")


def _account(session: Session, s: Shipment, settings: Settings | None) -> ac.AccountInfo:
    if s.account_id is None or not s.service_code:
        raise Conflict(f"shipment {s.number} has no carrier service chosen yet: rate it first (depot rate {s.number})")
    return ac.get_account(session, s.account_id, settings)


def plan_label(session: Session, actor: Actor, ref: str | uuid.UUID, settings: Settings | None = None) -> LabelAsk:
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status != "packed":
        raise Conflict(f"shipment {s.number} is {s.status.replace('_', ' ')}: a label is bought for a packed shipment")
    if s.label_id is not None:
        raise Conflict(f"shipment {s.number} has label {s.label_number} already")
    info = _account(session, s, settings)
    if not info.active:
        raise Conflict(f"carrier account {info.label} is disabled")
    carrier = session.get(Carrier, s.carrier_id)
    assert carrier is not None
    why = overweight(session, s, carrier)
    if why:
        raise Conflict(why)
    return LabelAsk(s.id, s.number, info, s.service_code, shipment_request(session, s))


def record_label(session: Session, actor: Actor, ask: LabelAsk, label: Label) -> LabelResult:
    s = find_shipment(session, ask.shipment_id)
    if s.status != "packed" or s.label_id is not None or s.service_code != ask.service_code:
        raise Conflict(f"shipment {s.number} changed while the carrier answered")
    row = ShipmentLabel(shipment_id=s.id, account_id=ask.account.id, tracking_number=label.tracking_number,
                        service_code=label.service_code or ask.service_code, format=label.format, data=label.data,
                        amount=label.amount, currency=label.currency, carrier_ref=label.carrier_ref,
                        owner_branch_id=s.owner_branch_id)
    session.add(row)
    session.flush()
    s.label_id, s.label_number = row.id, label.tracking_number
    if label.amount is not None:
        s.freight_billed, s.freight_currency = label.amount, label.currency
    session.flush()
    return LabelResult(s.number, label.tracking_number, ask.account.label, row.service_code,
                       f"{label.amount} {label.currency}" if label.amount is not None else "", label.format, row.id)


def buy_label(engine: Engine, settings: Settings, actor: Actor, ref: str | uuid.UUID, *,
              factory: AdapterFactory | None = None) -> LabelResult:
    """Read, ask the carrier, write (see the module docstring)."""
    with session_scope(engine, write=False) as session:
        ask = plan_label(session, actor, ref, settings)
    adapter = (factory or (lambda info: ac.adapter_for(info, settings, engine)))(ask.account)
    reply = adapter.create_label(ask.request, ask.service_code)
    if not reply.ok or reply.label is None:
        raise CarrierFailed(f"{ask.account.label} issued no label for {ask.number} ({reply.outcome}): "
                            f"{reply.message or 'no reason given'}; the shipment is unchanged, try again")
    try:
        with session_scope(engine) as session:
            return record_label(session, actor, ask, reply.label)
    except DomainError:
        adapter.void(reply.label)  # nobody will ship on it: do not leave it billable at the carrier
        raise


def plan_void(session: Session, actor: Actor, ref: str | uuid.UUID,
              settings: Settings | None = None) -> tuple[Shipment, ShipmentLabel, ac.AccountInfo]:
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    label = session.get(ShipmentLabel, s.label_id) if s.label_id else None
    if label is None or label.status != "active":
        raise Conflict(f"shipment {s.number} has no label to void")
    if s.status != "packed":
        raise Conflict(f"shipment {s.number} is {s.status.replace('_', ' ')}: only a label not yet confirmed can "
                       "be voided here")
    if label.account_id is None:
        raise Conflict(f"label {label.tracking_number} has no carrier account on record")
    return s, label, ac.get_account(session, label.account_id, settings)


def void_label(engine: Engine, settings: Settings, actor: Actor, ref: str | uuid.UUID, reason: str, *,
               factory: AdapterFactory | None = None) -> str:
    """Void the shipment's unconfirmed label at the carrier, then here (the shipment stays packed)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("reason", "say why the label is voided")
    with session_scope(engine, write=False) as session:
        s, row, info = plan_void(session, actor, ref, settings)
        number, label_id = s.number, row.id
        label = Label(row.tracking_number, row.service_code, row.format, b"", row.amount, row.currency, row.carrier_ref)
    reply = (factory or (lambda i: ac.adapter_for(i, settings, engine)))(info).void(label)
    if not reply.ok:
        raise CarrierFailed(f"{info.label} did not void {label.tracking_number} ({reply.outcome}): "
                            f"{reply.message or 'no reason given'}; the label still stands")
    with session_scope(engine) as session:
        s = find_shipment(session, number)
        voided = session.get(ShipmentLabel, label_id)
        assert voided is not None
        voided.void_reason = reason[:200]
        transition(voided, "voided", actor, reason, shipment=number)
        if s.label_id == label_id:
            s.label_id, s.label_number, s.freight_billed = None, "", None
    return f"{number}: label {label.tracking_number} voided ({reason}); the shipment is packed, without a label"


__all__ = ["CarrierFailed", "LabelResult", "buy_label", "plan_label", "void_label"]
