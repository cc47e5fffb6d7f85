"""The Inventory screen: stock by item/warehouse/bin/lot, ledger history, ATP, counts, transfers, returns."""
