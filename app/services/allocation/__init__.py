"""Allocation: which open sales order lines get the stock a warehouse has, under a policy.

Modules: ``policy`` (the ordered list of keys a warehouse ranks by), ``snapshot`` (what a run reads:
open lines, pickable stock by lot, current reservations), ``engine`` (the computation, vectorised
with numpy: ranks, fair shares, ship-complete orders, FEFO lots, reasons; writes nothing), ``apply``
(writes a plan: the allocation ledger, line reservations, order statuses, with a check that no line
changed while the plan was computed), ``runs`` (the entry points: simulate, run, re-allocate after
stock arrived, release), ``followups`` (handlers on events: stock arrived, order cancelled or held,
credit released), ``backorders`` (what is still short, with the expected date).
"""
