"""Columns of the Receiving screen's tables (bounded lists: no paging needed).

``Col(title, get, numeric)`` is shorthand for a shared ``Column`` computed by ``get``; numbers
are right-aligned with thousands separators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

__all__ = ["Col", "RowsModel"]


def _number(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:,}" if isinstance(v, int) else str(v)


def Col(title: str, get: Callable[[Any], Any], numeric: bool = False) -> Column:  # noqa: N802 (reads as a type)
    return Column(title, align_right=numeric, fmt=_number if numeric else None, get=get)
