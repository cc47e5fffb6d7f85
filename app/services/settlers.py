"""Imports the modules whose settlers ``ownership.settle_all`` runs after every pull.

A settler brings this site's own documents in line with rows other branches wrote about them
(see ``app.services.ownership``). Each domain module registers its own with ``@settler``.
"""

from __future__ import annotations
