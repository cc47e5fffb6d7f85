"""A sample file for every import kind: every column it reads (required ones first) and a few
rows that fit together, so the samples imported in ``ADOPTION_ORDER`` into an empty file make a
small working company (the setup assistant offers them for download; a test imports them all).
"""

from __future__ import annotations

import csv
import io

from app.services.errors import ValidationError

#: kind -> rows (the first is the header)
SAMPLES: dict[str, list[list[str]]] = {
    "branches": [
        ["code", "name", "head_office", "address", "timezone"],
        ["HQ", "Head office", "yes", "100 Main St\nAustin TX 78701", "America/Chicago"],
        ["DAL", "Dallas", "no", "1 Commerce St\nDallas TX 75202", "America/Chicago"],
    ],
    "warehouses": [
        ["code", "branch", "name", "address"],
        ["DAL1", "DAL", "Dallas DC", "2200 Irving Blvd\nDallas TX 75207"],
    ],
    "items": [
        ["sku", "description", "base_uom", "gtin", "length_mm", "width_mm", "height_mm", "weight_g", "velocity_class",
         "track_lot", "track_serial", "track_expiry", "needs_inspection", "hazmat_class", "temperature_class",
         "category", "standard_cost", "list_price", "currency", "active", "case_qty", "pallet_qty"],
        ["BOLT-M8", "Hex bolt M8 x 40, zinc", "EA", "00614141000012", "40", "13", "13", "20", "A", "no", "no", "no",
         "no", "", "ambient", "Fasteners", "0.1200", "0.3500", "USD", "yes", "100", "4000"],
        ["GLOVE-L", "Work gloves, large", "PR", "", "250", "120", "30", "90", "B", "no", "no", "no", "no", "", "ambient",
         "Safety", "1.8000", "4.9000", "USD", "yes", "12", ""],
        ["SOLV-5L", "Degreasing solvent 5 l", "EA", "", "200", "150", "300", "5200", "C", "yes", "no", "yes", "no",
         "3", "ambient", "Chemicals", "14.5000", "29.0000", "USD", "yes", "4", ""],
    ],
    "locations": [
        ["warehouse", "code", "kind", "role", "zone", "walk_seq", "capacity_volume_cm3", "capacity_weight_g",
         "temperature_class", "hazmat_class", "fixed_sku", "min_qty", "max_qty", "active"],
        ["DAL1", "A01-01-1", "storage", "pick", "AMB", "1", "200000", "150000", "ambient", "", "BOLT-M8", "500",
         "2000", "yes"],
        ["DAL1", "A01-02-1", "storage", "pick", "AMB", "2", "200000", "150000", "ambient", "", "GLOVE-L", "24",
         "96", "yes"],
        ["DAL1", "R01-01-1", "storage", "reserve", "AMB", "10", "1800000", "1000000", "ambient", "", "", "", "",
         "yes"],
        ["DAL1", "H01-01-1", "storage", "reserve", "HZ3", "20", "1000000", "500000", "ambient", "3", "", "", "",
         "yes"],
        ["DAL1", "D02", "dock", "", "", "", "", "", "", "", "", "", "", "yes"],
    ],
    "suppliers": [
        ["code", "name", "contact_email", "address", "currency", "payment_terms", "edi_qualifier", "edi_id",
         "edi_format", "allows_consolidation", "over_receipt_pct", "under_receipt_pct", "active"],
        ["FASTCO", "Fastco Industrial", "orders@fastco.example", "9 Bolt Way\nHouston TX 77002", "USD", "NET30", "",
         "", "", "no", "5", "100", "yes"],
        ["CHEMPRO", "ChemPro Supply", "po@chempro.example", "3 Refinery Rd\nBaytown TX 77520", "USD", "NET45", "",
         "", "", "yes", "0", "100", "yes"],
    ],
    "item-suppliers": [
        ["sku", "supplier", "supplier_part", "lead_time_days", "lead_time_sd_days", "pack_size", "min_order_qty",
         "contract_price", "last_price", "currency", "contracted", "preferred"],
        ["BOLT-M8", "FASTCO", "FC-M8-40", "7", "1", "100", "500", "0.1100", "0.1200", "USD", "yes", "yes"],
        ["GLOVE-L", "FASTCO", "FC-GL-L", "10", "2", "12", "12", "1.7500", "1.8000", "USD", "no", "yes"],
        ["SOLV-5L", "CHEMPRO", "CP-SOLV5", "14", "3", "4", "4", "13.9000", "14.5000", "USD", "yes", "yes"],
    ],
    "customers": [
        ["code", "name", "contact_email", "ship_to", "priority_tier", "credit_limit", "currency", "payment_terms",
         "service_level", "home_branch", "active"],
        ["BUILDCO", "BuildCo Contractors", "ap@buildco.example", "50 Site Rd\nPlano TX 75023", "gold", "25000.00",
         "USD", "NET30", "two_day", "DAL", "yes"],
    ],
    "carriers": [
        ["carrier", "service_code", "service_name", "carrier_name", "api", "service_level", "transit_days", "active"],
        ["UPS", "03", "UPS Ground", "United Parcel Service", "ups", "standard", "5", "yes"],
        ["UPS", "01", "UPS Next Day Air", "", "", "next_day", "1", ""],
        ["LOCAL", "VAN", "Own van, same day", "Our own delivery", "sandbox", "next_day", "0", "yes"],
    ],
    "stock": [
        ["warehouse", "bin", "sku", "qty", "lot", "expiry_date", "serial"],
        ["DAL1", "A01-01-1", "BOLT-M8", "1200", "", "", ""],
        ["DAL1", "A01-02-1", "GLOVE-L", "30", "", "", ""],
        ["DAL1", "H01-01-1", "SOLV-5L", "8", "L2405-A", "2027-05-31", ""],
    ],
    "order-points": [
        ["warehouse", "sku", "min_qty", "max_qty", "policy"],
        ["DAL1", "BOLT-M8", "1000", "4000", "fixed_minmax"],
        ["DAL1", "GLOVE-L", "48", "144", "fixed_minmax"],
    ],
    "purchase-orders": [
        ["number", "supplier", "warehouse", "sku", "qty_ordered", "price", "qty_received", "expected_date",
         "order_date", "line_no", "uom"],
        ["PO-10451", "FASTCO", "DAL1", "BOLT-M8", "2000", "0.1100", "0", "2026-03-20", "2026-03-06", "1", "EA"],
        ["PO-10451", "FASTCO", "DAL1", "GLOVE-L", "48", "1.7500", "24", "2026-03-20", "2026-03-06", "2", "PR"],
    ],
    "orders": [
        ["order_number", "customer", "warehouse", "sku", "qty", "unit_price", "line_no", "order_date",
         "requested_date", "customer_po", "currency"],
        ["SO-88120", "BUILDCO", "DAL1", "BOLT-M8", "300", "0.3500", "1", "2026-03-09", "2026-03-12", "BC-7781",
         "USD"],
    ],
    "price-lists": [
        ["price_list", "name", "customer", "customer_group", "currency", "valid_from", "valid_to", "sku", "uom",
         "min_qty", "unit_price"],
        ["TRADE-2026", "Trade prices 2026", "", "TRADE", "USD", "2026-01-01", "", "BOLT-M8", "", "1", "0.3300"],
        ["TRADE-2026", "", "", "", "", "", "", "BOLT-M8", "", "1000", "0.3000"],
    ],
    "receivables": [
        ["customer", "invoice_number", "invoice_date", "due_date", "amount_open", "currency"],
        ["BUILDCO", "INV-20931", "2026-02-10", "2026-03-12", "1840.50", "USD"],
    ],
    "sales-history": [
        ["date", "warehouse", "sku", "qty", "customer", "reference"],
        ["2026-01-05", "DAL1", "BOLT-M8", "350", "BUILDCO", "INV-55012"],
        ["2026-01-06", "DAL1", "GLOVE-L", "12", "", ""],
    ],
}


def sample_csv(kind: str) -> str:
    """The sample file of ``kind`` as CSV text (UTF-8, comma, a header row)."""
    rows = SAMPLES.get(kind)
    if rows is None:
        raise ValidationError("import kind", f"no sample for {kind!r} (known: {', '.join(SAMPLES)})")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


#: what each kind brings, in a line (the setup assistant and Settings > Import list them)
NOTES: dict[str, str] = {
    "branches": "the head office and the branches, with their time zone and address",
    "warehouses": "each branch's warehouses (every one gets its dock, QA cage and virtual locations)",
    "items": "the catalogue: SKU, description, unit, GTIN, size and weight, lot/serial tracking, cost and price",
    "locations": "bins, dock doors and QA cages: zone, role (pick or reserve), walk sequence, capacity, pick faces",
    "suppliers": "suppliers with their e-mail, address, currency, terms and EDI ids",
    "item-suppliers": "who supplies what: part number, lead time, pack size, minimum order, contract price",
    "customers": "customers with their ship-to, tier, credit limit and home branch",
    "carriers": "carriers and their services (service level, transit days); accounts and keys go in Settings > Carriers",
    "stock": "opening stock per bin (with lots and serials): the count on the day you move in",
    "order-points": "fixed min/max per item and warehouse: below min, Depot orders up to max",
    "purchase-orders": "purchase orders still open: they become sent POs with their expected receipts",
    "orders": "open sales orders, one row per line",
    "sales-history": "daily sales of the past (demand for replenishment; moves no stock)",
}
