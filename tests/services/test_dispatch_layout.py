"""Bin codes read as places, the serpentine order, and the walking distance it is judged by."""

from __future__ import annotations

import random

from app.services.dispatch.layout import BAY_M, Floor, Spot, spot_of


def test_bin_codes_read_as_zone_aisle_bay_level() -> None:
    assert spot_of("A-012-07-2", "A") == Spot("A", "012", 7, 2)
    assert spot_of("A-R03-05-1", "A") == Spot("A", "R03", 5, 1)
    assert spot_of("A01-07-2", "B") == Spot("B", "A01", 7, 2)
    assert spot_of("C-01", "C", walk_seq=10) == Spot("C", "", 1, 0)
    assert spot_of("DOCK", "", walk_seq=3) == Spot("", "", 3, 0)


def test_serpentine_goes_up_one_visited_aisle_and_down_the_next() -> None:
    stops = [Spot("A", "003", 2, 1), Spot("A", "001", 9, 1), Spot("A", "003", 8, 2), Spot("A", "001", 2, 1),
             Spot("A", "001", 2, 2), Spot("A", "005", 4, 1)]
    floor = Floor(stops)
    order = [stops[i] for i in floor.serpentine(stops)]
    # aisle 001 up (bay 2 levels 1, 2, then 9), aisle 003 down (8, then 2), aisle 005 up
    assert order == [stops[3], stops[4], stops[1], stops[2], stops[0], stops[5]]


def test_planned_path_is_shorter_than_line_order_and_measured_the_same_way() -> None:
    one = Floor([Spot("A", "001", 5, 1)])
    # out along the front cross aisle to aisle 1 (3 m), up 5 bays, back the same way
    assert one.distance([Spot("A", "001", 5, 1)]) == 2 * (3.0 + 5 * BAY_M)
    rng = random.Random(7)
    stops = [Spot("A", f"{rng.randint(1, 20):03d}", rng.randint(1, 40), rng.randint(1, 2)) for _ in range(200)]
    floor = Floor(stops)
    planned = floor.distance([stops[i] for i in floor.serpentine(stops)])
    assert planned < floor.distance(stops) / 3
