"""Buying: requisitions, approvals, purchase orders, their expected receipts and documents."""
