"""The organisation a Depot file serves: company profile (the letterhead), branches, warehouses,
zones, docks and bins, and the first-run rule that lets a new file be set up before it has users.

Every function here is used alike by the setup assistant, the Settings pages, the ``depot``
commands and the tests. All of it is head-office master data (docs/data.md, "Organisation").
"""
