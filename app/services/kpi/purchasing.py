"""Purchasing KPIs: supplier on-time and in-full, PO cycle time, approval time.

They read ``kpi_po_line`` (app/models/kpi.py): per PO line its first and last receipt and the
quantity received, from receipts posted by Receiving and from history written straight into the
ledger, kept in step by triggers; the line's due date and ordered quantity are as they stood at
its last receipt.
"""

from __future__ import annotations

from app.models.stamps import US_PER_DAY, sql_date, sql_day, sql_epoch_day, sql_iso, sql_seconds
from app.services.kpi.core import Kpi, register

# kpi_po_line's times are microseconds and its dates day numbers (``stamps``, 0026_kpi_times): bounds
# bind ``:start_us``/``:end_us``, rows show ISO text (``at``: the drill's time; the facts' day suffices)

_LINE_ROWS = f"""
SELECT {sql_iso('k.first_at')} AS at, k.warehouse_id AS wh, k.branch_id AS br, k.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier, {{num}} AS num, {{den}} AS den,
       p.number || '/' || pl.line_no AS doc, s.name AS party, {{detail}} AS detail, {{bad}} AS bad
FROM kpi_po_line k
LEFT JOIN purchase_order_line pl ON pl.id = k.po_line_id
LEFT JOIN purchase_order p ON p.id = k.po_id
LEFT JOIN supplier s ON s.id = k.supplier_id
WHERE {{{{plus}}}}k.first_at >= :start_us AND {{{{plus}}}}k.first_at < :end_us
"""

_ON_TIME = f"({sql_epoch_day('k.first_at')} <= k.expected_date)"
_IN_FULL = "(k.qty >= k.qty_ordered)"
#: what on-time and in-full count, read in one pass (no joins: the digest has what they need)
_LINE_FACTS = f"""
SELECT {sql_day('k.first_at')} AS at, k.warehouse_id AS wh, k.branch_id AS br, k.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier, k.expected_date IS NOT NULL AND {_ON_TIME} AS on_time,
       k.expected_date IS NOT NULL AS due, {_IN_FULL} AS in_full
FROM kpi_po_line k WHERE {{plus}}k.first_at >= :start_us AND {{plus}}k.first_at < :end_us
"""

register(Kpi(
    key="supplier_on_time", title="Supplier on time", area="purchasing", unit="%", kind="ratio",
    better="higher", target=95.0,
    definition="PO lines whose first receipt came on or before the line's expected date, of the lines "
               "first received in the period that have an expected date",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    facts_sql=_LINE_FACTS, share=("po_lines", "on_time", "due"),
    rows_sql=_LINE_ROWS.format(
        num=f"CASE WHEN k.expected_date IS NULL THEN 0 WHEN {_ON_TIME} THEN 1 ELSE 0 END",
        den="CASE WHEN k.expected_date IS NULL THEN 0 ELSE 1 END",
        detail=f"'due ' || COALESCE({sql_date('k.expected_date')}, '(no date)') || ', first received ' || "
               f"{sql_day('k.first_at')}",
        bad=f"CASE WHEN k.expected_date IS NOT NULL AND NOT {_ON_TIME} THEN 1 ELSE 0 END"),
))

register(Kpi(
    key="supplier_in_full", title="Supplier in full", area="purchasing", unit="%", kind="ratio",
    better="higher", target=95.0,
    definition="PO lines received in full (received quantity at least the ordered quantity), of the "
               "lines first received in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    facts_sql=_LINE_FACTS, share=("po_lines", "in_full", "1"),
    rows_sql=_LINE_ROWS.format(
        num=f"CASE WHEN {_IN_FULL} THEN 1 ELSE 0 END", den="1",
        detail="'received ' || k.qty || ' of ' || k.qty_ordered",
        bad=f"CASE WHEN {_IN_FULL} THEN 0 ELSE 1 END"),
))

register(Kpi(
    key="po_cycle_time", title="PO cycle time", area="purchasing", unit="days", kind="mean",
    better="lower", target=14.0,
    definition="Days from the PO's order date to its last receipt, for POs whose receiving is finished "
               "(received or closed) and whose last receipt fell in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=f"""
SELECT {sql_iso('x.last_at')} AS at, x.wh AS wh, x.br AS br, x.supplier AS supplier, NULL AS customer,
       NULL AS carrier, ({sql_seconds('x.last_at')} - x.order_date * 86400) / 86400.0 AS num, 1 AS den,
       p.number AS doc, s.name AS party,
       'ordered ' || {sql_date('x.order_date')} || ', last received ' || {sql_day('x.last_at')} ||
         CASE WHEN x.complete THEN '' ELSE ' (closed short)' END AS detail,
       CASE WHEN {sql_epoch_day('x.last_at')} - x.order_date > 21 THEN 1 ELSE 0 END AS bad
FROM (SELECT k.po_id, MAX(k.last_at) AS last_at, MIN(k.qty >= k.qty_ordered) AS complete, MIN(k.order_date) AS order_date,
             MIN(k.warehouse_id) AS wh, MIN(k.branch_id) AS br, MIN(k.supplier_id) AS supplier
      FROM kpi_po_line k WHERE {{plus}}k.first_at < :end_us AND {{plus}}k.first_at >= :start_us - {200 * US_PER_DAY}
      GROUP BY k.po_id HAVING MAX(k.last_at) >= :start_us AND MAX(k.last_at) < :end_us) x
JOIN purchase_order p ON p.id = x.po_id
LEFT JOIN supplier s ON s.id = x.supplier
WHERE p.status IN ('received', 'closed') AND p.deleted_at IS NULL
""",
))

register(Kpi(
    key="approval_time", title="PO approval time", area="purchasing", unit="hours", kind="mean",
    better="lower", target=24.0,
    definition="Hours from a PO entering pending approval to its approval, for POs approved in the period "
               "(POs no rule sent for approval are not counted)",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    # audit times are microseconds (``stamps``, 0027_replicated_times); hours between whole seconds as before
    rows_sql=f"""
SELECT {sql_iso('a.created_at')} AS at, p.warehouse_id AS wh, w.branch_id AS br, p.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier, ({sql_seconds('a.created_at')} - {sql_seconds('q.created_at')}) / 3600.0 AS num,
       1 AS den, p.number AS doc, a.username AS party,
       'submitted ' || substr({sql_iso('q.created_at')}, 1, 16) || ', approved ' || substr({sql_iso('a.created_at')}, 1, 16)
         AS detail,
       CASE WHEN a.created_at - q.created_at > {US_PER_DAY} THEN 1 ELSE 0 END AS bad
FROM audit_entry a
JOIN audit_entry q ON q.id = (SELECT s.id FROM audit_entry s WHERE s.entity = 'purchase_order'
     AND s.entity_id = a.entity_id AND s.action = 'po.pending_approval' AND s.created_at <= a.created_at
     ORDER BY s.created_at DESC LIMIT 1)
JOIN purchase_order p ON p.id = a.entity_id
JOIN warehouse w ON w.id = p.warehouse_id
WHERE a.entity = 'purchase_order' AND a.action = 'po.approved' AND a.created_at >= :start_us AND a.created_at < :end_us
""",
))
