"""Imports point one way and follow-ups are registered where they are defined (docs/architecture.md).

``lint-imports`` checks the contracts in pyproject.toml: the application's layers (cli > gui > views >
services > models), the services' chain and foundations, no import cycle in any package (imports
inside functions count), screens using models only as types, reports importing nothing of the app.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.services import events, jobs, ownership, wiring
from app.services.events import StockArrived

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "app" / "services"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") == 5


def test_every_folder_of_code_is_a_package_the_contracts_can_see() -> None:
    """A folder of modules without ``__init__.py`` is a namespace package, which the import graph
    skips: its imports would escape every contract."""
    loose = sorted(str(d.relative_to(ROOT)) for top in ("app", "reports") for d in (ROOT / top).rglob("*")
                   if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").exists())
    assert loose == []


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports_app(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        return (stmt.module or "").startswith("app")
    return isinstance(stmt, ast.Import) and any(a.name.startswith("app") for a in stmt.names)


def test_no_service_imports_by_name_or_guards_an_import() -> None:
    """No ``importlib`` "area not installed" guard and no ``try: import app...`` in the services: a
    package either is imported (and the contracts say in which direction) or is not used. (An
    optional third-party backend, like the OS keyring, may still be guarded.)"""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        if path == SERVICES / "wiring.py":  # the composition root loads the packages by name
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: importlib.import_module")
            if isinstance(node, ast.Try) and any(_imports_app(s) for s in node.body):
                names = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
                if names & {"ImportError", "ModuleNotFoundError"}:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import guarded by {names}")
    assert found == []


def _registers(path: Path) -> bool:
    """Does the module register a follow-up handler (``@on(...)``), a settler (``@settler(...)``) or
    a background job (``jobs.register(...)``)?"""
    for node in ast.walk(_tree(path)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "jobs"):
            return True
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and dec.func.id in ("on", "settler"):
                    return True
    return False


def test_wiring_loads_every_module_that_registers_a_follow_up_or_a_settler() -> None:
    registering = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                   for p in SERVICES.rglob("*.py") if _registers(p)}
    assert registering, "the check finds nothing: it is broken"
    assert registering - set(wiring.modules()) == set(), "add the package (or module) to app.services.wiring"
    wiring.load()
    names = {r.name for r in events.handlers()}
    assert {"buying.roll_up", "receiving.remainder", "inventory.release_backorders", "edi.orders"} <= names
    assert {"approvals", "purchasing.expected_receipts", "receiving.po_received", "requisitions",
            "backorders.elsewhere", "transfers.receipts"} <= set(ownership.registered_settlers())
    assert {"mail", "sync", "tracking.poll"} <= {j.name for j in jobs.registered()}


def test_follow_ups_load_the_packages_on_first_need(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_loaded", False)
    monkeypatch.setattr(events, "_loader", None)
    wiring.install()
    events.emit(session, StockArrived(None, warehouse_id=None, item_ids=(), source="test"))  # type: ignore[arg-type]
    assert events.loaded()


def test_follow_ups_refuse_to_run_when_nothing_can_load_them(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_loaded", False)
    monkeypatch.setattr(events, "_loader", None)
    with pytest.raises(RuntimeError, match=r"wiring\.install\(\)"):
        events.emit(session, StockArrived(None, warehouse_id=None, item_ids=(), source="test"))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"wiring\.install\(\)"):
        ownership.settle_all(session)


def test_follow_ups_run_in_order_and_only_for_what_they_match(session: Session) -> None:
    seen: list[str] = []
    events.on(StockArrived, name="test.b", order=60)(lambda _s, e: seen.append("b"))
    events.on(StockArrived, name="test.a", order=40, source="rma")(lambda _s, e: seen.append("a"))
    try:
        events.emit(session, StockArrived(None, warehouse_id=None, item_ids=(), source="rma"))  # type: ignore[arg-type]
        events.emit(session, StockArrived(None, warehouse_id=None, item_ids=(), source="receipt"))  # type: ignore[arg-type]
    finally:
        events.unregister("test.a")
        events.unregister("test.b")
    assert seen == ["a", "b", "b"]
