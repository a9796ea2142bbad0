"""Keys of the things a curator does not key by hand (memberships, posts, events, remarks), derived from content."""

from __future__ import annotations

from graph.iris import slug
from graph.pipeline.records import Alliance, Event, Founding, Membership, Person, Post, Remark

__all__ = ["derived_keys", "event_key", "founding_key", "membership_key", "post_key", "remark_key"]


def membership_key(alliance: Alliance, membership: Membership) -> str:
    return membership.key or f"{alliance.key}-{membership.member.split(':', 1)[1]}-{membership.role}"


def post_key(person_key: str, post: Post) -> str:
    return f"{person_key}-{post.in_.split(':', 1)[1]}" + (f"-{post.role}" if post.role else "")


def remark_key(person: Person, remark: Remark) -> str:
    first = remark.citations[0]
    return remark.key or f"{person.key}-{first.source}-{slug(first.at)}"


def event_key(alliance: Alliance, event: Event) -> str:
    return event.key or f"{alliance.key}-{event.kind}-{event.date.text if event.date else 'undated'}"


def founding_key(alliance: Alliance, founding: Founding) -> str:
    return f"{alliance.key}-founding-{founding.date.text}"


Derived = tuple[str, str, tuple[str | int, ...]]


def derived_keys(record: Alliance | Person) -> list[Derived]:
    """(type, key, path inside the record) of every derived key a record mints."""
    if isinstance(record, Person):
        posts: list[Derived] = [("post", post_key(record.key, p), ("posts", i)) for i, p in enumerate(record.posts)]
        return posts + [("remark", remark_key(record, r), ("remarks", i)) for i, r in enumerate(record.remarks)]
    memberships: list[Derived] = [
        ("membership", membership_key(record, m), ("members", i)) for i, m in enumerate(record.members)
    ]
    return (
        memberships
        + [("event", event_key(record, e), ("events", i)) for i, e in enumerate(record.events)]
        + [("event", founding_key(record, f), ("founded", i)) for i, f in enumerate(record.founded)]
    )
