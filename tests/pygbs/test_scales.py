import math

import pytest

from pygbs import InputError, parse_scale


@pytest.mark.parametrize(
    ("text", "name", "radius", "k"),
    [
        ("100km", "100km", 100.0, None),
        ("1000KM", "1000km", 1000.0, None),
        ("2.5km", "2.5km", 2.5, None),
        ("nn", "nn50", None, 50),
        ("nn7", "nn7", None, 7),
    ],
)
def test_parse(text, name, radius, k):
    s = parse_scale(text)
    assert (s.name, s.radius_km, s.k) == (name, radius, k)


@pytest.mark.parametrize("bad", ["100", "km", "-5km", "0km", "nn1", "50nm", ""])
def test_bad_scale_names_value(bad):
    with pytest.raises(InputError, match="scale"):
        parse_scale(bad)


def test_radius_in_radians():
    assert parse_scale("6371.0088km").radius_rad == pytest.approx(1.0)


def test_exponent_form():
    assert parse_scale("1.5e3km").radius_km == 1500.0


@pytest.mark.parametrize("text", ["20016km", "1000000km", "1e6km", "1e9km"])
def test_radius_beyond_half_the_circumference_is_refused(text):
    # pi * 6371.0088 = 20015.115 km: every point of the sphere is within that distance
    with pytest.raises(InputError, match=r"exceeds the maximum 20015\.1 km"):
        parse_scale(text)


def test_radius_up_to_half_the_circumference_is_accepted():
    assert parse_scale("20000km").radius_km == 20000.0
    assert parse_scale("20015km").radius_rad < math.pi


def test_huge_radius_is_refused_before_reading(tmp_path):
    # the scale is checked before the table is read (the file does not even exist), so
    # the refusal is immediate whatever the data size
    import time

    import pygbs

    score = pygbs.score  # resolve (and import) the function before timing
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="1e9km"):
        score(tmp_path / "missing.csv", scales=["1e9km"])
    assert time.perf_counter() - t0 < 1.0
