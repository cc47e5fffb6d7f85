"""A new file set up from nothing: company, head office first, branches, warehouses, zones, bins, and
who may do it (nobody needs to sign in until the first admin exists; then only an admin)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.org import Company, Location
from app.services.auth import actor_for, login
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.org import company as co
from app.services.org import locations as locs
from app.services.org import sites
from app.services.org.setup import in_setup, setup_state
from app.services.users import add_user


def _png(w: int = 60, h: int = 20) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (31, 78, 121)).save(buf, "PNG")
    return buf.getvalue()


def _company(session: Session) -> None:
    sites.add_branch(session, None, "HQ", "Head office", head_office=True, timezone="America/Chicago")
    sites.add_branch(session, None, "DAL", "Dallas", address="1 Commerce St")
    sites.add_warehouse(session, None, "DAL1", "DAL", "Dallas DC")


def test_a_new_file_is_set_up_without_signing_in_until_its_first_admin_exists(session: Session) -> None:
    assert in_setup(session) and setup_state(session).needs_setup
    _company(session)
    with pytest.raises(ValidationError, match="the first user of a file must be an admin"):
        add_user(session, None, "bea", "correct-horse", ["buyer"])
    ada = add_user(session, None, "ada", "correct-horse", ["admin"], full_name="Ada Admin")
    assert ada.branch == "HQ" and ada.roles == ("admin",)
    state = setup_state(session)
    assert (state.head_office, state.branches, state.warehouses, state.users, state.this_branch) == ("HQ", 2, 1, 1, "HQ")
    # from now on nobody changes the organisation without signing in
    with pytest.raises(PermissionDenied, match="this file has users"):
        sites.add_branch(session, None, "HOU", "Houston")
    with pytest.raises(PermissionDenied, match="this file has users"):
        add_user(session, None, "eve", "correct-horse", ["admin"])
    admin = login(session, "ada", "correct-horse")
    sites.add_branch(session, admin, "HOU", "Houston")
    bea = actor_for(session, _user(session, add_user(session, admin, "bea", "correct-horse", ["buyer"], branch="DAL")))
    with pytest.raises(PermissionDenied, match="bea may not change settings"):
        sites.add_warehouse(session, bea, "HOU1", "HOU", "Houston DC")
    assert session.scalar(text("SELECT count(*) FROM warehouse")) == 1


def _user(session: Session, info: object) -> object:
    from app.models.users import User

    return session.get(User, info.id)  # type: ignore[attr-defined]


def test_the_head_office_comes_first_and_there_is_only_one(session: Session) -> None:
    with pytest.raises(ValidationError, match="create the head office first"):
        sites.add_branch(session, None, "DAL", "Dallas")
    sites.add_branch(session, None, "HQ", "Head office", head_office=True)
    with pytest.raises(Conflict, match="HQ is already the head office"):
        sites.add_branch(session, None, "HQ2", "Other head office", head_office=True)
    with pytest.raises(ValidationError, match="branch code: HQ already exists"):
        sites.add_branch(session, None, "hq", "Again")
    with pytest.raises(ValidationError, match="is not a known time zone"):
        sites.add_branch(session, None, "DAL", "Dallas", timezone="Mars/Olympus")
    with pytest.raises(NotFound, match="unknown branch XX"):
        sites.add_warehouse(session, None, "X1", "XX", "Nowhere")
    assert [b.code for b in sites.list_branches(session)] == ["HQ"]


def test_company_profile_is_the_letterhead_of_the_po_pdf(session: Session) -> None:
    with pytest.raises(ValidationError, match="create the head office branch first"):
        co.set_company(session, None, name="Lone Star Supply")
    _company(session)
    with pytest.raises(ValidationError, match="company name: is required"):
        co.set_company(session, None, address="no name")
    with pytest.raises(ValidationError, match="base currency: 'dollars' is not a three-letter"):
        co.set_company(session, None, name="Lone Star Supply", base_currency="dollars")
    with pytest.raises(ValidationError, match="logo: is not a readable PNG or JPEG"):
        co.set_company(session, None, name="Lone Star Supply", logo=b"GIF89a not really")
    with pytest.raises(ValidationError, match="more than 512 KB"):
        co.set_company(session, None, name="Lone Star Supply", logo=b"\x89PNG" + b"0" * 600_000)
    assert session.scalar(select(func.count()).select_from(Company)) == 0
    co.set_company(session, None, name="Lone Star Supply", address="100 Main St\nAustin TX", tax_id="74-1234567",
                   phone="+1 512 555 0100", base_currency="usd", timezone="America/Chicago", logo=_png())
    got = co.get_company(session)
    assert got is not None and got.base_currency == "USD" and got.logo_mime == "image/png"
    lh = co.letterhead(session, sites.find_branch(session, "DAL").id)
    assert lh.name == "Lone Star Supply" and lh.logo == _png() and lh.branch == "Dallas, 1 Commerce St"

    # the PO PDF prints it: name, address, tax id, issuing branch, and the logo as an image
    from app.services import masterdata as md
    from app.services.buying.po_documents import po_pdf
    from app.services.buying.purchasing import LineInput, create_po

    admin = actor_for(session, _user(session, add_user(session, None, "ada", "correct-horse", ["admin"])))
    item = md.create_item(session, "BOLT", "Hex bolt")
    sup = md.create_supplier(session, "FAST", "Fastco")
    md.link_item_supplier(session, item, sup, contract_price="0.25")
    po = create_po(session, admin, "FAST", "DAL1", [LineInput(sku="BOLT", qty=100)])
    _name, pdf = po_pdf(session, po.number)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    words = page.extract_text()
    assert "Lone Star Supply" in words and "Austin TX" in words and "Tax id 74-1234567" in words
    assert "Issued by Dallas, 1 Commerce St" in words and "Depot ·" not in words
    assert len(page.images) == 1


def test_bins_by_pattern_walk_in_serpentine_order(session: Session) -> None:
    _company(session)
    sites.add_zone(session, None, "DAL1", "AMB", name="Ambient")
    preview = locs.generate_bins(session, None, "DAL1", aisles="A01-A02", bays="01-03", levels="1-2", zone="AMB",
                                 dry_run=True)
    assert preview.count == 12 and not preview.written
    assert session.scalar(select(func.count()).select_from(Location).where(Location.kind == "storage")) == 0
    r = locs.generate_bins(session, None, "DAL1", aisles="A01-A02", bays="01-03", levels="1-2", role="pick",
                           zone="AMB")
    assert r.written and r.count == 12 and (r.first_walk, r.last_walk) == (1, 12)
    walk = [x.code for x in sites.list_locations(session, "DAL1", kind="storage")]
    # up aisle A01 (bays 01, 02, 03), down A02 (03, 02, 01); both levels of a bay before the next bay
    assert walk == ["A01-01-1", "A01-01-2", "A01-02-1", "A01-02-2", "A01-03-1", "A01-03-2",
                    "A02-03-1", "A02-03-2", "A02-02-1", "A02-02-2", "A02-01-1", "A02-01-2"]
    assert {x.zone for x in sites.list_locations(session, "DAL1", kind="storage")} == {"AMB"}
    # generating again clashes on the first code: refused whole, nothing added
    with pytest.raises(ValidationError, match="A01-01-1 already exists in warehouse DAL1 \\(and 11 more\\)"):
        locs.generate_bins(session, None, "DAL1", aisles="A01-A02", bays="01-03", levels="1-2")
    # a second block continues the walk after the first
    r2 = locs.generate_bins(session, None, "DAL1", aisles="B01", bays="1-2", levels="1")
    assert (r2.first_walk, r2.last_walk) == (13, 14)
    assert session.scalar(text("SELECT count(*) FROM sync_outbox WHERE tbl = 'location' AND op = 'I'")) >= 14


@pytest.mark.parametrize(("aisles", "bays", "levels", "message"), [
    ("A01-B05", "1", "1", "both ends need the same prefix"),
    ("A20-A01", "1", "1", "the start is after the end"),
    ("A01-A20", "1-400", "1-30", "more than 200,000 in one go"),
    ("A01", "1,1", "1", "1 named twice"),
    ("", "1", "1", "aisles: is required"),
    ("A/1", "1", "1", "is not a range"),
])
def test_bad_patterns_say_what_is_wrong(session: Session, aisles: str, bays: str, levels: str, message: str) -> None:
    _company(session)
    with pytest.raises(ValidationError, match=message):
        locs.generate_bins(session, None, "DAL1", aisles=aisles, bays=bays, levels=levels)


def test_a_pattern_that_names_two_bins_alike_is_refused(session: Session) -> None:
    _company(session)
    with pytest.raises(ValidationError, match="gives several bins the same code"):
        locs.generate_bins(session, None, "DAL1", aisles="A-B", bays="1-2", levels="1", pattern="{aisle}-{level}")
    with pytest.raises(ValidationError, match="unknown zone ZZ"):
        locs.generate_bins(session, None, "DAL1", aisles="A", bays="1", levels="1", zone="ZZ")


def test_single_locations_follow_the_bin_rules(session: Session) -> None:
    _company(session)
    sites.add_location(session, None, "DAL1", "D02", kind="dock")
    with pytest.raises(ValidationError, match="location code: D02 already exists in warehouse DAL1"):
        sites.add_location(session, None, "DAL1", "d02", kind="dock")
    with pytest.raises(ValidationError, match="kind: 'shelf' is not one of"):
        sites.add_location(session, None, "DAL1", "X1", kind="shelf")
    with pytest.raises(ValidationError, match="min qty: 9 is above max qty 3"):
        sites.add_location(session, None, "DAL1", "P1", role="pick", fixed_sku="NOPE", min_qty=9, max_qty=3)
    assert sites.list_warehouses(session)[0].docks == 2  # DOCK made with the warehouse, and D02
