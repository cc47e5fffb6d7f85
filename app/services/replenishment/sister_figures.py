"""Sister warehouses' figures on a branch that does not hold their ledger (selective replication).

Under selective replication a branch pulls no sister's moves, orders or transfers (except those
that concern its own warehouses), so its own arrays would show a sister nearly empty, or worse,
half a transfer. For transfer-vs-buy it needs only each sister's surplus per item; the sister's
own branch publishes it in ``warehouse_figures`` (``figures_publish``), which every branch pulls.
Here the run takes a sister's surplus column from those rows instead of from local arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.types import hex_of
from app.services.db import local_scope


def sister_surplus(session: Session, surplus: Any, warehouses: list[tuple[str, str, str]],
                   item_ix: dict[str, int]) -> Any:
    """``surplus`` with the columns of the warehouses this file does not hold in full replaced by
    their published figures (on hand - allocated - outbound - order-up-to; none published: none)."""
    held = local_scope(session)
    if held is None:
        return surplus
    cols = {h: v for v, (h, _code, _branch) in enumerate(warehouses) if h not in held}
    if not cols:
        return surplus
    out = surplus.copy()
    out[:, list(cols.values())] = 0
    # the current branch's rows only: a warehouse given to another branch leaves its old rows behind
    rows = session.execute(text(
        "SELECT f.item_id, f.warehouse_id, f.on_hand - f.allocated - f.outbound - f.order_up_to"
        " FROM warehouse_figures f JOIN warehouse w ON w.id = f.warehouse_id AND w.branch_id = f.owner_branch_id"
        " WHERE f.deleted_at IS NULL")).all()
    for item, wh, free in rows:
        i, v = item_ix.get(hex_of(item)), cols.get(hex_of(wh))
        if i is not None and v is not None:
            out[i, v] = int(free)
    return np.asarray(out, dtype=np.int64)
