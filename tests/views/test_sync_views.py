"""The sync status bar text and the Sync panel when their background reads land out of order.

Both refresh from reads on the op runner's read pool; on a busy machine an older read (from
before a sync finished) can land after a newer one. What is shown must be the newest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.services.settings import Settings
from app.views.context import AppContext, make_test_context
from app.views.sync import controller as sc
from app.views.sync import panel as sp
from tests.factories import World


@pytest.fixture
def ctx(engine: Engine, world: World, tmp_path: Path) -> Iterator[AppContext]:
    c = make_test_context(engine, world.actors["alice"], Settings(tmp_path / "alice.json"))
    yield c
    assert c.runner.wait_idle(10000)
    c.runner.shutdown()


class _Slow:
    """Wraps a read: its first call waits until released and returns ``stale`` (the older read)."""

    def __init__(self, real: Any, stale: Any) -> None:
        self.real, self.stale = real, stale
        self.calls = 0
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            self.release.wait(10)
            return self.stale
        return self.real(*args)


class _Line:
    def __init__(self, text: str) -> None:
        self.text = text

    def line(self) -> str:
        return self.text


def test_status_bar_shows_the_newest_status_read(qtbot: QtBot, ctx: AppContext,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    slow = _Slow(lambda _bind: _Line("online · 0 pending"), _Line("online · 3 pending"))
    monkeypatch.setattr(sc, "status", slow)
    ctrl = sc.SyncController(ctx, interval_s=3600, autostart=False)
    states: list[str] = []
    ctrl.state_changed.connect(states.append)
    ctrl._read_status()  # after a local write: 3 pending (slow to land)
    assert slow.entered.wait(5)
    with qtbot.waitSignal(ctrl.state_changed, timeout=5000):
        ctrl._read_status()  # after the sync that pushed them: 0 pending
    slow.release.set()
    assert ctx.runner.wait_idle(5000)
    assert states == ["online · 0 pending"]
    ctrl.stop()


def test_sync_panel_shows_the_newest_refresh(qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = [{"seq": 1, "tbl": "sales_order", "row_id": "x", "op": "u", "changed_at": ""}]
    slow = _Slow(sp.rep.pending_changes, stale)
    monkeypatch.setattr(sp.rep, "pending_changes", slow)
    panel = sp.SyncPanel(ctx)  # its first read is slow: it lands after the next one
    qtbot.addWidget(panel)
    assert slow.entered.wait(5)
    panel.refresh()  # as after a sync finished: the database's own list
    qtbot.waitUntil(lambda: panel.tabs.tabText(1) != "Pending changes", timeout=5000)
    shown = (panel.tabs.tabText(1), [r["row_id"] for r in panel.pending.rows()])
    assert "x" not in shown[1]
    slow.release.set()
    assert ctx.runner.wait_idle(5000)
    assert (panel.tabs.tabText(1), [r["row_id"] for r in panel.pending.rows()]) == shown  # the stale read is dropped
    panel.controller.stop()
