"""Head office and Dallas decide on Dallas's recommendations through the real server: each
decision (and lift) is its author's own row, the newest counts on every site, nothing is refused
at push. A Dallas import with a Houston row skips that row instead of pushing it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from app.services.buying import requisitions as rq
from app.services.importer import import_csv
from app.services.replenishment import run
from tests.factories import load_world
from tests.services.test_replenishment import TODAY, stock_and_sales
from tests.sync.conftest import Net, Site


def _shown(site: Site) -> tuple[set[str], int]:
    with site.session() as s:
        res = run(s, None, today=TODAY, history_weeks=4)
        return {r.sku for r in res.recommendations if r.warehouse_code == "DAL1"}, res.suppressed


def _clean(site: Site) -> None:
    res = site.sync()
    assert (res.rejected, res.pending) == (0, 0)
    assert site.scalar("SELECT count(*) FROM sync_conflict") == 0


def test_head_office_snoozes_a_dallas_need_and_dallas_lifts_it(net: Net) -> None:
    with net.dal.session() as s:
        w = load_world(s)
        stock_and_sales(s, w, "BOLT", w.wh_dal, on_hand_after=20)
        s.commit()
    _clean(net.dal)
    net.hq.sync()
    assert "BOLT" in _shown(net.hq)[0]

    with net.hq.session() as s:
        w = load_world(s)
        rq.snooze(s, w.actors["root"], [(w.items["BOLT"].id, w.wh_dal.id)], TODAY + dt.timedelta(days=7),
                  "price list due", today=TODAY)
        s.commit()
    _clean(net.hq)
    assert _shown(net.hq) == (set(), 1)
    assert net.server.query("SELECT b.code, d.kind FROM recommendation_decision d JOIN branch b "
                            "ON b.id = d.owner_branch_id") == [("HQ", "snooze")]

    net.dal.sync()
    assert _shown(net.dal) == (set(), 1), "Dallas's run honours head office's snooze after its pull"
    with net.dal.session() as s:
        w = load_world(s)
        assert rq.lift(s, w.actors["alice"], [(w.items["BOLT"].id, w.wh_dal.id)], today=TODAY) == 1
        s.commit()
    _clean(net.dal)
    assert _shown(net.dal) == ({"BOLT"}, 0)
    net.hq.sync()
    assert _shown(net.hq) == ({"BOLT"}, 0)
    assert sorted(net.server.query("SELECT b.code, d.kind, d.deleted_at IS NULL FROM recommendation_decision d "
                                   "JOIN branch b ON b.id = d.owner_branch_id")) == [
        ("DAL", "lift", True), ("HQ", "snooze", True)]


def test_a_dallas_stock_import_skips_houston_rows_and_pushes_clean(net: Net, tmp_path: Path) -> None:
    f = tmp_path / "stock.csv"
    f.write_text("warehouse,bin,sku,qty\nDAL1,A-02,BOLT,5\nHOU1,A-02,BOLT,7\n", encoding="utf-8")
    with Session(net.dal.engine, expire_on_commit=False) as s:
        w = load_world(s)
        admin = next(a for a in w.actors.values() if "admin" in a.roles)
        got = import_csv(s, admin, "stock", f, skip_bad=True)
        s.commit()
    assert got.imported == 1 and [p.reason for p in got.skipped] == [
        "warehouse HOU1 belongs to HOU: import it at a HOU workstation"]
    _clean(net.dal)
    assert net.server.query("SELECT count(*) FROM stock_move WHERE reason = 'opening'") == [(1,)]
