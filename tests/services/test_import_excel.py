"""CSV files as Excel and other spreadsheets save them: encodings, separators, decimal commas,
byte-order marks, CRLF, trailing empty columns, workbooks saved under a .csv name."""

from __future__ import annotations

import codecs
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.parties import Supplier
from app.services.errors import DomainError, ValidationError
from app.services.importer import ImportRejected, import_csv
from app.services.importer.csvfile import decode, delimiter_option, detect_delimiter
from tests.factories import World

# What Excel on a German/French Windows writes for "CSV (Trennzeichen-getrennt)": Windows-1252,
# semicolons, CRLF, a decimal comma, and every row as wide as the widest row ever was.
EXCEL_DE = ("sku;description;standard_cost;list_price;category;;\r\n"
            "CAFE-1;Café crème 1 kg;3,10;6,5;Getränke;;\r\n"
            "OEL-5;Öl für Kühlschränke – 5 l;12,00;19;Zubehör;;\r\n"
            "EUR-1;Preis in € (netto);0,0725;0,19;;;\r\n")


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def items(session: Session) -> dict[str, Item]:
    return {i.sku: i for i in session.scalars(select(Item).where(Item.sku.in_(["CAFE-1", "OEL-5", "EUR-1"])))}


def test_windows_1252_semicolons_and_decimal_commas_as_excel_saves_them(session: Session, world: World,
                                                                        tmp_path: Path) -> None:
    path = tmp_path / "artikel.csv"
    path.write_bytes(EXCEL_DE.encode("cp1252"))
    result = import_csv(session, world.actors["root"], "items", path)
    session.commit()
    assert (result.imported, result.encoding, result.delimiter) == (3, "windows-1252", ";")
    assert result.notes == ["read as Windows-1252 (the file is not UTF-8)", "columns separated by semicolon"]
    got = items(session)
    assert got["CAFE-1"].description == "Café crème 1 kg" and got["CAFE-1"].category == "Getränke"
    assert got["OEL-5"].description == "Öl für Kühlschränke – 5 l"  # en dash: a Windows-1252-only character
    assert got["EUR-1"].description == "Preis in € (netto)"
    assert (got["CAFE-1"].standard_cost, got["CAFE-1"].list_price) == (Decimal("3.1"), Decimal("6.5"))
    assert got["EUR-1"].standard_cost == Decimal("0.0725")
    assert result.as_dict()["encoding"] == "windows-1252"


@pytest.mark.parametrize("encoding, bom, sep, note", [
    ("utf-8", codecs.BOM_UTF8, ",", []),  # Excel's "CSV UTF-8"
    ("utf-8", b"", ";", ["columns separated by semicolon"]),  # LibreOffice, semicolons
    ("utf-16-le", codecs.BOM_UTF16_LE, "\t", ['read as UTF-16 (Excel\'s "Unicode text")', "columns separated by tab"]),
    ("utf-16-be", codecs.BOM_UTF16_BE, "\t", ['read as UTF-16 (Excel\'s "Unicode text")', "columns separated by tab"]),
])
def test_every_encoding_and_separator_excel_offers(session: Session, world: World, tmp_path: Path, encoding: str,
                                                   bom: bytes, sep: str, note: list[str]) -> None:
    body = (f"sku{sep}description{sep}list_price\r\n"
            f"CAFE-1{sep}\"Café crème{sep} 1 kg\"{sep}6.5\r\n"
            f"EUR-1{sep}Preis in €{sep}0.19\r\n")
    path = tmp_path / "items.csv"
    path.write_bytes(bom + body.encode(encoding))
    result = import_csv(session, world.actors["root"], "items", path)
    assert result.imported == 2 and result.notes == note and result.delimiter == sep
    got = items(session)
    assert got["CAFE-1"].description == f"Café crème{sep} 1 kg" and got["EUR-1"].description == "Preis in €"


def test_excel_sep_line_decides_the_separator_and_keeps_line_numbers(session: Session, world: World,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"sep=;\r\ncode;name;over_receipt_pct\r\nS1;One, Two & Co;5,5\r\nS2;Bad;x\r\n")
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "suppliers", path)
    assert [(p.line, p.reason) for p in e.value.problems] == [(4, "over_receipt_pct: 'x' is not a number")]
    session.rollback()
    result = import_csv(session, world.actors["root"], "suppliers", path, skip_bad=True)
    assert result.notes == ["columns separated by semicolon (the file's sep= line)"]
    s1 = session.scalars(select(Supplier).where(Supplier.code == "S1")).one()
    assert (s1.name, s1.over_receipt_pct) == ("One, Two & Co", Decimal("5.5"))


def test_a_utf8_file_is_not_guessed_as_windows_1252_and_the_user_can_say_otherwise(
        session: Session, world: World, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes("sku,description\nA-1,Crème brûlée\n".encode())
    assert import_csv(session, world.actors["root"], "items", path).encoding == "utf-8"
    assert session.scalars(select(Item.description).where(Item.sku == "A-1")).one() == "Crème brûlée"
    session.rollback()
    # the user knows better: these bytes were meant as Windows-1252 (they are valid UTF-8 by chance)
    result = import_csv(session, world.actors["root"], "items", path, encoding="cp1252")
    assert result.notes == ["read as cp1252 (as asked)"]
    assert session.scalars(select(Item.description).where(Item.sku == "A-1")).one() == "CrÃ¨me brÃ»lÃ©e"


def test_delimiter_override_and_the_hint_when_detection_cannot_tell(session: Session, world: World,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "pipes.csv"
    path.write_text("sku|description\nP-1|Pipe, 1 inch\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "items", path)
    assert "header: missing column(s) sku, description" in str(e.value)
    assert "name it with --delimiter" in str(e.value)
    session.rollback()
    result = import_csv(session, world.actors["root"], "items", path, delimiter="|")
    assert result.imported == 1 and result.delimiter == "|"
    assert session.scalars(select(Item.description).where(Item.sku == "P-1")).one() == "Pipe, 1 inch"
    assert delimiter_option("tab") == "\t" and delimiter_option("semicolon") == ";" and delimiter_option(None) is None
    for bad in ("ab", "x", '"'):
        with pytest.raises(ValidationError, match="delimiter"):
            delimiter_option(bad)
    with pytest.raises(ValidationError, match="unknown encoding 'klingon'"):
        import_csv(session, world.actors["root"], "items", path, encoding="klingon")


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


@pytest.mark.parametrize("data, message", [
    (_xlsx(), "this is an Excel workbook (.xlsx), not a CSV file; in Excel use File > Save As > CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an old Excel workbook (.xls)"),
    (b"sku,description\nA,\x81\x8d\n", "line 2: byte 0x81 is neither UTF-8 nor Windows-1252"),
    (b"sku,description\nA,B\nC,D\x00E\n", "line 3: the file holds NUL bytes"),
    (codecs.BOM_UTF8 + b"sku,description\nA,\xff\n", "line 2: the file is not valid UTF-8 (its byte-order mark says it is)"),
    (b"", "the file is empty (a header row is required)"),
    (b"\r\n\r\n  \r\n", "the file is empty (a header row is required)"),
])
def test_files_that_are_not_csv_text_are_refused_with_what_they_are(session: Session, world: World, tmp_path: Path,
                                                                    data: bytes, message: str) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(data)
    before = count(session, Item)
    with pytest.raises(DomainError) as e:
        import_csv(session, world.actors["root"], "items", path, skip_bad=True)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert count(session, Item) == before


def test_utf16_without_a_byte_order_mark_is_recognised() -> None:
    text = decode("sku\tdescription\r\nA\tÄpfel\r\n".encode("utf-16-le"), "x.csv")
    assert text.text.startswith("sku\tdescription") and text.encoding == "utf-16-le"


def test_a_broken_quote_refuses_the_whole_file_even_with_skip_bad(session: Session, world: World,
                                                                  tmp_path: Path) -> None:
    """Rows after an unclosed quote cannot be read; importing the ones before would be a partial import."""
    path = tmp_path / "items.csv"
    path.write_text('sku,description\nA-1,ok\nA-2,"never closed\n' + ("B,x\n" * 40000) + ("y" * 200_000) + "\n")
    with pytest.raises(ImportRejected, match="not valid CSV from here on .*nothing imported"):
        import_csv(session, world.actors["root"], "items", path, skip_bad=True)
    assert session.scalar(select(func.count()).select_from(Item).where(Item.sku == "A-1")) == 0


def test_excel_scientific_notation_in_a_gtin_column_is_explained(session: Session, world: World,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes("sku;description;gtin\r\nG-1;Glühbirne;4,00638E+12\r\n".encode("cp1252"))
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "items", path)
    assert "gtin: '4,00638E+12' is a number in scientific notation" in str(e.value)
    assert e.value.notes == ["read as Windows-1252 (the file is not UTF-8)", "columns separated by semicolon"]


def test_detect_delimiter_prefers_the_split_that_names_known_columns() -> None:
    known = ["sku", "description", "list_price"]
    assert detect_delimiter("sku;description;list_price\n", known) == (";", False)
    assert detect_delimiter('"sku","description, long"\n', known) == (",", False)
    assert detect_delimiter("sku\tdescription\n", known) == ("\t", False)
    assert detect_delimiter('"sep=|"\nsku|description\n', known) == ("|", True)
    assert detect_delimiter("", known) == (",", False)


def test_a_stray_quote_in_the_header_is_named_on_one_line(session: Session, world: World, tmp_path: Path) -> None:
    """Found by the property test: the quote pulls the next line into a column name."""
    path = tmp_path / "s.csv"
    path.write_bytes(b'code,name,"edi_id,edi_format\nS1,One Supply,ONEEDI,x12\n')
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "suppliers", path)
    assert "unknown column(s) edi_id,edi_format\\ns1" in str(e.value) and "\n" not in str(e.value)
