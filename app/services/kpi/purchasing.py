"""Purchasing KPIs: supplier on-time and in-full, PO cycle time, approval time.

A PO line's receipts come from two places: receipts posted by Receiving (``receipt_line`` names
the PO line) and the history the seed or an adoption wrote straight into the ledger (receipt moves
whose document is the PO, ``doc_type = 'PO'``, and whose line is the PO line). Both count.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, register

#: per PO line: its first and last receipt and the quantity received, from both sources
LINE_RECEIPTS = """
SELECT pol, MIN(at) AS first_at, MAX(at) AS last_at, SUM(qty) AS qty FROM (
  SELECT doc_line_id AS pol, moved_at AS at, qty FROM stock_move
   WHERE reason = 'receipt' AND doc_type = 'PO' AND moved_at < :end AND moved_at >= date(:start, '-400 days')
  UNION ALL
  SELECT rl.po_line_id, r.posted_at, rl.qty FROM receipt_line rl JOIN receipt r ON r.id = rl.receipt_id
   WHERE rl.po_line_id IS NOT NULL AND r.posted_at < :end AND r.posted_at >= date(:start, '-400 days')
) GROUP BY pol
"""

_LINE_ROWS = f"""
SELECT rc.first_at AS at, pl.ship_to_warehouse_id AS wh, w.branch_id AS br, p.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier, {{num}} AS num, {{den}} AS den,
       p.number || '/' || pl.line_no AS doc, s.name AS party, {{detail}} AS detail, {{bad}} AS bad
FROM ({LINE_RECEIPTS}) rc
JOIN purchase_order_line pl ON pl.id = rc.pol
JOIN purchase_order p ON p.id = pl.po_id
JOIN warehouse w ON w.id = pl.ship_to_warehouse_id
LEFT JOIN supplier s ON s.id = p.supplier_id
WHERE p.deleted_at IS NULL
"""

_DUE = "COALESCE(pl.expected_date, p.expected_date)"
_ON_TIME = f"(substr(rc.first_at, 1, 10) <= {_DUE})"
_IN_FULL = "(rc.qty >= pl.qty_ordered)"

register(Kpi(
    key="supplier_on_time", title="Supplier on time", area="purchasing", unit="%", kind="ratio",
    better="higher", target=95.0,
    definition="PO lines whose first receipt came on or before the line's expected date, of the lines "
               "first received in the period that have an expected date",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=_LINE_ROWS.format(
        num=f"CASE WHEN {_DUE} IS NULL THEN 0 WHEN {_ON_TIME} THEN 1 ELSE 0 END",
        den=f"CASE WHEN {_DUE} IS NULL THEN 0 ELSE 1 END",
        detail=f"'due ' || COALESCE({_DUE}, '(no date)') || ', first received ' || substr(rc.first_at, 1, 10)",
        bad=f"CASE WHEN {_DUE} IS NOT NULL AND NOT {_ON_TIME} THEN 1 ELSE 0 END"),
))

register(Kpi(
    key="supplier_in_full", title="Supplier in full", area="purchasing", unit="%", kind="ratio",
    better="higher", target=95.0,
    definition="PO lines received in full (received quantity at least the ordered quantity), of the "
               "lines first received in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=_LINE_ROWS.format(
        num=f"CASE WHEN {_IN_FULL} THEN 1 ELSE 0 END", den="1",
        detail="'received ' || rc.qty || ' of ' || pl.qty_ordered",
        bad=f"CASE WHEN {_IN_FULL} THEN 0 ELSE 1 END"),
))

register(Kpi(
    key="po_cycle_time", title="PO cycle time", area="purchasing", unit="days", kind="mean",
    better="lower", target=14.0,
    definition="Days from the PO's order date to its last receipt, for POs fully received whose last "
               "receipt fell in the period",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql=f"""
SELECT last_at AS at, p.warehouse_id AS wh, w.branch_id AS br, p.supplier_id AS supplier, NULL AS customer,
       NULL AS carrier, julianday(substr(last_at, 1, 19)) - julianday(p.order_date) AS num, 1 AS den,
       p.number AS doc, s.name AS party,
       'ordered ' || p.order_date || ', last received ' || substr(last_at, 1, 10) AS detail,
       CASE WHEN julianday(substr(last_at, 1, 10)) - julianday(p.order_date) > 21 THEN 1 ELSE 0 END AS bad
FROM (SELECT pl.po_id, MAX(rc.last_at) AS last_at, SUM(rc.qty >= pl.qty_ordered) = COUNT(*) AS complete
      FROM ({LINE_RECEIPTS}) rc JOIN purchase_order_line pl ON pl.id = rc.pol GROUP BY pl.po_id) x
JOIN purchase_order p ON p.id = x.po_id
JOIN warehouse w ON w.id = p.warehouse_id
LEFT JOIN supplier s ON s.id = p.supplier_id
WHERE x.complete AND p.status IN ('received', 'closed') AND p.deleted_at IS NULL
""",
))

register(Kpi(
    key="approval_time", title="PO approval time", area="purchasing", unit="hours", kind="mean",
    better="lower", target=24.0,
    definition="Hours from a PO entering pending approval to its approval, for POs approved in the period "
               "(POs no rule sent for approval are not counted)",
    dims=frozenset({"branch", "warehouse", "supplier"}),
    rows_sql="""
SELECT a.created_at AS at, p.warehouse_id AS wh, w.branch_id AS br, p.supplier_id AS supplier,
       NULL AS customer, NULL AS carrier, (julianday(substr(a.created_at, 1, 19))
         - julianday(substr(q.created_at, 1, 19))) * 24 AS num, 1 AS den,
       p.number AS doc, a.username AS party,
       'submitted ' || substr(q.created_at, 1, 16) || ', approved ' || substr(a.created_at, 1, 16) AS detail,
       CASE WHEN julianday(a.created_at) - julianday(q.created_at) > 1 THEN 1 ELSE 0 END AS bad
FROM audit_entry a
JOIN audit_entry q ON q.id = (SELECT s.id FROM audit_entry s WHERE s.entity = 'purchase_order'
     AND s.entity_id = a.entity_id AND s.action = 'po.pending_approval' AND s.created_at <= a.created_at
     ORDER BY s.created_at DESC LIMIT 1)
JOIN purchase_order p ON p.id = a.entity_id
JOIN warehouse w ON w.id = p.warehouse_id
WHERE a.entity = 'purchase_order' AND a.action = 'po.approved' AND a.created_at >= :start AND a.created_at < :end
""",
))
