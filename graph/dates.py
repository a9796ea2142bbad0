"""Dates at the precision a source gives (year, month or day) with the earliest and latest day they can mean."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["BY", "PartialDate", "add_duration", "parse_partial_date", "written_date"]

Precision = Literal["year", "month", "day"]
_PATTERN = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    text: str
    precision: Precision
    earliest: date
    latest: date


def parse_partial_date(text: str) -> PartialDate:
    """Parse "2016", "2016-12" or "2016-12-09"; an impossible date (2017-02-30) is an error."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"date {text!r} must be a year, year-month or full date: 2016, 2016-12 or 2016-12-09")
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"date {text!r} has no month {month}")
    if month is None:
        return PartialDate(text, "year", date(year, 1, 1), date(year, 12, 31))
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return PartialDate(text, "month", date(year, month, 1), date(year, month, last))
    if not 1 <= day <= last:
        raise ValueError(f"date {text!r} does not exist: {year}-{month:02d} has {last} days")
    return PartialDate(text, "day", date(year, month, day), date(year, month, day))


# A latest bound in words: "by March 2017", not "March 2017".
BY = {"en": "by {date}", "de": "spätestens {date}"}
_MONTHS = {
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def written_date(text: str, lang: str) -> str:
    """A date written out at its precision: "2016", "Dezember 2016", "9. Dezember 2016" (or in English); a text
    that is no such date stays as it is."""
    parts = text.split("-")
    if not all(part.isascii() and part.isdigit() for part in parts) or not 1 <= len(parts) <= 3:
        return text
    months = _MONTHS.get(lang, _MONTHS["en"])
    if len(parts) == 1 or not 1 <= int(parts[1]) <= 12:
        return parts[0]
    month = months[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    day = int(parts[2])
    return f"{day}. {month} {parts[0]}" if lang == "de" else f"{day} {month} {parts[0]}"


_DURATION = re.compile(r"^P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?$")


def add_duration(start: date, duration: str) -> date:
    """The day a term of `duration` (ISO 8601, calendar units only) starting on `start` ends."""
    match = _DURATION.fullmatch(duration)
    if match is None:
        raise ValueError(f"duration {duration!r} must look like P3Y, P18M or P2W")
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date.fromordinal(date(year, month, day).toordinal() + 7 * weeks + days)
