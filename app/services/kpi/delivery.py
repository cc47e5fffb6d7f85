"""Delivery KPI: shipments delivered on time against the date promised to the customer.

Tracking keeps each shipment's promised date and its delivery (from the carrier's events); a
shipment without a promise (on the shipment or its order) is left out, not counted as on time.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, register

_PROMISED = "COALESCE(sh.promised_date, o.promised_date, o.requested_date)"

register(Kpi(
    key="on_time_delivery", title="On-time delivery", area="delivery", unit="%", kind="ratio",
    better="higher", target=95.0,
    definition="Shipments delivered on or before the date promised to the customer (the shipment's "
               "promise, else its order's), of the shipments delivered in the period that had one",
    dims=frozenset({"branch", "warehouse", "customer", "carrier"}),
    rows_sql=f"""
SELECT sh.delivered_at AS at, sh.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier,
       o.customer_id AS customer, sh.carrier_id AS carrier,
       CASE WHEN {_PROMISED} IS NOT NULL AND substr(sh.delivered_at, 1, 10) <= {_PROMISED} THEN 1 ELSE 0 END AS num,
       CASE WHEN {_PROMISED} IS NULL THEN 0 ELSE 1 END AS den,
       sh.number AS doc, c.name AS party,
       ca.code || ' ' || sh.tracking_number || ': promised ' || COALESCE({_PROMISED}, '(none)') ||
         ', delivered ' || substr(sh.delivered_at, 1, 10) AS detail,
       CASE WHEN {_PROMISED} IS NOT NULL AND substr(sh.delivered_at, 1, 10) > {_PROMISED} THEN 1 ELSE 0 END AS bad
FROM shipment sh
JOIN warehouse w ON w.id = sh.warehouse_id
LEFT JOIN sales_order o ON o.id = sh.sales_order_id
LEFT JOIN customer c ON c.id = o.customer_id
LEFT JOIN carrier ca ON ca.id = sh.carrier_id
WHERE sh.delivered_at IS NOT NULL AND sh.deleted_at IS NULL
  AND sh.delivered_at >= :start AND sh.delivered_at < :end
""",
))
