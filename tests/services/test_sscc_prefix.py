"""The GS1 company prefix is a branch setting: its cartons' SSCCs carry it; a branch without one
keeps GS1's example prefix (the demo) and says so; a prefix that is not 7-10 digits is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services.dispatch.sscc import is_valid, next_sscc, prefix_of
from app.services.errors import ValidationError
from app.services.org import sites
from tests.factories import World


def test_a_branch_prefix_goes_into_its_ssccs(session: Session, world: World) -> None:
    assert prefix_of(session, world.dal.id) == ("0614141", True)
    example = next_sscc(session, world.dal.id)
    assert is_valid(example) and example.startswith("00614141")
    info = sites.update_branch(session, world.actors["root"], "DAL", gs1_prefix=" 0712345678 ")
    assert info.gs1_prefix == "0712345678" and prefix_of(session, world.dal.id) == ("0712345678", False)
    own = next_sscc(session, world.dal.id)
    assert is_valid(own) and own[1:11] == "0712345678" and len(own) == 18
    assert prefix_of(session, world.hou.id) == ("0614141", True)  # each branch its own
    sites.update_branch(session, world.actors["root"], "DAL", gs1_prefix="")
    assert prefix_of(session, world.dal.id) == ("0614141", True)


@pytest.mark.parametrize("bad", ["123456", "12345678901", "07123A5", "0614141"])
def test_a_prefix_that_is_not_a_company_prefix_is_refused(session: Session, world: World, bad: str) -> None:
    with pytest.raises(ValidationError, match="GS1 company prefix"):
        sites.update_branch(session, world.actors["root"], "DAL", gs1_prefix=bad)
    assert world.dal.gs1_prefix == ""


def test_the_prefix_on_the_command_line(world: World, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(db_path)
    assert run(["--db", db, "branch", "set", "DAL", "--gs1-prefix", "12345", "--user", "root"]) == 1
    assert capsys.readouterr().err.strip() == ("depot: error: GS1 company prefix: must be 7 to 10 digits (the prefix "
                                               "GS1 gave the company), not '12345'")
    assert run(["--db", db, "branch", "set", "DAL", "--gs1-prefix", "0712345", "--user", "root"]) == 0
    capsys.readouterr()
    assert run(["--db", db, "branch", "list", "--json"]) == 0
    out = capsys.readouterr().out
    rows = {b["code"]: b for b in json.loads(out[out.index("["):])}
    assert rows["DAL"]["gs1_prefix"] == "0712345"
    assert rows["HOU"]["gs1_prefix"] == "0614141 (GS1 example: demo only)"
