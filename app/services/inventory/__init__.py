"""Inventory services: counts, transfers, returns, forward-pick replenishment, backorders, ATP, queries.

Every stock change goes through ``app.services.stock.post_moves``; every state change writes
an audit entry; nothing commits (the caller owns the transaction).
"""
