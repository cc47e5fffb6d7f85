"""A partner's acknowledgements of files Depot sent: X12 997 and TA1, EDIFACT CONTRL.

They are read, matched to the file they answer (our outbound message with that control
number), recorded on the PO's message list, and a rejection becomes an exception for the
buyer. They are never acknowledged back: two systems that acknowledge acknowledgements
answer each other forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.edi import SupplierMessage
from app.models.parties import Supplier
from app.models.purchasing import PurchaseOrder
from app.models.types import utcnow
from app.services import audit, exception_inbox
from app.services.auth import Actor
from app.services.edi import edifact, x12
from app.services.errors import DomainError
from app.services.ownership import owns

_AK9 = {"A": "accepted", "E": "accepted with errors", "P": "partly accepted", "R": "rejected", "M": "rejected",
        "W": "rejected", "X": "rejected"}
_TA1 = {"A": "accepted", "E": "accepted with errors", "R": "rejected"}
#: CONTRL UCI04 (0083): 4 and 6 reject the interchange, the rest acknowledge it
_UCI = {"1": "accepted", "2": "accepted with errors", "3": "partly rejected", "4": "rejected", "5": "accepted",
        "6": "rejected", "7": "accepted", "8": "received"}


@dataclass
class Ack:
    """One acknowledgement: which of our files (control number) and what the partner said."""

    standard: str
    sender: str
    control: str  # the interchange control of the acknowledgement itself
    ack_control: str  # the acknowledgement's own set/message reference
    our_control: str  # our group (997 AK1) or interchange (TA1, CONTRL UCI) control number
    verdict: str  # accepted, accepted with errors, partly accepted, rejected, received
    detail: str

    @property
    def rejected(self) -> bool:
        return "reject" in self.verdict


def read(text: str, standard: str) -> list[Ack]:
    """Every acknowledgement in an interchange file (no database)."""
    out: list[Ack] = []
    if standard == "x12":
        for ic in x12.parse_all(text):
            for seg in ic.ta1:
                code = x12.el(seg, 4)
                out.append(Ack("x12", ic.sender_id, ic.control, x12.el(seg, 1), x12.el(seg, 1),
                               _TA1.get(code, f"code {code}"), f"TA1 note {x12.el(seg, 5) or '-'}"))
            for tx in ic.transactions:
                if tx.set_id not in ("997", "999"):
                    continue
                ak1 = next((s for s in tx.body if s[0].strip() == "AK1"), None)
                ak9 = next((s for s in tx.body if s[0].strip() in ("AK9", "IK9")), None)
                if ak1 is None or ak9 is None:
                    raise DomainError(f"{tx.set_id} {tx.control}: no AK1 or AK9 segment (not an acknowledgement)")
                rejected = [f"{x12.el(s, 1)} {x12.el(s, 2)}" for s, nxt in zip(tx.body, tx.body[1:], strict=False)
                            if s[0].strip() == "AK2" and nxt[0].strip() in ("AK5", "IK5") and x12.el(nxt, 1) == "R"]
                code = x12.el(ak9, 1)
                detail = f"{tx.set_id} for group {x12.el(ak1, 2)} ({x12.el(ak1, 1)})"
                if rejected:
                    detail += f"; sets rejected: {', '.join(rejected)}"
                out.append(Ack("x12", ic.sender_id, ic.control, tx.control, x12.el(ak1, 2),
                               _AK9.get(code, f"code {code}"), detail))
    else:
        for ie in edifact.parse_all(text):
            for m in ie.messages:
                uci = next((s for s in m.body if s.tag == "UCI"), None)
                if m.type != "CONTRL" or uci is None:
                    continue
                code = uci.get(3)
                out.append(Ack("edifact", ie.sender, ie.control, m.ref, uci.get(0), _UCI.get(code, f"code {code}"),
                               f"CONTRL for interchange {uci.get(0)}"))
    if not out:
        raise DomainError("the file holds no acknowledgement Depot can read")
    return out


def _ours(session: Session, ack: Ack) -> SupplierMessage | None:
    """Our outbound message the acknowledgement answers: same partner, same control number."""
    try:
        control = str(int(ack.our_control))
    except ValueError:
        return None
    return session.scalars(select(SupplierMessage).where(
        SupplierMessage.direction == "out", SupplierMessage.standard == ack.standard,
        SupplierMessage.partner_ref == ack.sender, SupplierMessage.interchange_control == control)).first()


def record(session: Session, actor: Actor | None, text: str, standard: str, file_name: str) -> list[str]:
    """Record every acknowledgement of the file; returns one line per acknowledgement.

    Matched ones become an inbound message on the PO (once: the same file again changes nothing);
    a rejection raises ``edi.ack_rejected`` for the buyer. One whose file Depot cannot find is
    reported and changes nothing."""
    lines: list[str] = []
    for ack in read(text, standard):
        ours = _ours(session, ack)
        if ours is None or ours.po_id is None:
            lines.append(f"{ack.detail} from {ack.sender}: {ack.verdict} (Depot sent no file with control "
                         f"{ack.our_control} to {ack.sender}; nothing recorded)")
            continue
        po = session.get(PurchaseOrder, ours.po_id)
        if po is None or not owns(session, po.owner_branch_id):
            lines.append(f"{ack.detail} from {ack.sender}: {ack.verdict} (for another branch's PO; it records it)")
            continue
        key = f"in:{ack.standard}:{ack.sender}:{ack.control}:{ack.ack_control}:{ack.our_control}"
        if session.scalars(select(SupplierMessage.id).where(SupplierMessage.dedupe_key == key)).first():
            lines.append(f"{ack.detail} from {ack.sender}: {ack.verdict} (recorded before; nothing changed)")
            continue
        supplier = session.scalars(select(Supplier).where(Supplier.id == ours.supplier_id)).first()
        msg = SupplierMessage(
            direction="in", standard=ack.standard, msg_type="997" if ack.standard == "x12" else "CONTRL",
            supplier_id=supplier.id if supplier else None, partner_ref=ack.sender[:40],
            interchange_control=ack.control[:20], control_number=ack.ack_control[:20], dedupe_key=key[:120],
            file_name=file_name[:255], status="differences" if ack.rejected else "processed", po_id=po.id,
            po_number=po.number, doc_ref=ours.msg_type, owner_branch_id=po.owner_branch_id, received_at=utcnow(),
            differences=1 if ack.rejected else 0,
            summary=f"{ack.detail}: our {ours.msg_type} for {po.number} {ack.verdict}",
        )
        session.add(msg)
        session.flush()
        audit.record(session, actor, "edi.ack", "supplier_message", msg.id, po.owner_branch_id,
                     po=po.number, verdict=ack.verdict, file=file_name)
        if ack.rejected:
            exception_inbox.raise_exception(
                session, actor, kind="edi.ack_rejected", title=f"PO {po.number}: the supplier's system rejected our "
                f"{ours.msg_type}", detail=f"{ack.detail}: {ack.verdict}. Check the file and send the PO again.",
                severity="error", role="buyer", entity="purchase_order", entity_id=po.id, entity_ref=po.number,
                owner_branch_id=po.owner_branch_id, key=f"{key}:rejected")
        lines.append(f"{ack.detail} from {ack.sender}: our {ours.msg_type} for PO {po.number} {ack.verdict}")
    return lines
