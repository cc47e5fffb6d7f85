"""Predictive ETA: lateness against the carrier's promise learnt from delivered shipments (issue 18)."""
