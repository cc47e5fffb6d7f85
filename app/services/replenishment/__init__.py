"""Replenishment: what to buy or transfer, for every item x warehouse, and why.

``figures`` holds the maths, ``engine`` the bulk run, ``transfers`` transfer-before-buy,
``consolidation`` the grouping of purchase needs into POs per supplier.
"""

from app.services.replenishment.engine import Recommendation, RunResult, Why, run
from app.services.replenishment.transfers import Option

__all__ = ["Option", "Recommendation", "RunResult", "Why", "run"]
