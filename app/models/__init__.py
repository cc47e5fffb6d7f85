"""SQLAlchemy 2 typed models, one module per domain. No logic beyond invariants.

Importing this package registers every model with ``Base.metadata``.
"""

from app.models import (  # noqa: F401
    allocation,
    approvals,
    billing,
    buying,
    carriers,
    catalog,
    demand,
    dispatch,
    docs_common,
    edi,
    exceptions,
    forecasting,
    inventory,
    kpi,
    messaging,
    org,
    packing,
    parties,
    pricing,
    printing,
    purchasing,
    receivables,
    receiving,
    sales,
    shipping,
    stock,
    sync,
    tracking,
    users,
)
from app.models.base import Base

__all__ = ["Base"]
