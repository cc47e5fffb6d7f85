"""Dispatch KPIs: pick accuracy and freight cost per shipment and per unit.

They need what Dispatch records (picks confirmed against what was asked, the freight each
shipment's label cost). Until this database has those tables they say "no data: dispatch not in
use" rather than zero.
"""

from __future__ import annotations

from app.services.kpi.core import Kpi, register, table_exists

_NOT_YET = "SELECT NULL AS at, NULL AS wh, NULL AS br, NULL AS supplier, NULL AS customer, NULL AS carrier, " \
           "0 AS num, 0 AS den, '' AS doc, '' AS party, '' AS detail, 0 AS bad WHERE 0"

register(Kpi(
    key="pick_accuracy", title="Pick accuracy", area="dispatch", unit="%", kind="ratio", better="higher",
    target=99.5, needs="dispatch", in_use=lambda s: table_exists(s, "pick_line"),
    definition="Pick lines picked with the item and quantity asked for (not short, not corrected at "
               "packing), of the pick lines confirmed in the period",
    dims=frozenset({"branch", "warehouse"}), rows_sql=_NOT_YET,
))

register(Kpi(
    key="freight_per_shipment", title="Freight per shipment", area="dispatch", unit="money", kind="mean",
    better="lower", needs="dispatch", in_use=lambda s: table_exists(s, "shipment_line"),
    definition="Freight charged by the carrier (the label's rate) per shipment shipped in the period",
    dims=frozenset({"branch", "warehouse", "carrier", "customer"}), rows_sql=_NOT_YET,
))

register(Kpi(
    key="freight_per_unit", title="Freight per unit", area="dispatch", unit="money", kind="ratio",
    better="lower", needs="dispatch", in_use=lambda s: table_exists(s, "shipment_line"),
    definition="Freight charged for the shipments shipped in the period per unit they carried",
    dims=frozenset({"branch", "warehouse", "carrier", "customer"}), rows_sql=_NOT_YET,
))
