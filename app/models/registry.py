"""The one table registry: which tables replicate and how.

Outbox triggers, push, pull and the server's row-level policies all read this, so a
table's replication class is declared once (by its model's mixin) and used everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.base import DOCUMENT, LEDGER, LOCAL, MASTER, Base


@dataclass(frozen=True)
class TableSpec:
    name: str
    sync: str  # ledger | document | master | local
    branch_editable: frozenset[str]
    columns: tuple[str, ...]
    derived_ids: bool = False
    #: this site's own bookkeeping columns (``Base.__local_columns__``)
    local_columns: frozenset[str] = frozenset()

    @property
    def replicated(self) -> bool:
        return self.sync != LOCAL


def _specs() -> dict[str, TableSpec]:
    import app.models  # noqa: F401  (registers every model module)

    out: dict[str, TableSpec] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = cls.__table__
        name = str(table.name)
        out[name] = TableSpec(
            name=name,
            sync=getattr(cls, "__sync__", LOCAL),
            branch_editable=frozenset(getattr(cls, "__branch_editable__", frozenset())),
            columns=tuple(c.name for c in table.columns),
            derived_ids=bool(getattr(cls, "__derived_ids__", False)),
            local_columns=frozenset(getattr(cls, "__local_columns__", frozenset())),
        )
    return out


def tables() -> dict[str, TableSpec]:
    """All mapped tables by name, in dependency order (parents first)."""
    specs = _specs()
    ordered = [t.name for t in Base.metadata.sorted_tables if t.name in specs]
    return {n: specs[n] for n in ordered}


def replicated_tables() -> list[str]:
    return [n for n, s in tables().items() if s.replicated]


def tables_of(sync: str) -> list[str]:
    assert sync in (LEDGER, DOCUMENT, MASTER, LOCAL)
    return [n for n, s in tables().items() if s.sync == sync]
