"""Depot: desktop back-office for wholesale distributors."""

__version__ = "0.1.0"
