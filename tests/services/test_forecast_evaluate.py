"""`evaluate` on public-shaped data: reading long CSVs as people publish them, and the scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.services.errors import DomainError, ValidationError
from app.services.forecast import samples
from app.services.forecast.evaluate import evaluate, read_long_csv


def test_reads_months_weeks_dates_and_integers_and_lists_bad_rows() -> None:
    data = ("\ufeffseries_id;period;value\n"   # a byte-order mark and semicolons, as Excel saves
            "A;2020-01;1\nA;2020-02;2\nA;2020-04;4\n"  # 2020-03 missing: a gap
            "B;2021-W01;5\nB;2021-W02;6\n"
            "C;2020-01-31;7\nC;2020-02-29;8\n"
            "D;1;9\nD;2;10\n"
            "E;2020-13;1\nE;2020-05;abc\nE;2020-06;\n;2020-01;3\nA;2020-01;99\nshort-row\n").encode("utf-8")
    t = read_long_csv(data, name="x.csv")
    assert t.ids == ["A", "B", "C", "D", "E"]
    a = t.Y[0][~np.isnan(t.Y[0])]
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]  # the gap interpolated
    assert t.gaps_filled == 1
    assert t.bad_count == 5
    joined = " | ".join(t.bad_rows)
    for bit in ("line 11: period '2020-13'", "line 12: value 'abc' is not a number", "series_id is empty",
                "period '2020-01' twice", "1 columns"):
        assert bit in joined
    c = t.Y[2][~np.isnan(t.Y[2])]
    assert c.tolist() == [7.0, 8.0]  # month-end dates read as consecutive months


def test_refuses_a_workbook_and_a_file_without_series(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError, match="Excel workbook"):
        read_long_csv(b"PK\x03\x04rest", name="x.xlsx")
    with pytest.raises(ValidationError, match="first row must name"):
        read_long_csv(b"a,b,c\nx,y,z\n", name="x.csv")
    with pytest.raises(DomainError, match="no such file"):
        read_long_csv(tmp_path / "missing.csv")


def test_public_shaped_monthly_set_beats_seasonal_naive_in_every_class() -> None:
    t = read_long_csv(samples.to_long_csv(samples.make_series(600, seed=21)), name="m.csv")
    rep = evaluate(t, 18, 12)
    sel = rep["selection"]
    assert sel["avg_rel_mae"] < 0.92
    assert rep["methods"]["seasonal naive"]["avg_rel_mae"] == 1.0
    for c, v in rep["by_class"].items():
        if c in ("smooth", "erratic", "intermittent", "lumpy"):
            assert v["Depot selection"]["avg_rel_mae"] < 1.05, c
    assert rep["bad_rows"] == 2 and rep["skipped"] > 0  # the sample's bad rows and its short series
    for name, m in rep["methods"].items():
        for k, v in m.items():
            assert not (isinstance(v, float) and not math.isfinite(v)), (name, k)


def test_horizon_longer_than_every_series_is_said_not_crashed() -> None:
    t = read_long_csv(b"series_id,period,value\nA,1,3\nA,2,4\nA,3,5\n", name="x.csv")
    rep = evaluate(t, 10, 12)
    assert rep["evaluated"] == 0 and rep["skipped"] == 1
    assert "not more than the horizon 10" in rep["skipped_listed"][0]
    assert any("nothing to score" in n for n in rep["notes"])
    with pytest.raises(ValidationError, match="horizon"):
        evaluate(t, 0, 12)


def test_excel_semicolons_decimal_commas_and_windows_1252() -> None:
    data = "sep=;\r\nseries_id;period;value\r\nCafé;2020-01;1,5\r\nCafé;2020-02;2,5\r\n".encode("cp1252")
    t = read_long_csv(data, name="excel.csv")
    assert t.ids == ["Café"] and t.Y[0].tolist() == [1.5, 2.5] and t.bad_count == 0
