"""Dispatch (issue 14): waves by carrier cut-off, pick lists in walking order and pick confirmation
by scan (``waves``, ``picklist``, ``picking``), then packing, cartons, rating, labels, ship
confirmation and the manifest (``confirm`` and the modules beside it)."""
