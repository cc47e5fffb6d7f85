"""Receiving KPI: dock-to-stock time.

A receipt posted by Receiving keeps when the truck arrived and when its last putaway was confirmed
(``receipt.arrived_at``, ``receipt.stocked_at``). History written straight into the ledger (the
seed, an adoption) has no receipt document: there a PO line's first receipt move to its last
putaway move is one delivery (``kpi_po_line``, app/models/kpi.py).
"""

from __future__ import annotations

from app.models.stamps import US_PER_DAY, sql_day, sql_iso, sql_seconds
from app.services.kpi.core import Kpi, register

# kpi_po_line's times are microseconds (``stamps``, 0026_kpi_times); the receipts' are ISO text
_HOURS = f"({sql_seconds('k.put_at')} - {sql_seconds('k.first_at')}) / 3600.0"

_ROWS = f"""
SELECT r.stocked_at AS at, r.warehouse_id AS wh, w.branch_id AS br, r.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier,
       (julianday(substr(r.stocked_at, 1, 19)) - julianday(substr(r.arrived_at, 1, 19))) * 24 AS num, 1 AS den,
       r.number AS doc, s.name AS party,
       'arrived ' || substr(r.arrived_at, 1, 16) || ', in stock ' || substr(r.stocked_at, 1, 16) AS detail,
       CASE WHEN julianday(r.stocked_at) - julianday(r.arrived_at) > 1 THEN 1 ELSE 0 END AS bad
FROM receipt r JOIN warehouse w ON w.id = r.warehouse_id LEFT JOIN supplier s ON s.id = r.supplier_id
WHERE r.stocked_at IS NOT NULL AND r.stocked_at >= :start AND r.stocked_at < :end
UNION ALL
SELECT {sql_iso('k.put_at')}, k.warehouse_id, k.branch_id, k.supplier_id, NULL, NULL, {_HOURS}, 1,
       p.number || '/' || pl.line_no, s.name,
       'received ' || substr({sql_iso('k.first_at')}, 1, 16) || ', put away ' || substr({sql_iso('k.put_at')}, 1, 16),
       CASE WHEN k.put_at - k.first_at > {US_PER_DAY} THEN 1 ELSE 0 END
FROM kpi_po_line k
LEFT JOIN purchase_order_line pl ON pl.id = k.po_line_id
LEFT JOIN purchase_order p ON p.id = k.po_id
LEFT JOIN supplier s ON s.id = k.supplier_id
WHERE {{plus}}k.put_at >= :start_us AND {{plus}}k.put_at < :end_us AND k.first_at IS NOT NULL
"""

_FACTS = f"""
SELECT r.stocked_at AS at, r.warehouse_id AS wh, w.branch_id AS br, r.supplier_id AS supplier, NULL AS customer,
       NULL AS carrier, (julianday(substr(r.stocked_at, 1, 19)) - julianday(substr(r.arrived_at, 1, 19))) * 24 AS num,
       1 AS den
FROM receipt r JOIN warehouse w ON w.id = r.warehouse_id
WHERE r.stocked_at IS NOT NULL AND r.stocked_at >= :start AND r.stocked_at < :end
UNION ALL
SELECT {sql_day('k.put_at')}, k.warehouse_id, k.branch_id, k.supplier_id, NULL, NULL, {_HOURS}, 1
FROM kpi_po_line k WHERE {{plus}}k.put_at >= :start_us AND {{plus}}k.put_at < :end_us AND k.first_at IS NOT NULL
"""

register(Kpi(
    key="dock_to_stock", title="Dock-to-stock time", area="receiving", unit="hours", kind="mean",
    better="lower", target=8.0,
    definition="Hours from a delivery's arrival at the dock to its last putaway, for deliveries whose "
               "stock was all put away in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=_ROWS, facts_sql=_FACTS,
))
