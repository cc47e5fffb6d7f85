"""The tracking world's fixtures (tests/tracking_world.py)."""

from tests.tracking_world import sandbox, settings, tw  # noqa: F401
