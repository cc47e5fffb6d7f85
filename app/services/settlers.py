"""Imports the modules whose settlers ``ownership.settle_all`` runs after every pull.

A settler brings this site's own documents in line with rows other branches wrote about them
(see ``app.services.ownership``). Each domain module registers its own with ``@settler``.
"""

from __future__ import annotations

import app.services.buying.approvals  # noqa: F401  (PO status from other branches' decisions)
import app.services.buying.po_receipts  # noqa: F401  (expected receipts of other branches' POs)
import app.services.buying.requisitions  # noqa: F401  (requisitions another branch put on a PO)
import app.services.edi.asn_receipts  # noqa: F401  (ASN receipts for this branch from another's ship notice)
import app.services.inventory.backorders  # noqa: F401  (backorders served from another branch)
import app.services.inventory.transfer_settle  # noqa: F401  (transfers: expected receipts, receipts)
import app.services.receiving.double_receipts  # noqa: F401  (one delivery posted on two offline workstations)
import app.services.receiving.rollup  # noqa: F401  (PO received quantities from other branches' receipts)
