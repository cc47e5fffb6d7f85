"""Receiving: scan interpretation, in-memory receiving sessions, posting, quality holds, directed putaway.

Modules: ``scan`` (the scan grammar), ``session`` (scans -> lines, messages), ``post`` (one
transaction per receipt; holds), ``putaway`` (bin proposals, confirmation), ``queries`` (lists for
the screen and the CLI, arrival, batch receiving of a scanner file).
"""
