"""The scan grammar: every kind of barcode a receiver meets, and the ones that must be refused."""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.errors import ValidationError
from app.services.receiving.scan import GS, gs1_check_digit, parse_element_string, parse_scan, parse_yymmdd


def test_check_digit_matches_known_gtins() -> None:
    assert gs1_check_digit("0001234567890") == 5  # 00012345678905
    assert gs1_check_digit("400638133393") == 1   # EAN-13 4006381333931
    assert gs1_check_digit("9638507") == 4        # GTIN-8 96385074


@pytest.mark.parametrize("raw, gtin", [
    ("96385074", "00000096385074"), ("012345678905", "00012345678905"),
    ("4006381333931", "04006381333931"), ("00012345678905", "00012345678905"), ("  4006381333931\r\n", "04006381333931"),
])
def test_gtins_of_every_length_normalise_to_14_digits(raw: str, gtin: str) -> None:
    s = parse_scan(raw)
    assert (s.kind, s.gtin) == ("gtin", gtin)


def test_wrong_check_digit_is_refused_not_treated_as_sku() -> None:
    with pytest.raises(ValidationError, match="check digit is wrong"):
        parse_scan("4006381333932")


@pytest.mark.parametrize("raw, qty", [("*12", 12), ("Q12", 12), ("q 7", 7), ("*1", 1)])
def test_quantity_keys(raw: str, qty: int) -> None:
    assert parse_scan(raw).qty == qty


def test_zero_quantity_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="more than zero"):
        parse_scan("*0")


def test_gs1_with_parentheses() -> None:
    s = parse_scan("(01)00012345678905(10)L-42(17)270131(37)6")
    assert (s.kind, s.gtin, s.lot, s.expiry, s.count) == ("gs1", "00012345678905", "L-42", dt.date(2027, 1, 31), 6)


def test_gs1_raw_with_fnc1_and_symbology_prefix() -> None:
    raw = "]C1" + "0100012345678905" + "10ABC" + GS + "17270100" + "21SN-9"
    s = parse_scan(raw)
    assert (s.gtin, s.lot, s.expiry, s.serial) == ("00012345678905", "ABC", dt.date(2027, 1, 31), "SN-9")


def test_gs1_raw_without_prefix_and_sscc_forms() -> None:
    assert parse_scan("0100012345678905" + "10LOT7").lot == "LOT7"
    assert parse_scan("00" + "003456789012345670").sscc == "003456789012345670"
    assert parse_scan("003456789012345670").kind == "sscc"
    assert parse_scan("(00)003456789012345670").sscc == "003456789012345670"


def test_sscc_with_bad_check_digit_is_refused() -> None:
    with pytest.raises(ValidationError, match="SSCC"):
        parse_scan("003456789012345675")


def test_element_string_errors_name_the_problem() -> None:
    with pytest.raises(ValidationError, match=r"unsupported GS1 application identifier \(99\)"):
        parse_element_string("99ABC")
    with pytest.raises(ValidationError, match="wrong length"):
        parse_scan("(01)0001234567890")
    with pytest.raises(ValidationError, match="without"):
        parse_scan("(10)LOT1")


def test_yymmdd_day_zero_is_month_end_and_bad_dates_refused() -> None:
    assert parse_yymmdd("280200") == dt.date(2028, 2, 29)
    with pytest.raises(ValidationError, match="month 13"):
        parse_yymmdd("271301")
    with pytest.raises(ValidationError, match="not a real date"):
        parse_yymmdd("270231")


def test_prefixed_text_and_plain_text() -> None:
    assert parse_scan("LOT:ab1").lot == "ab1"
    assert parse_scan("SN:X1").serial == "X1"
    assert parse_scan("EXP:2027-03-01").expiry == dt.date(2027, 3, 1)
    assert parse_scan("R:damaged").reason == "damaged"
    assert parse_scan("widget").text == "widget"
    with pytest.raises(ValidationError, match="not a reason"):
        parse_scan("R:LOST")
    with pytest.raises(ValidationError, match="empty scan"):
        parse_scan("   ")
