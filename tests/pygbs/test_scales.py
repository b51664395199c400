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
