"""Content negotiation by the rules of RFC 9110 §12.5.1: q-values, q=0 refusals, wildcards, specificity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph.errors import ServiceError

__all__ = ["MediaRange", "NotAcceptableError", "negotiate", "parse_accept"]


class NotAcceptableError(ServiceError):
    """Nothing offered is acceptable (406); `offered` lists what could have been sent."""

    def __init__(self, offered: Sequence[str]) -> None:
        message = "none of the offered media types is acceptable: " + ", ".join(offered)
        super().__init__(406, message, public=f"{message}. Ask for one of them in Accept, or use ?format=.")
        self.offered = list(offered)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float
    order: int

    def matches(self, media_type: str) -> int:
        """How specifically this range matches `media_type`: -1 not at all, 0 */*, 1 type/*, 2 exact, 3 + params."""
        kind, _, rest = media_type.partition("/")
        subtype, *param_parts = (part.strip() for part in rest.split(";"))
        offered_params = set(_params(param_parts))
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != kind:
            return -1
        if self.subtype == "*":
            return 1
        if self.subtype != subtype:
            return -1
        if self.params:
            return 3 if set(self.params) <= offered_params else -1
        return 2


def _params(parts: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for part in parts:
        name, sep, value = part.partition("=")
        if sep:
            pairs.append((name.strip().lower(), value.strip().strip('"')))
    return pairs


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; a missing or empty header accepts anything."""
    if not header or not header.strip():
        return [MediaRange("*", "*", (), 1.0, 0)]
    ranges = []
    for order, raw in enumerate(header.split(",")):
        item = raw.strip()
        if not item:
            continue
        media, *parts = (part.strip() for part in item.split(";"))
        kind, sep, subtype = media.lower().partition("/")
        if not sep or not kind or not subtype:
            continue  # a malformed range is ignored rather than failing the whole request
        q = 1.0
        params = []
        for name, value in _params(parts):
            if name == "charset":
                continue  # every text this service sends is UTF-8; a charset wish never rules a type out
            if name == "profile":
                # A wish, not a condition: JSON-LD 1.1 (§9.2) lets a server answer in its own form when it does
                # not offer the profile asked for, and this service's JSON-LD is compacted with its context.
                continue
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # what follows q are accept-extensions (RFC 9110 §12.5.1), not media-type parameters
            params.append((name, value))
        ranges.append(MediaRange(kind, subtype, tuple(params), q, order))
    return ranges or [MediaRange("*", "*", (), 1.0, 0)]


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The offered media type the client prefers most; ties go to the server's order of `offered`.

    Each offered type takes the q of the most specific range that matches it (so `text/*;q=0` with
    `text/turtle` accepts Turtle but refuses other text). Raises NotAcceptableError when all are refused.
    """
    ranges = parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for rank, media_type in enumerate(offered):
        matching = [(r.matches(media_type), r) for r in ranges]
        matching = [(specificity, r) for specificity, r in matching if specificity >= 0]
        if not matching:
            continue
        specificity, media_range = max(matching, key=lambda pair: (pair[0], pair[1].q))
        if media_range.q <= 0:
            continue
        score = (media_range.q, specificity, -rank)
        if best is None or score > best:
            best, chosen = score, media_type
    if chosen is None:
        raise NotAcceptableError(offered)
    return chosen
