"""Sales KPIs: fill rate (lines and units), OTIF, order cycle time, backorder value.

A line is counted when its order is due (the requested date, else the order date) in the period
and no later than today: a line not yet due is not a failure yet. Cancelled orders and lines and
drafts are left out.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, register

_DUE = "COALESCE(o.requested_date, o.order_date)"
_LINES = f"""
SELECT {_DUE} AS at, o.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier, o.customer_id AS customer,
       NULL AS carrier, {{num}} AS num, {{den}} AS den, o.number || '/' || l.line_no AS doc, c.name AS party,
       'shipped ' || l.qty_shipped || ' of ' || l.qty_ordered ||
         CASE WHEN l.qty_allocated > 0 THEN ' (' || l.qty_allocated || ' reserved)' ELSE '' END AS detail,
       CASE WHEN l.qty_shipped < l.qty_ordered THEN 1 ELSE 0 END AS bad
FROM sales_order o
JOIN sales_order_line l ON l.order_id = o.id
JOIN warehouse w ON w.id = o.warehouse_id
LEFT JOIN customer c ON c.id = o.customer_id
WHERE o.status NOT IN ('draft', 'cancelled') AND l.status <> 'cancelled' AND o.deleted_at IS NULL
  AND {_DUE} >= :start AND {_DUE} < :end AND {_DUE} < :today
"""

register(Kpi(
    key="fill_rate_lines", title="Fill rate (lines)", area="sales", unit="%", kind="ratio", better="higher",
    target=95.0,
    definition="Order lines shipped in full, of the lines due in the period (due = requested date, else "
               "order date; lines due after today are not counted yet)",
    dims=frozenset({"branch", "warehouse", "customer"}),
    rows_sql=_LINES.format(num="CASE WHEN l.qty_shipped >= l.qty_ordered THEN 1 ELSE 0 END", den="1"),
))

register(Kpi(
    key="fill_rate_units", title="Fill rate (units)", area="sales", unit="%", kind="ratio", better="higher",
    target=97.0,
    definition="Units shipped (up to the ordered quantity), of the units ordered on the lines due in the period",
    dims=frozenset({"branch", "warehouse", "customer"}),
    rows_sql=_LINES.format(num="MIN(l.qty_shipped, l.qty_ordered)", den="l.qty_ordered"),
))

#: per order: its last delivery, the date promised and whether every line went out in full
_DELIVERED = """
SELECT o.id AS order_id, MAX(sh.delivered_at) AS delivered_at,
       COALESCE(MAX(sh.promised_date), o.promised_date, o.requested_date) AS promised,
       MAX(sh.carrier_id) AS carrier_id
FROM shipment sh JOIN sales_order o ON o.id = sh.sales_order_id
WHERE sh.delivered_at IS NOT NULL AND sh.deleted_at IS NULL AND sh.delivered_at >= :start
  AND sh.delivered_at < :end
GROUP BY o.id
"""
_FULL = """(SELECT COUNT(*) FROM sales_order_line l WHERE l.order_id = o.id AND l.status <> 'cancelled'
            AND l.qty_shipped < l.qty_ordered) = 0"""
_ON_TIME = "substr(d.delivered_at, 1, 10) <= d.promised"
#: OTIF and order cycle time read one pass over the delivered orders
_DELIVERED_FACTS = f"""
SELECT d.delivered_at AS at, o.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier, o.customer_id AS customer,
       d.carrier_id AS carrier, d.promised IS NOT NULL AND {_ON_TIME} AND {_FULL} AS otif, d.promised IS NOT NULL AS due,
       julianday(substr(d.delivered_at, 1, 19)) - julianday(o.order_date) AS days
FROM ({_DELIVERED}) d JOIN sales_order o ON o.id = d.order_id JOIN warehouse w ON w.id = o.warehouse_id
"""

register(Kpi(
    key="otif", title="OTIF", area="sales", unit="%", kind="ratio", better="higher", target=95.0,
    definition="Orders delivered on time (last delivery on or before the promised date: the shipment's, "
               "else the order's promise, else its requested date) and in full (every line shipped in "
               "full), of the orders whose last delivery fell in the period and that had a date to meet",
    dims=frozenset({"branch", "warehouse", "customer", "carrier"}),
    facts_sql=_DELIVERED_FACTS, share=("delivered_orders", "otif", "due"),
    rows_sql=f"""
SELECT d.delivered_at AS at, o.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier,
       o.customer_id AS customer, d.carrier_id AS carrier,
       CASE WHEN d.promised IS NOT NULL AND {_ON_TIME} AND {_FULL} THEN 1 ELSE 0 END AS num,
       CASE WHEN d.promised IS NULL THEN 0 ELSE 1 END AS den,
       o.number AS doc, c.name AS party,
       'promised ' || COALESCE(d.promised, '(none)') || ', delivered ' || substr(d.delivered_at, 1, 10) ||
         CASE WHEN {_FULL} THEN '' ELSE ', short' END AS detail,
       CASE WHEN d.promised IS NOT NULL AND NOT ({_ON_TIME} AND {_FULL}) THEN 1 ELSE 0 END AS bad
FROM ({_DELIVERED}) d
JOIN sales_order o ON o.id = d.order_id
JOIN warehouse w ON w.id = o.warehouse_id
LEFT JOIN customer c ON c.id = o.customer_id
""",
))

register(Kpi(
    key="order_cycle_time", title="Order cycle time", area="sales", unit="days", kind="mean", better="lower",
    target=5.0,
    definition="Days from the order date to the order's last delivery, for orders whose last delivery "
               "fell in the period",
    dims=frozenset({"branch", "warehouse", "customer", "carrier"}),
    facts_sql=_DELIVERED_FACTS, share=("delivered_orders", "days", "1"),
    rows_sql=f"""
SELECT d.delivered_at AS at, o.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier,
       o.customer_id AS customer, d.carrier_id AS carrier,
       julianday(substr(d.delivered_at, 1, 19)) - julianday(o.order_date) AS num, 1 AS den,
       o.number AS doc, c.name AS party,
       'ordered ' || o.order_date || ', delivered ' || substr(d.delivered_at, 1, 10) AS detail,
       CASE WHEN julianday(substr(d.delivered_at, 1, 10)) - julianday(o.order_date) > 7 THEN 1 ELSE 0 END AS bad
FROM ({_DELIVERED}) d
JOIN sales_order o ON o.id = d.order_id
JOIN warehouse w ON w.id = o.warehouse_id
LEFT JOIN customer c ON c.id = o.customer_id
""",
))

register(Kpi(
    key="backorder_value", title="Backorder value", area="sales", unit="money", kind="sum", better="lower",
    total="last", snapshot=True,
    definition="Value (at the line's price) of what backordered orders still need and have no stock "
               "reserved for, now (a snapshot: the ledger of allocations is not replayed for the past)",
    dims=frozenset({"branch", "warehouse", "customer"}),
    rows_sql="""
SELECT date(:today, '-1 days') AS at, o.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier,
       o.customer_id AS customer, NULL AS carrier,
       (l.qty_ordered - l.qty_shipped - l.qty_allocated) * l.unit_price / 10000.0 AS num, 0 AS den,
       o.number || '/' || l.line_no AS doc, c.name AS party,
       (l.qty_ordered - l.qty_shipped - l.qty_allocated) || ' short; ' || COALESCE(NULLIF(l.promise, ''), 'no promise')
         AS detail, 1 AS bad
FROM sales_order o
JOIN sales_order_line l ON l.order_id = o.id
JOIN warehouse w ON w.id = o.warehouse_id
LEFT JOIN customer c ON c.id = o.customer_id
WHERE o.status = 'backordered' AND o.deleted_at IS NULL AND l.status = 'open'
  AND l.qty_ordered - l.qty_shipped - l.qty_allocated > 0
""",
))
