"""Orders and allocation over real replication: three SQLite sites and the real PostgreSQL server.

Dallas takes an order for a customer on credit stop (held, with its reason and an exception);
head office, which does not own Dallas's orders, releases the hold with a row of its own; after
Dallas's next pull its settler applies the release and the allocation follow-up reserves the stock
(ledger rows of Dallas naming Dallas's run). Everything converges: the order allocated, the run and
its rows, the release, at every site, nothing refused, every site equal to the server.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models.allocation import Allocation, AllocationRun
from app.models.exceptions import ExceptionItem
from app.models.sales import CreditRelease, SalesOrder
from app.services import masterdata as md
from app.services.auth import actor_for, create_user
from app.services.sales import credit
from app.services.sales.orders import LineInput, create_order
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def _sync(site: Site) -> None:
    res = site.sync()
    assert res.settle_errors == [] and res.rejected == 0 and res.lost == 0, res


def test_head_office_releases_a_dallas_credit_hold_and_dallas_allocates(net: Net) -> None:
    w = net.world
    with net.hq.session() as s:
        md.create_customer(s, "STOPCO", "Stop Co", credit_hold=True, credit_note="cheque returned")
        create_user(s, "clara", "secret-clara", ["clerk"], owner_branch_id=w.ho.id, branch_id=w.dal.id)
        create_user(s, "carl", "secret-carl", ["manager"], owner_branch_id=w.ho.id, branch_id=w.ho.id)
        s.commit()
    _sync(net.hq)
    _sync(net.dal)
    receive(net.dal, net.world, "DAL", "WIDGET", 40)
    with net.dal.session() as s:
        from app.models.users import User

        clara = actor_for(s, s.scalars(select(User).where(User.username == "clara")).one())
        res = create_order(s, clara, customer="STOPCO", warehouse="DAL1", lines=[LineInput("WIDGET", 25)])
        assert res.order.status == "credit_hold" and res.held == "customer STOPCO is on credit stop: cheque returned"
        s.commit()
        order_id, number = res.order.id, res.order.number
    _sync(net.dal)

    _sync(net.hq)
    with net.hq.session() as s:
        from app.models.users import User

        carl = actor_for(s, s.scalars(select(User).where(User.username == "carl")).one())
        done = credit.release(s, carl, order_id, "paid by wire")
        s.commit()
        assert not done.applied and done.message == f"{number} released; DAL applies it at its next sync"
        assert s.get(SalesOrder, order_id).status == "credit_hold"  # type: ignore[union-attr]  (DAL's to change)
        row = s.scalars(select(CreditRelease)).one()
        assert row.owner_branch_id == w.ho.id
    _sync(net.hq)

    _sync(net.dal)  # the settler applies the release; the follow-up allocates from what is free
    with net.dal.session() as s:
        so = s.get(SalesOrder, order_id)
        assert so is not None and (so.status, so.credit_released_by) == ("allocated", "carl")
        (run,) = s.scalars(select(AllocationRun)).all()
        assert (run.kind, run.number, run.owner_branch_id) == ("order", "DAL-AL-000001", w.dal.id)
        assert [a.qty for a in s.scalars(select(Allocation).where(Allocation.order_id == order_id))] == [25]
        exc = s.scalars(select(ExceptionItem).where(ExceptionItem.entity_id == order_id)).one()
        assert (exc.status, exc.resolution) == ("resolved", "released by carl: paid by wire")
    _sync(net.dal)

    quiesce(net.hq, net.dal, net.hou)
    for site in (net.hq, net.hou):
        with site.session() as s:
            assert s.get(SalesOrder, order_id).status == "allocated"  # type: ignore[union-attr]
            assert [a.qty for a in s.scalars(select(Allocation))] == [25]
    expected = server_hashes(net.server)
    for site in (net.hq, net.dal, net.hou):
        assert site_hashes(site) == expected
