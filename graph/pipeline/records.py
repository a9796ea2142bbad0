"""Typed records of the curated YAML: what a curator may write, field by field (see data/README.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from graph.dates import PartialDate, parse_partial_date
from graph.iris import KEY_PATTERN

__all__ = [
    "Agreement",
    "Alliance",
    "Amount",
    "Citation",
    "City",
    "Concept",
    "Conflict",
    "DataFile",
    "DateSpec",
    "Dated",
    "DroppedDate",
    "Event",
    "Funding",
    "Location",
    "Membership",
    "Organization",
    "Period",
    "Person",
    "Pilot",
    "Retired",
    "Source",
]

REF_KINDS = ("city", "company", "organization", "alliance", "person")

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
Ref = Annotated[str, StringConstraints(pattern=rf"^({'|'.join(REF_KINDS)}):[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400, pattern=r"^[^\n]*$")]
# ISO 8601 calendar durations: P3Y, P18M, P1Y6M, P2W, P10D (at least one part).
Duration = Annotated[
    str,
    StringConstraints(
        pattern=r"^P([0-9]+Y([0-9]+M)?([0-9]+W)?([0-9]+D)?|[0-9]+M([0-9]+W)?([0-9]+D)?|[0-9]+W([0-9]+D)?|[0-9]+D)$"
    ),
]


def _date_text(value: Any) -> Any:
    """YAML reads an unquoted 2016 as a number; a date is text whatever the curator typed."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _checked_date(value: Any) -> Any:
    if isinstance(value, str):
        parse_partial_date(value)  # raises ValueError with a curator-readable message
    return value


DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
DateText = Annotated[
    str, StringConstraints(pattern=DATE_PATTERN), BeforeValidator(_checked_date), BeforeValidator(_date_text)
]
PUBLISHED = "published"


def _citation_date(value: Any) -> Any:
    """One date or several, each checked; `published` stays the word it is. One clear message, not one per form."""
    if value == PUBLISHED:
        return value
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("give the date(s) the passage states, or `published`")
    for item in items:
        text = _date_text(item)
        if not isinstance(text, str):
            raise ValueError(f'{item!r} is neither a date such as "2016-12" nor `published`')
        parse_partial_date(text)
    return [_date_text(item) for item in value] if isinstance(value, list) else _date_text(value)


# What a cited passage says about the statement's date: the date(s) as the passage gives them, or `published` when
# the passage gives none and the statement is only bounded by the source's publication date.
CitationDate = Annotated[
    str | list[str],
    BeforeValidator(_citation_date, json_schema_input_type=Literal["published"] | DateText | list[DateText]),
]


class Record(BaseModel):
    """Base of every record: unknown fields are errors, so a typo never silently drops a fact."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Citation(Record):
    source: Key
    at: Text = Field(description="Where in the source the claim stands: headline, paragraph 3, table row ...")
    claim: OneLine = Field(description="The claim in our own words, one line, English.")
    date: CitationDate | None = Field(
        default=None,
        description='The statement\'s date exactly as this passage gives it ("2016-12"; a list if it gives '
        "several), or `published` when the statement's date is only bounded by this source's publication date "
        "(the statement then says `{by: ...}` with the source's `published`).",
    )

    @property
    def dates(self) -> tuple[str, ...]:
        """The dates this passage gives (none for `published`)."""
        if self.date is None or self.date == PUBLISHED:
            return ()
        return tuple(self.date) if isinstance(self.date, list) else (self.date,)


class Cited(Record):
    citations: list[Citation] = Field(min_length=1)


class LangText(Record):
    de: Text | None = None
    en: Text | None = None

    @model_validator(mode="after")
    def _one_language(self) -> LangText:
        if self.de is None and self.en is None:
            raise ValueError("give the text in German (de:) or English (en:)")
        return self


class CitedText(LangText, Cited):
    """A text in our own words (a goal, a scope item) with the sources it rests on."""


class DateSpec(Record):
    """A statement's date: stated by a cited passage (`date`), or only bounded by a source's publication (`by`).

    A stated date means the event happened then, at the precision given; a bound means no later than that (the
    earliest day stays unknown). The wording is kept where the source was relative.
    """

    date: DateText | None = Field(default=None, description="The date a cited passage states, at its precision.")
    by: DateText | None = Field(
        default=None,
        description="Only a latest bound: the publication date of a cited source that reports the statement "
        "(that citation says `date: published`).",
    )
    wording: Text | None = None
    place: Text | None = None

    @model_validator(mode="after")
    def _date_or_bound(self) -> DateSpec:
        if (self.date is None) == (self.by is None):
            raise ValueError("give either the stated date (date:) or the latest bound (by:), not both")
        return self

    @property
    def text(self) -> str:
        """The date or the bound as written."""
        value = self.date if self.date is not None else self.by
        assert value is not None
        return value

    @property
    def stated(self) -> bool:
        return self.date is not None

    @property
    def partial(self) -> PartialDate:
        """The date or bound at its precision; for a bound only `latest` is a fact."""
        return parse_partial_date(self.text)


def _date_spec(value: Any) -> Any:
    value = _date_text(value)
    return {"date": value} if isinstance(value, str) else value


# Editors see both spellings: a plain date string (stated) or the mapping.
DateField = Annotated[DateSpec, BeforeValidator(_date_spec, json_schema_input_type=DateText | DateSpec)]


class DroppedDate(Record):
    """A date taken out of a statement because none of its cited passages supports it: kept so that it is counted
    and not put back by mistake."""

    field: Literal["since", "until", "date", "signed", "start", "end"]
    was: DateText = Field(description="The date that was recorded before.")
    reason: OneLine = Field(description="Why no cited passage supports it, in one line.")


class Dated(Cited):
    """A statement that may carry dates, and the dates dropped from it."""

    dropped: list[DroppedDate] = []

    @model_validator(mode="after")
    def _dropped_is_absent(self) -> Dated:
        for item in self.dropped:
            if getattr(self, item.field, None) is not None:
                raise ValueError(f"`{item.field}` is listed under `dropped` but still given; keep one of the two")
        return self


class Identifier(Cited):
    value: Text


class Ags(Identifier):
    """Amtlicher Gemeindeschlüssel: the official eight-digit key of a German municipality."""

    value: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")] = Field(
        description='8 digits, quoted, e.g. "05913000"'
    )


class WikidataId(Identifier):
    value: Annotated[str, StringConstraints(pattern=r"^Q[1-9][0-9]*$")] = Field(description="e.g. Q1295")


class CountryCode(Identifier):
    value: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166 alpha-2, e.g. DE")


class CordisId(Identifier):
    """The project number under which CORDIS, the EU's research information service, lists a project."""

    value: Annotated[str, StringConstraints(pattern=r"^[0-9]{5,9}$")] = Field(
        description='digits, quoted, e.g. "646578"'
    )


class Amount(Cited):
    """A sum of money as the source states it: the full amount (not rounded by us) and its currency."""

    value: Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]{1,2})?$")] = Field(
        description='the amount as a quoted decimal without separators, e.g. "24843233.75"'
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        default="EUR", description="ISO 4217 code"
    )


class Funding(Cited):
    """The funding programme (a concept of scheme programme) and the call as the source names it."""

    programme: Key
    call: Text | None = None


class Period(Cited):
    """When a project runs, as its sources state it."""

    start: DateField | None = None
    end: DateField | None = None


class Location(Cited):
    """A point in WGS84 from a gazetteer record: the GeoNames id and the point as WKT, longitude first."""

    geonames: int = Field(gt=0, description="GeoNames id of the place")
    point: Annotated[str, StringConstraints(pattern=r"^POINT\(-?[0-9]{1,3}(\.[0-9]+)? -?[0-9]{1,2}(\.[0-9]+)?\)$")] = (
        Field(description='"POINT(longitude latitude)", e.g. "POINT(7.46 51.51)"')
    )

    @property
    def longitude(self) -> float:
        return float(self.point[6:-1].split()[0])

    @property
    def latitude(self) -> float:
        return float(self.point[6:-1].split()[1])

    @model_validator(mode="after")
    def _on_earth(self) -> Location:
        if not (-180 <= self.longitude <= 180 and -90 <= self.latitude <= 90):
            raise ValueError("longitude must lie in -180..180 and latitude in -90..90 (WKT gives longitude first)")
        return self


def _iso_country(value: Any) -> Any:
    if isinstance(value, str) and pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is no ISO 3166-1 alpha-2 country code")
    return value


class Country(Identifier):
    """The country a city lies in, ISO 3166-1 alpha-2, checked against the ISO list."""

    value: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_iso_country)] = Field(
        description="ISO 3166-1 alpha-2, e.g. NO"
    )


class Source(Record):
    key: Key
    kind: Key
    title: Text
    publisher: Text | None = None
    published: DateText | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = None
    note: Text | None = None


class City(Cited):
    key: Key
    name: Text
    municipality: Text | None = None
    land: Key | None = None
    country: Country | None = None
    ags: Ags | None = None
    wikidata: WikidataId | None = None
    location: Location | None = None

    @model_validator(mode="after")
    def _ags_only_in_germany(self) -> City:
        if self.ags is not None and self.country is not None and self.country.value != "DE":
            raise ValueError(f"an AGS is a German municipality key, but the city's country is {self.country.value}")
        return self


class Organization(Cited):
    key: Key
    kind: Key
    name: Text
    alt_names: list[Text] = []
    parent: Key | None = None
    homepage: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    country: CountryCode | None = None
    description: LangText | None = None
    wikidata: WikidataId | None = None


class Post(Dated):
    title: LangText
    role: Key | None = None
    in_: Ref = Field(alias="in")
    since: DateField | None = None
    until: DateField | None = None


class Remark(Cited):
    key: Key | None = None
    about: Ref | None = None
    summary: OneLine


class Person(Cited):
    key: Key
    name: Text
    posts: list[Post] = []
    remarks: list[Remark] = []


class Founding(Cited):
    date: DateField
    summary: OneLine


class ThemeFocus(Cited):
    theme: Key
    label: LangText | None = None


class Membership(Dated):
    key: Key | None = None
    member: Ref
    role: Key
    since: DateField | None = None
    until: DateField | None = None


class Figure(Record):
    measure: Key
    value: int = Field(ge=0)


class Event(Dated):
    key: Key | None = None
    kind: Key
    date: DateField | None = None
    title: LangText | None = None
    summary: OneLine
    place: Text | None = None
    figures: list[Figure] = []


class Alliance(Cited):
    key: Key
    name: LangText
    kind: Key | None = None
    description: LangText | None = None
    motto: Identifier | None = None
    founded: list[Founding] = []
    goals: list[CitedText] = []
    themes: list[ThemeFocus] = []
    members: list[Membership] = []
    events: list[Event] = []
    cordis: CordisId | None = None
    funding: list[Funding] = []
    period: list[Period] = []
    eu_contribution: list[Amount] = []
    total_cost: list[Amount] = []


class Signatory(Cited):
    person: Key
    on_behalf_of: Ref | None = None


class Agreement(Dated):
    key: Key
    type: Key
    title: LangText
    alliance: Key | None = None
    parties: list[Ref] = Field(min_length=1)
    signed: DateField | None = None
    signatories: list[Signatory] = []
    duration: Duration | None = None
    status: Key | None = None
    scope: list[CitedText] = []


class Pilot(Dated):
    key: Key
    name: LangText
    alliance: Key | None = None
    themes: list[Key] = []
    status: Key | None = None
    lead: Ref | None = None
    partners: list[Ref] = []
    start: DateField | None = None
    end: DateField | None = None
    description: LangText | None = None


class Conflict(Record):
    key: Key
    about: Ref | None = None
    summary: OneLine
    sources: list[Key] = Field(min_length=2)


class Retired(Record):
    """A thing that had an IRI once and no longer exists: its IRI answers 410 Gone, never 404."""

    type: Key
    key: Key
    reason: OneLine
    replaced_by: Annotated[str, StringConstraints(pattern=r"^[a-z]+:[a-z0-9]+(-[a-z0-9]+)*$")] | None = None


class Concept(Record):
    scheme: Key
    key: Key
    de: Text
    en: Text
    definition: OneLine
    broader: Key | None = None


class DataFile(Record):
    """One YAML file: any of the sections, each a list of records."""

    sources: list[Source] = []
    cities: list[City] = []
    organizations: list[Organization] = []
    people: list[Person] = []
    alliances: list[Alliance] = []
    agreements: list[Agreement] = []
    pilots: list[Pilot] = []
    conflicts: list[Conflict] = []
    concepts: list[Concept] = []
    retired: list[Retired] = []
