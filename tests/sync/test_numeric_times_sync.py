"""A replicating branch file with ISO-text times, converted by 0023_numeric_times, goes on replicating.

The branch's file is made at today's schema, synced (first sync, then its own receipt pushed), and
taken down to text times by the migration's own downgrade while a move of its waits in the outbox.
``schema.upgrade`` converts it; then it pushes the waiting move and a new one, which head office
pulls: every site and the server hold the same rows (the server's times as the same ISO text),
and stock is right everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.services import schema
from app.services.db import make_engine
from app.services.stock import balance_mismatches, on_hand
from tests.factories import build_world
from tests.services.test_numeric_times import REVISION, time_kinds, to_text_times
from tests.sync.conftest import Server, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def test_a_converted_branch_file_keeps_replicating(server: Server, make_site: Any, tmp_path: Path) -> None:
    hq = make_site("hq", server.dsn)
    with hq.session() as s:
        w = build_world(s)
        s.commit()
    hq.sync()
    server.add("HQ")
    server.add("DAL")
    dal = make_site("dal", server.role_dsn("DAL"))
    dal.sync()
    receive(dal, w, "DAL", "BOLT", 40)
    dal.sync()
    receive(dal, w, "DAL", "BOLT", 5)  # waits in the outbox across the conversion
    path = Path(str(dal.engine.url.database))
    dal.close()

    to_text_times(path)
    assert time_kinds(path) == {"text"}
    eng = make_engine(path)
    assert REVISION not in schema.db_heads(eng)
    schema.upgrade(eng)
    assert schema.db_heads(eng) == schema.script_heads()  # 0023_numeric_times and what follows it
    eng.dispose()
    assert time_kinds(path) == {"integer"}

    dal = Site(path, server.role_dsn("DAL"))
    try:
        dal.sync()  # the waiting receipt goes up, its times as ISO text
        receive(dal, w, "DAL", "BOLT", 2)
        quiesce(dal, hq)
        assert site_hashes(hq) == site_hashes(dal) == server_hashes(server)
        for site in (dal, hq):  # head office pulled the branch's moves: stored as numbers there too
            with site.session() as s:
                assert on_hand(s, w.items["BOLT"].id) == 47
                assert balance_mismatches(s) == []
        assert dal.scalar("SELECT count(*) FROM sync_outbox") == 0
        assert time_kinds(path) == {"integer"}
        assert time_kinds(Path(str(hq.engine.url.database))) == {"integer"}, "pulled moves are stored as numbers"
    finally:
        dal.close()
        hq.close()
