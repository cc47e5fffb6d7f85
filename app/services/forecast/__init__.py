"""Demand forecasting: vectorised methods, per-series selection, evaluation on any data (issue 18)."""
