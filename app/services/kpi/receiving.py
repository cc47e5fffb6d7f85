"""Receiving KPI: dock-to-stock time.

A receipt posted by Receiving keeps when the truck arrived and when its last putaway was confirmed
(``receipt.arrived_at``, ``receipt.stocked_at``). History written straight into the ledger (the
seed, an adoption) has no receipt document: there a PO line's first receipt move to its last
putaway move is one delivery.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, register

_ROWS = """
SELECT r.stocked_at AS at, r.warehouse_id AS wh, w.branch_id AS br, r.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier,
       (julianday(substr(r.stocked_at, 1, 19)) - julianday(substr(r.arrived_at, 1, 19))) * 24 AS num, 1 AS den,
       r.number AS doc, s.name AS party,
       'arrived ' || substr(r.arrived_at, 1, 16) || ', in stock ' || substr(r.stocked_at, 1, 16) AS detail,
       CASE WHEN julianday(r.stocked_at) - julianday(r.arrived_at) > 1 THEN 1 ELSE 0 END AS bad
FROM receipt r JOIN warehouse w ON w.id = r.warehouse_id LEFT JOIN supplier s ON s.id = r.supplier_id
WHERE r.stocked_at IS NOT NULL AND r.stocked_at >= :start AND r.stocked_at < :end
UNION ALL
SELECT x.put_at, pl.ship_to_warehouse_id, w.branch_id, p.supplier_id, NULL, NULL,
       (julianday(substr(x.put_at, 1, 19)) - julianday(substr(x.rec_at, 1, 19))) * 24, 1,
       p.number || '/' || pl.line_no, s.name,
       'received ' || substr(x.rec_at, 1, 16) || ', put away ' || substr(x.put_at, 1, 16),
       CASE WHEN julianday(x.put_at) - julianday(x.rec_at) > 1 THEN 1 ELSE 0 END
FROM (SELECT doc_line_id AS pol, MIN(CASE WHEN reason = 'receipt' THEN moved_at END) AS rec_at,
             MAX(CASE WHEN reason = 'putaway' THEN moved_at END) AS put_at
      FROM stock_move WHERE doc_type = 'PO' AND reason IN ('receipt', 'putaway')
       AND moved_at >= date(:start, '-31 days') AND moved_at < :end
      GROUP BY doc_line_id) x
JOIN purchase_order_line pl ON pl.id = x.pol
JOIN purchase_order p ON p.id = pl.po_id
JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
LEFT JOIN supplier s ON s.id = p.supplier_id
WHERE x.rec_at IS NOT NULL AND x.put_at IS NOT NULL
"""

register(Kpi(
    key="dock_to_stock", title="Dock-to-stock time", area="receiving", unit="hours", kind="mean",
    better="lower", target=8.0,
    definition="Hours from a delivery's arrival at the dock to its last putaway, for deliveries whose "
               "stock was all put away in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=_ROWS,
))
