"""Customer notice templates: one per kind (shipped, eta, delivered, exception), built in and
overridable per branch (Settings > Tracking). ``$name`` placeholders; an unknown one is refused
when the template is saved, never discovered when a customer's mail is written."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from app.models.tracking import NOTICE_KINDS
from app.services.errors import ValidationError

#: placeholder -> what it is (shown in Settings > Tracking)
PLACEHOLDERS = {
    "customer": "the customer's name",
    "order": "our order number",
    "customer_po": "the customer's own order reference",
    "shipment": "our shipment number",
    "carrier": "the carrier's name",
    "tracking": "the tracking number",
    "eta": "the carrier's expected delivery date",
    "previous_eta": "the date expected before (ETA notices)",
    "promised": "the delivery date we promised",
    "status": "what the carrier says now",
    "location": "where the carrier saw it last",
    "delivered_at": "when it was delivered (delivered notices)",
    "signed_by": "who signed for it (delivered notices)",
    "action": "what we do about it (exception notices)",
    "branch": "the branch that shipped it",
}

DEFAULTS: dict[str, dict[str, str]] = {
    "shipped": {
        "subject": "Your order $order has shipped",
        "body": "Hello $customer,\n\nyour order $order (your reference $customer_po) has left our $branch "
                "warehouse with $carrier.\n\nTracking number: $tracking\nExpected delivery: $eta\n\n"
                "Thank you for your order.\n$branch",
    },
    "eta": {
        "subject": "New delivery date for your order $order: $eta",
        "body": "Hello $customer,\n\n$carrier now expects to deliver your order $order (your reference "
                "$customer_po) on $eta (before: $previous_eta).\nWhat the carrier says: $status\n\n"
                "Tracking number: $tracking\n\nWe are sorry for the delay.\n$branch",
    },
    "delivered": {
        "subject": "Your order $order was delivered",
        "body": "Hello $customer,\n\n$carrier delivered your order $order (your reference $customer_po) on "
                "$delivered_at, signed for by $signed_by.\n\nTracking number: $tracking\n\n"
                "Thank you for your business.\n$branch",
    },
    "exception": {
        "subject": "A problem with the delivery of your order $order",
        "body": "Hello $customer,\n\n$carrier reports a problem with your order $order (your reference "
                "$customer_po): $status ($location).\n\nWhat we do: $action\n\nTracking number: $tracking\n"
                "We will keep you informed.\n$branch",
    },
}


def _placeholders(text: str) -> set[str]:
    names: set[str] = set()
    for m in string.Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            raise ValueError("a lone $ (write $$ for a dollar sign)")
        name = m.group("named") or m.group("braced")
        if name:
            names.add(name)
    return names


def check_templates(templates: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The overrides as stored: known kinds, subject and body text, known placeholders only."""
    out: dict[str, dict[str, str]] = {}
    if not isinstance(templates, Mapping):
        raise ValidationError("templates", "must map a notice kind to its subject and body")
    for kind, tpl in templates.items():
        if kind not in NOTICE_KINDS:
            raise ValidationError("templates", f"{kind!r} is not a notice (known: {', '.join(NOTICE_KINDS)})")
        if not isinstance(tpl, Mapping):
            raise ValidationError(f"{kind} template", "must have a subject and a body")
        entry: dict[str, str] = {}
        for part in ("subject", "body"):
            text = tpl.get(part)
            if text is None:
                continue
            if not isinstance(text, str) or (part == "subject" and not text.strip()):
                raise ValidationError(f"{kind} {part}", "must be text (a subject must not be empty)")
            try:
                unknown = sorted(_placeholders(text) - set(PLACEHOLDERS))
            except ValueError as e:
                raise ValidationError(f"{kind} {part}", str(e)) from None
            if unknown:
                raise ValidationError(f"{kind} {part}", f"${unknown[0]} is not a placeholder "
                                      f"(known: {', '.join('$' + p for p in PLACEHOLDERS)})")
            if len(text) > (200 if part == "subject" else 5000):
                raise ValidationError(f"{kind} {part}", "is too long")
            entry[part] = text
        if entry:
            out[str(kind)] = entry
    return out


def render(kind: str, values: Mapping[str, str], overrides: Mapping[str, Mapping[str, str]] | None = None
           ) -> tuple[str, str]:
    """(subject, body) of notice ``kind``; a missing value reads "-" rather than failing a mail."""
    tpl = {**DEFAULTS[kind], **dict((overrides or {}).get(kind, {}))}
    full = {p: (values.get(p) or "-") for p in PLACEHOLDERS}
    subject = string.Template(tpl["subject"]).safe_substitute(full)
    body = string.Template(tpl["body"]).safe_substitute(full)
    return " ".join(subject.split())[:200], body


#: what the Settings page previews a template with
SAMPLE = {"customer": "BuildCo Contractors", "order": "DAL-SO-000123", "customer_po": "PO-4471",
          "shipment": "DAL-SH-000045", "carrier": "UPS", "tracking": "1Z999AA10123456784", "eta": "Tue 08 Dec 2026",
          "previous_eta": "Mon 07 Dec 2026", "promised": "Mon 07 Dec 2026", "status": "Severe weather delayed delivery",
          "location": "LOUISVILLE, KY", "delivered_at": "2026-12-08 14:02 UTC", "signed_by": "R. CHEN",
          "action": "we are in touch with the carrier and will reship if needed", "branch": "Dallas"}
