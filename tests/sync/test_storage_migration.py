"""A replicating workstation's file converted in place by 0020_storage goes on replicating.

Head office's file is made and published at the schema before the migration, converted, and
then pulls a branch's stock moves (the balance trigger writes the rebuilt ``stock_balance``)
and pushes an edit of its own: every site and the server hold the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models.catalog import Item
from app.services import schema
from app.services.db import make_engine, session_scope
from app.services.stock import balance_mismatches, on_hand
from tests.factories import build_world
from tests.services.test_storage import REVISION, previous_schema, table_digests
from tests.sync.conftest import Server, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def test_a_converted_head_office_file_keeps_replicating(
        server: Server, make_site: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hq-old.db"
    with previous_schema(monkeypatch, tmp_path):  # the Depot before the migration
        eng = make_engine(path)
        schema.upgrade(eng)
        eng.dispose()
        hq = Site(path, server.dsn)
        with session_scope(hq.engine) as s:
            w = build_world(s)
        hq.sync()  # published as the owner
        hq.close()
    server.add("HQ")
    dal = make_site("dal", server.add("DAL"))
    dal.sync()
    receive(dal, w, "DAL", "BOLT", 40)
    dal.sync()
    with previous_schema(monkeypatch, tmp_path):
        hq = Site(path, server.role_dsn("HQ"))
        hq.sync()  # the old file pulls the branch's moves
        hq.close()
    before = table_digests(path)

    eng = make_engine(path)
    assert REVISION not in schema.db_heads(eng)
    schema.upgrade(eng)
    assert schema.db_heads(eng) == schema.script_heads()  # 0020_storage and what follows it (0022_binary_ids)
    eng.dispose()
    assert table_digests(path) == before

    hq = Site(path, server.role_dsn("HQ"))
    try:
        receive(dal, w, "DAL", "BOLT", 2)
        with hq.session() as s:
            s.scalars(select(Item).where(Item.sku == "BOLT")).one().description = "Bolt, converted file"
            s.commit()
        quiesce(dal, hq)
        assert site_hashes(hq) == site_hashes(dal) == server_hashes(server)
        with hq.session() as s:
            assert on_hand(s, w.items["BOLT"].id) == 42
            assert balance_mismatches(s) == []
        with dal.session() as s:
            assert s.scalars(select(Item.description).where(Item.sku == "BOLT")).one() == "Bolt, converted file"
        assert hq.scalar("SELECT count(*) FROM sync_outbox") == 0
    finally:
        hq.close()
