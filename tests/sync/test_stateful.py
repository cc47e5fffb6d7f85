"""Random local writes at head office and two branches, random push/pull interleavings and
dropped connections; after quiesce every site equals the server and no ledger row is lost
or duplicated. Bounded by default; DEPOT_SLOW=1 runs many more and longer examples.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from sqlalchemy import select

from app.models.catalog import Item
from app.services.replication import push as push_mod
from app.services.replication.engine import sync_once
from app.services.replication.server import set_selective
from app.services.stock import on_hand
from tests.sync.conftest import Net, NetTemplate, Site, cloned_net, quiesce, server_hashes, site_hashes
from tests.sync.helpers import assert_scoped_convergence, edit_order, new_order, receive

SLOW = os.environ.get("DEPOT_SLOW") == "1"
SITES = st.sampled_from(["hq", "dal", "hou"])
BRANCHES = st.sampled_from(["dal", "hou"])


@pytest.mark.parametrize("selective", [False, True], ids=["everything", "selective"])
def test_random_writes_and_interleavings_converge(net_template: NetTemplate, tmp_path: Path, selective: bool) -> None:
    """``selective``: the same with selective replication on (issue 20): head office still equals the
    server; each branch holds exactly the server's version of every row it has, and every row its
    scope selects (here its own stock and orders, and master data)."""
    counter = iter(range(10**6))

    class Replication(RuleBasedStateMachine):
        net: Net

        @initialize()
        def start(self) -> None:
            self._cm = cloned_net(net_template, tmp_path / f"ex{next(counter)}")
            self.net = self._cm.__enter__()
            if selective:
                set_selective(self.net.server.dsn, True)
            self.received = {"dal": 0, "hou": 0}
            self.moves = 0
            self.orders: dict[str, list[uuid.UUID]] = {"dal": [], "hou": []}

        def site(self, name: str) -> Site:
            return {"hq": self.net.hq, "dal": self.net.dal, "hou": self.net.hou}[name]

        @rule(b=BRANCHES, qty=st.integers(1, 50))
        def receive_stock(self, b: str, qty: int) -> None:
            receive(self.site(b), self.net.world, b.upper(), "BOLT", qty)
            self.received[b] += qty
            self.moves += 1

        @rule(b=BRANCHES)
        def create_order(self, b: str) -> None:
            n = len(self.orders[b]) + 1
            self.orders[b].append(new_order(self.site(b), self.net.world, b.upper(), f"{b.upper()}-SO-{n:06d}"))

        @rule(b=BRANCHES, data=st.data(), po=st.text("abcxyz", min_size=1, max_size=6))
        def edit_order(self, b: str, data: st.DataObject, po: str) -> None:
            if self.orders[b]:
                oid = data.draw(st.sampled_from(self.orders[b]))
                edit_order(self.site(b), oid, customer_po=po)

        @rule(s=SITES, vc=st.sampled_from("ABC"), sku=st.sampled_from(["BOLT", "WIDGET"]))
        def edit_item(self, s: str, vc: str, sku: str) -> None:
            with self.site(s).session() as ses:
                ses.scalars(select(Item).where(Item.sku == sku)).one().velocity_class = vc
                ses.commit()

        @rule(s=SITES, batch=st.sampled_from([1, 3, 1000]))
        def push(self, s: str, batch: int) -> None:
            self.site(s).sync(do_pull=False, batch_size=batch)

        @rule(s=SITES)
        def pull(self, s: str) -> None:
            self.site(s).sync(do_push=False)

        @rule(s=SITES)
        def push_with_dropped_connection(self, s: str) -> None:
            real = push_mod.upsert_rows
            admin_dsn = self.net.server.dsn

            def drop(cur: Any, t: Any, rows: Any, head_office: bool) -> set[str]:
                with psycopg.connect(admin_dsn, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (cur.connection.info.backend_pid,))
                return real(cur, t, rows, head_office)

            push_mod.upsert_rows = drop
            try:
                pending = self.site(s).scalar("SELECT count(*) FROM sync_outbox")
                res = sync_once(self.site(s).engine, self.site(s).dsn)
                assert res.ok == (pending == 0) or not res.ok
                assert res.pending >= (pending if not res.ok else 0)
            finally:
                push_mod.upsert_rows = real

        def teardown(self) -> None:
            try:
                n = self.net
                quiesce(n.hq, n.dal, n.hou)
                srv = server_hashes(n.server)
                for name, s in (("hq", n.hq), ("dal", n.dal), ("hou", n.hou)):
                    if selective and name != "hq":
                        w = n.world
                        b, wh = (w.dal, w.wh_dal) if name == "dal" else (w.hou, w.wh_hou)
                        assert_scoped_convergence(n, s, b.id.hex, [wh.id.hex])
                        with s.session() as ses:  # its own stock only: no sister's receipt concerns it
                            assert on_hand(ses, n.world.items["BOLT"].id) == self.received[name]
                    else:
                        assert site_hashes(s) == srv
                        with s.session() as ses:
                            assert on_hand(ses, n.world.items["BOLT"].id) == sum(self.received.values())
                    assert s.scalar("SELECT count(*) FROM sync_outbox") == 0
                assert n.server.query("SELECT count(*) FROM stock_move")[0][0] == self.moves
                owners = n.server.query("SELECT number, replace(owner_branch_id::text, '-', '') FROM sales_order")
                ids = {"DAL": n.world.dal.id.hex, "HOU": n.world.hou.id.hex}
                assert all(owner == ids[num[:3]] for num, owner in owners)
            finally:
                self._cm.__exit__(None, None, None)

    run_state_machine_as_test(Replication, settings=settings(
        max_examples=25 if SLOW else 3, stateful_step_count=40 if SLOW else 12, deadline=None,
        suppress_health_check=list(HealthCheck)))
