"""Which replicated tables changed since a pull's cursor: one question a kept backend answers from cached plans.

Every pull first asks which tables hold rows at or above its cursor (``max(txid)`` per table: one
step down the txid index whatever the planner statistics say). Sent as one statement of 48
``UNION ALL`` branches it was planned anew at every pull, and on a connection kept between syncs
(``replication.link``) that planning was most of the server CPU an idle sync still cost. The
same test in a PL/pgSQL function, one static statement per table, is planned once per backend and
then run from the plan cache (also through a pooler in transaction mode: its server backends live
long). ``server init`` (re)creates the function for the tables it builds; a server initialised
before it is asked the inline way.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from app.services.replication.tables import SyncTable

#: in the pull's first statement: does the server have the function (a server from before it has not)
HAS_FUNCTION_SQL = "to_regprocedure('depot_changed_tables(xid8)') IS NOT NULL"


def function_ddl(names: list[str]) -> sql.Composed:
    """``depot_changed_tables(cursor)``: the names of the tables with a row at or above ``cursor``."""
    # the query takes no parameter, so its first plan is the one kept (a comparison with p_cursor
    # inside it would be planned again for each of the first five calls of every backend)
    body = sql.SQL("\n").join(
        sql.SQL("  SELECT max(txid) INTO m FROM {}; IF m >= p_cursor THEN RETURN NEXT {}; END IF;").format(
            sql.Identifier(n), sql.Literal(n))
        for n in names)
    return sql.SQL("CREATE OR REPLACE FUNCTION depot_changed_tables(p_cursor xid8) RETURNS SETOF text "
                   "LANGUAGE plpgsql STABLE SET search_path = public AS $fn$\nDECLARE m xid8;\nBEGIN\n{}\n"
                   "  RETURN;\nEND $fn$").format(body)


def changed_tables(cur: psycopg.Cursor[Any], tables: list[SyncTable], cursor: int, *, function: bool) -> set[str]:
    """The tables (of ``tables``) with rows at or above ``cursor``, in the caller's transaction."""
    if function:
        cur.execute("SELECT depot_changed_tables(%s::text::xid8)", (str(cursor),))
    else:
        cur.execute(sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {} WHERE (SELECT max(txid) FROM {}) >= {}::xid8").format(
                sql.Literal(t.name), sql.Identifier(t.name), sql.Literal(str(cursor)))
            for t in tables))
    known = {t.name for t in tables}  # a newer server may list tables this Depot does not have yet
    return {str(r[0]) for r in cur.fetchall()} & known
