"""A small built-in table of towns, for meeting in person.

People choose the nearest town from the list; we keep the town, never an address. Distances
between towns are straight lines between town centres, so they are approximate: good enough to
keep in-person buddies within reach of each other, no more.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _

# code: (name, latitude, longitude)
TOWNS: dict[str, tuple[str, float, float]] = {
    "northfield": (_("Northfield (Birmingham)"), 52.4155, -1.9690),
    "birmingham": (_("Birmingham city centre"), 52.4797, -1.9027),
    "coventry": (_("Coventry"), 52.4068, -1.5197),
    "wolverhampton": (_("Wolverhampton"), 52.5870, -2.1288),
    "redditch": (_("Redditch"), 52.3062, -1.9455),
    "worcester": (_("Worcester"), 52.1936, -2.2216),
    "leicester": (_("Leicester"), 52.6369, -1.1398),
    "nottingham": (_("Nottingham"), 52.9548, -1.1581),
    "derby": (_("Derby"), 52.9225, -1.4746),
    "stoke": (_("Stoke-on-Trent"), 53.0027, -2.1794),
    "manchester": (_("Manchester"), 53.4808, -2.2426),
    "liverpool": (_("Liverpool"), 53.4084, -2.9916),
    "leeds": (_("Leeds"), 53.8008, -1.5491),
    "sheffield": (_("Sheffield"), 53.3811, -1.4701),
    "bradford": (_("Bradford"), 53.7960, -1.7594),
    "newcastle": (_("Newcastle upon Tyne"), 54.9783, -1.6178),
    "london_central": (_("Central London"), 51.5074, -0.1278),
    "london_east": (_("East London"), 51.5390, 0.0500),
    "london_south": (_("South London"), 51.4200, -0.1200),
    "bristol": (_("Bristol"), 51.4545, -2.5879),
    "cardiff": (_("Cardiff"), 51.4816, -3.1791),
    "swansea": (_("Swansea"), 51.6214, -3.9436),
    "oxford": (_("Oxford"), 51.7520, -1.2577),
    "cambridge": (_("Cambridge"), 52.2053, 0.1218),
    "norwich": (_("Norwich"), 52.6309, 1.2974),
    "southampton": (_("Southampton"), 50.9097, -1.4044),
    "plymouth": (_("Plymouth"), 50.3755, -4.1427),
    "glasgow": (_("Glasgow"), 55.8642, -4.2518),
    "edinburgh": (_("Edinburgh"), 55.9533, -3.1883),
    "belfast": (_("Belfast"), 54.5973, -5.9301),
}


def town_choices() -> list[tuple[str, str]]:
    return sorted(
        ((code, name) for code, (name, _lat, _lon) in TOWNS.items()), key=lambda c: str(c[1])
    )


def location(code: str) -> tuple[float, float] | None:
    """Latitude and longitude of a town's centre, or None when no town was chosen."""
    town = TOWNS.get(code or "")
    return (town[1], town[2]) if town else None


def town_name(code: str) -> str:
    town = TOWNS.get(code or "")
    return str(town[0]) if town else ""


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two towns' centres."""
    pa, pb = location(a), location(b)
    if pa is None or pb is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (*pa, *pb))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
