"""Anomaly alerts into the exception inbox: robust statistics, each finding says why (issue 18)."""
