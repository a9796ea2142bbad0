"""The REST API's response models: what `/api/v1` answers, as `/openapi.json` describes it."""

from __future__ import annotations

import datetime
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "THING_MODELS",
    "AgentRef",
    "Agreement",
    "Alliance",
    "AnyThing",
    "City",
    "Company",
    "ListItem",
    "Membership",
    "Municipality",
    "Organization",
    "Page",
    "Person",
    "Pilot",
    "Post",
    "Ref",
    "Signature",
    "Source",
    "SourceRef",
    "Thing",
]

# Dates keep the precision their source gives: `since` is "2016", "2016-05" or "2016-05-03"; the two bounds are
# the first and last day it can mean, so that "was it so on day D" is a comparison of plain dates.
_AT_PRECISION = "as precise as the source: a year (2016), a month (2016-05) or a day (2016-05-03)"
# Each date is either stated (`since`: a cited passage gives it) or a bound (`since_by`: only a source's publication
# date says it was so by then); `since_support` counts the sources behind whichever it is.


def _earliest(what: str) -> Any:
    return Field(None, description=f"first day the {what} can be")


def _latest(what: str) -> Any:
    return Field(None, description=f"last day the {what} can be")


# A date no cited passage gives, only a source's publication date that bounds it: "by October 2018".
def _by(what: str) -> Any:
    return Field(
        None,
        description=f"the {what} is not stated, only bounded: no later than this publication date of "
        f"a source reporting it ({_AT_PRECISION}); `{what}_earliest` is then null",
    )


def _support(what: str) -> Any:
    return Field(None, description=f"how many sources support the {what} date or its bound")


class Ref(BaseModel):
    """Another thing, named: its IRI, key and label."""

    id: str = Field(description="the IRI")
    key: str = Field(description="the stable key, the last segment of the IRI")
    label: str


class AgentRef(Ref):
    """An agent (municipality, company, organisation, alliance, person), with its type."""

    type: str = Field(description="the lowercase class name, as in /api/v1/{type}/{key}")


class SourceRef(Ref):
    """A source a statement is derived from."""

    url: str | None = Field(None, description="where the source can be read")


class ListItem(AgentRef):
    """One thing in a list or search result."""

    page: str = Field(description="the path of its page on this site, e.g. /doc/city/dortmund")


class Page(BaseModel):
    """One page of a list; `next` is the URL of the following page, null on the last one."""

    items: list[ListItem]
    total: int = Field(description="how many things match, on all pages")
    limit: int
    offset: int
    next: str | None


class Membership(BaseModel):
    """That an agent takes part in an alliance, in a role, over a period."""

    id: str
    key: str
    label: str
    member: AgentRef | None
    alliance: Ref | None
    role: Ref | None
    since: str | None = Field(None, description=f"start as a cited passage states it, {_AT_PRECISION}")
    since_by: str | None = _by("since")
    since_earliest: date | None = _earliest("start")
    since_latest: date | None = _latest("start")
    since_support: int | None = _support("start")
    until: str | None = Field(None, description=f"end as stated, {_AT_PRECISION}; null while it lasts or when unknown")
    until_by: str | None = _by("until")
    until_earliest: date | None = _earliest("end")
    until_latest: date | None = _latest("end")
    until_support: int | None = _support("end")
    sources: list[SourceRef]


class Post(BaseModel):
    """A position a person holds in an organisation (mayor, managing director ...)."""

    id: str
    key: str
    label: str
    organization: AgentRef | None = Field(description="the organisation the post is in")
    role: Ref | None
    since: str | None = Field(None, description=f"start as a cited passage states it, {_AT_PRECISION}")
    since_by: str | None = _by("since")
    since_earliest: date | None = _earliest("start")
    since_latest: date | None = _latest("start")
    since_support: int | None = _support("start")
    until: str | None = Field(None, description=f"end as stated, {_AT_PRECISION}")
    until_by: str | None = _by("until")
    until_earliest: date | None = _earliest("end")
    until_latest: date | None = _latest("end")
    until_support: int | None = _support("end")
    sources: list[SourceRef]


class Event(BaseModel):
    """Something that happened to an alliance (its founding, a signing, an award ...), when and where."""

    id: str
    key: str
    label: str
    kind: Ref | None = Field(description="what kind of event (founding, ...)")
    summary: str | None
    # `datetime.date` below: inside this class, `date` names the field.
    date: str | None = Field(None, description=f"when, as a cited passage states it, {_AT_PRECISION}")
    date_by: str | None = _by("date")
    date_earliest: datetime.date | None = _earliest("event")
    date_latest: datetime.date | None = _latest("event")
    date_support: int | None = _support("event")
    place: str | None
    sources: list[SourceRef]


class Signature(BaseModel):
    """That a person signed an agreement, on behalf of an organisation."""

    id: str
    signatory: Ref | None
    on_behalf_of: AgentRef | None
    posts: list[Ref] = Field(description="the posts the signatory held in that organisation")
    sources: list[SourceRef]


class Thing(BaseModel):
    """What every thing has: IRI, key, type and label."""

    id: str = Field(description="the IRI; /id/{type}/{key} on this service describes it as linked data")
    key: str
    label: str
    same_as: list[str] = Field(description="the same thing elsewhere (Wikidata)")


class _Sourced(Thing):
    sources: list[SourceRef] = Field(description="the sources the description is derived from")


class _Agent(_Sourced):
    memberships: list[Membership]
    agreements: list[Ref] = Field(description="agreements it is a party to")
    pilots_led: list[Ref]
    pilots_as_partner: list[Ref]
    people: list[Ref] = Field(description="people holding a post in it")


class Alliance(_Sourced):
    type: Literal["alliance"]
    description: str | None
    kind: Ref | None
    motto: str | None
    themes: list[Ref]
    memberships: list[Membership]
    agreements: list[Ref]
    pilots: list[Ref]
    events: list[Event] = Field(description="its founding and other events, each with its date or bound")


class City(_Sourced):
    """A city as a place; memberships, agreements and pilots are those of the municipality acting for it."""

    type: Literal["city"]
    ags: str | None = Field(description="the official municipality key (Amtlicher Gemeindeschlüssel)")
    municipality_key: str | None = Field(description="the DCAT-AP.de municipality IRI")
    land: Ref | None = Field(description="the federal state")
    municipality: Ref | None
    memberships: list[Membership]
    agreements: list[Ref]
    pilots_led: list[Ref]
    pilots_as_partner: list[Ref]
    people: list[Ref]


class Municipality(_Agent):
    """The municipal corporation acting for a city (e.g. Stadt Dortmund)."""

    type: Literal["municipality"]
    city: Ref | None


class _OrganizationBase(_Agent):
    description: str | None
    homepage: str | None
    country: str | None = Field(description="ISO 3166 alpha-2 code")
    alt_names: list[str]
    kind: Ref | None
    parent: AgentRef | None
    sub_organizations: list[AgentRef]


class Company(_OrganizationBase):
    type: Literal["company"]


class Organization(_OrganizationBase):
    type: Literal["organization"]


class Agreement(_Sourced):
    type: Literal["agreement"]
    agreement_type: Ref | None
    status: Ref | None
    alliance: Ref | None
    parties: list[AgentRef]
    signed: str | None = Field(None, description=f"signing date as a cited passage states it, {_AT_PRECISION}")
    signed_by: str | None = _by("signed")
    signed_earliest: date | None = _earliest("signing")
    signed_latest: date | None = _latest("signing")
    signed_support: int | None = _support("signing")
    duration: str | None = Field(None, description="agreed term as an ISO 8601 duration, e.g. P3Y")
    scheduled_end_earliest: date | None = _earliest("scheduled end")
    scheduled_end_latest: date | None = _latest("scheduled end")
    signatures: list[Signature]


class Pilot(_Sourced):
    type: Literal["pilot"]
    description: str | None
    alliance: Ref | None
    themes: list[Ref]
    status: Ref | None
    lead: AgentRef | None
    partners: list[AgentRef]
    start: str | None = Field(None, description=f"start as a cited passage states it, {_AT_PRECISION}")
    start_by: str | None = _by("start")
    start_earliest: date | None = _earliest("start")
    start_latest: date | None = _latest("start")
    start_support: int | None = _support("start")
    end: str | None = Field(None, description=f"end as stated, {_AT_PRECISION}")
    end_by: str | None = _by("end")
    end_earliest: date | None = _earliest("end")
    end_latest: date | None = _latest("end")
    end_support: int | None = _support("end")


class Person(_Sourced):
    type: Literal["person"]
    posts: list[Post]
    agreements: list[Ref] = Field(description="agreements the person signed")
    remarks: list[Ref] = Field(description="what the person said in the sources, summarised")


class Source(Thing):
    type: Literal["source"]
    title: str | None
    url: str | None
    publisher: str | None
    published: str | None = Field(None, description=f"publication date, {_AT_PRECISION}")
    published_earliest: date | None = _earliest("publication")
    published_latest: date | None = _latest("publication")
    language: str | None
    kind: Ref | None
    comment: str | None


THING_MODELS: dict[str, type[Thing]] = {
    "alliance": Alliance,
    "city": City,
    "municipality": Municipality,
    "company": Company,
    "organization": Organization,
    "agreement": Agreement,
    "pilot": Pilot,
    "person": Person,
    "source": Source,
}

AnyThing = Annotated[
    Alliance | City | Municipality | Company | Organization | Agreement | Pilot | Person | Source,
    Field(discriminator="type"),
]
