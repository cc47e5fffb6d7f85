"""Sales orders: entry, pricing, credit control, promise dates, item search, receivables.

Modules: ``search`` (item lookup by code, GTIN or description words: SQLite FTS5 kept by
sqlite-utils' triggers), ``pricing`` (price lists, breaks, overrides), ``credit`` (exposure,
holds and releases), ``promise`` (date-based ATP: "available now / on D / not before D"),
``orders`` (entry, copy, cancel), ``receivables`` (the open-items ledger), ``queries`` (lists for
the Allocation screen and the CLI). Allocation itself is ``app.services.allocation``.
"""
