"""Dispatch (issue 14): waves and picks (``picking``), then packing, cartons, rating, labels, ship
confirmation and the manifest (``confirm`` and the modules beside it)."""
