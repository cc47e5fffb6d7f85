"""SQLAlchemy 2 typed models, one module per domain. No logic beyond invariants.

Importing this package registers every model with ``Base.metadata``; later issues add
their modules to the list below.
"""

from app.models import (  # noqa: F401
    buying,
    catalog,
    docs_common,
    org,
    parties,
    purchasing,
    receiving,
    sales,
    shipping,
    stock,
    sync,
    users,
)
from app.models.base import Base

__all__ = ["Base"]
