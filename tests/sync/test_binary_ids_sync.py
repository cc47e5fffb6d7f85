"""A replicating branch file with text ids, converted by 0022_binary_ids, goes on replicating.

The branch's file is made at today's schema, synced (first sync, then its own receipt pushed), and
taken down to text ids by the migration's own downgrade while a change of its waits in the outbox:
the file as the previous Depot left it. ``schema.upgrade`` converts it; then it pushes the waiting
change, pulls head office's new moves and pushes a new one: every site and the server hold the
same rows, and stock is right everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models.catalog import Item
from app.services import schema
from app.services.db import make_engine
from app.services.stock import balance_mismatches, on_hand
from tests.factories import build_world
from tests.services.test_binary_ids import REVISION, id_kinds, to_text_ids
from tests.sync.conftest import Server, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def test_a_converted_branch_file_keeps_replicating(server: Server, make_site: Any, tmp_path: Path) -> None:
    hq = make_site("hq", server.dsn)
    with hq.session() as s:
        w = build_world(s)
        s.commit()
    hq.sync()  # published as the owner
    server.add("HQ")
    server.add("DAL")
    dal = make_site("dal", server.role_dsn("DAL"))
    dal.sync()
    receive(dal, w, "DAL", "BOLT", 40)
    dal.sync()
    receive(dal, w, "DAL", "BOLT", 5)  # waits in the outbox across the conversion
    path = Path(str(dal.engine.url.database))
    dal.close()

    to_text_ids(path)
    assert set(id_kinds(path)) == {"text"}
    eng = make_engine(path)
    assert REVISION not in schema.db_heads(eng)
    schema.upgrade(eng)
    assert schema.db_heads(eng) == schema.script_heads()  # 0022_binary_ids and what follows it
    eng.dispose()
    assert set(id_kinds(path)) == {"blob"}

    dal = Site(path, server.role_dsn("DAL"))
    hq.close()
    hq = Site(Path(str(hq.engine.url.database)), server.role_dsn("HQ"))
    try:
        dal.sync()  # the waiting receipt goes up
        with hq.session() as s:
            s.scalars(select(Item).where(Item.sku == "BOLT")).one().description = "Bolt, after the conversion"
            s.commit()
        receive(dal, w, "DAL", "BOLT", 2)
        quiesce(dal, hq)
        assert site_hashes(hq) == site_hashes(dal) == server_hashes(server)
        for site in (dal, hq):
            with site.session() as s:
                assert on_hand(s, w.items["BOLT"].id) == 47
                assert balance_mismatches(s) == []
        with dal.session() as s:
            assert s.scalars(select(Item.description).where(Item.sku == "BOLT")).one() == "Bolt, after the conversion"
        assert dal.scalar("SELECT count(*) FROM sync_outbox") == 0
        assert set(id_kinds(path)) == {"blob"}, "pulled rows are stored as 16 bytes too"
    finally:
        dal.close()
        hq.close()
