"""Dispatch KPIs: pick accuracy and freight cost per shipment and per unit.

Freight is what the carrier charged on the shipment's label (``shipment.freight_billed``, else the
quote it was chosen by), per shipment shipped in the period, and per unit on its shipment lines (a
shipment without lines of its own, as history recorded before Dispatch: its order's shipped units,
the rule billing uses; one whose units are unknown is left out of the per-unit figure rather than
counting its freight over no units).
Pick accuracy reads Dispatch's pick lines (picked in full, or short); until this database has
confirmed a pick it says "no data: dispatch picking not in use" rather than zero.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, any_row, register, table_exists

register(Kpi(
    key="pick_accuracy", title="Pick accuracy", area="dispatch", unit="%", kind="ratio", better="higher",
    target=99.5, needs="dispatch picking",
    in_use=lambda s: table_exists(s, "pick_line") and any_row(s, "SELECT 1 FROM pick_line WHERE picked_at IS NOT NULL LIMIT 1"),
    definition="Pick lines confirmed with the full quantity asked for, of the pick lines confirmed (picked or "
               "short) in the period; a wrong bin or item is refused at the scan, so what fails here is a short pick",
    dims=frozenset({"branch", "warehouse", "customer"}),
    rows_sql="""
SELECT p.picked_at AS at, wv.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier, o.customer_id AS customer,
       NULL AS carrier, CASE WHEN p.status = 'picked' AND p.qty_picked >= p.qty THEN 1 ELSE 0 END AS num, 1 AS den,
       wv.number || ' ' || o.number AS doc, i.sku AS party,
       'picked ' || p.qty_picked || ' of ' || p.qty || CASE WHEN p.short_reason <> '' THEN ': ' || p.short_reason
         ELSE '' END AS detail,
       CASE WHEN p.status = 'picked' AND p.qty_picked >= p.qty THEN 0 ELSE 1 END AS bad
FROM pick_line p
JOIN wave wv ON wv.id = p.wave_id
JOIN warehouse w ON w.id = wv.warehouse_id
JOIN sales_order o ON o.id = p.order_id
LEFT JOIN item i ON i.id = p.item_id
WHERE p.status IN ('picked', 'short') AND p.picked_at >= :start AND p.picked_at < :end AND p.deleted_at IS NULL
""",
))

_FREIGHT = "COALESCE(sh.freight_billed, sh.freight_quoted)"
_SHIPPED = f"""
SELECT sh.shipped_at AS at, sh.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier, o.customer_id AS customer,
       sh.carrier_id AS carrier, {_FREIGHT} / 10000.0 AS num, {{den}} AS den,
       sh.number AS doc, c.name AS party,
       ca.code || ' ' || sh.service_code || ': freight ' || printf('%.2f', {_FREIGHT} / 10000.0) ||
         CASE WHEN sh.freight_billed IS NULL THEN ' (quoted)' ELSE '' END AS detail,
       CASE WHEN sh.freight_billed > sh.freight_quoted THEN 1 ELSE 0 END AS bad
FROM shipment sh
JOIN warehouse w ON w.id = sh.warehouse_id
LEFT JOIN sales_order o ON o.id = sh.sales_order_id
LEFT JOIN customer c ON c.id = o.customer_id
LEFT JOIN carrier ca ON ca.id = sh.carrier_id
WHERE sh.shipped_at >= :start AND sh.shipped_at < :end AND {_FREIGHT} IS NOT NULL AND sh.deleted_at IS NULL{{where}}
"""
_UNITS = ("COALESCE((SELECT SUM(sl.qty) FROM shipment_line sl WHERE sl.shipment_id = sh.id AND sl.deleted_at IS NULL), "
          "(SELECT SUM(l.qty_shipped) FROM sales_order_line l WHERE l.order_id = sh.sales_order_id "
          "AND l.deleted_at IS NULL), 0)")
_IN_USE = "SELECT 1 FROM shipment WHERE freight_billed IS NOT NULL OR freight_quoted IS NOT NULL LIMIT 1"

register(Kpi(
    key="freight_per_shipment", title="Freight per shipment", area="dispatch", unit="money", kind="mean",
    better="lower", needs="dispatch", in_use=lambda s: any_row(s, _IN_USE),
    definition="Freight the carrier charged (the label's, else the quote it was chosen by) per shipment "
               "shipped in the period",
    dims=frozenset({"branch", "warehouse", "carrier", "customer"}), rows_sql=_SHIPPED.format(den="1", where=""),
))

register(Kpi(
    key="freight_per_unit", title="Freight per unit", area="dispatch", unit="money", kind="ratio",
    better="lower", needs="dispatch", in_use=lambda s: any_row(s, _IN_USE),
    definition="Freight of the shipments shipped in the period per unit on their shipment lines (a shipment "
               "without lines: its order's shipped units)",
    dims=frozenset({"branch", "warehouse", "carrier", "customer"}),
    rows_sql=_SHIPPED.format(den=_UNITS, where=f" AND {_UNITS} > 0"),
))
