"""A small SVG drawn by the server: an alliance in the middle, its members around it, coloured by kind."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

__all__ = ["Node", "alliance_diagram"]

# Municipalities, companies, other organisations: the three kinds of member, told apart by colour and a legend.
KINDS = {"city": "#2f6f4e", "company": "#2b5d8a", "organization": "#8a5a2b"}
_WIDTH, _HEIGHT = 760, 480  # wide enough for labels on either side of the circle
_CENTRE_X, _CENTRE_Y = _WIDTH / 2, _HEIGHT / 2
_RADIUS = 170


@dataclass(frozen=True)
class Node:
    label: str
    href: str | None
    kind: str
    roles: tuple[str, ...]


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alliance_diagram(title: str, members: list[Node], legend: dict[str, str]) -> Markup:
    """Members on a circle around the alliance, each linked to its page; the title names the roles on hover."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="group" '
        f'aria-label="{escape(title)}" class="diagram">',
        f"<title>{escape(title)}</title>",
    ]
    placed = []
    for index, member in enumerate(members):
        angle = 2 * math.pi * index / max(len(members), 1) - math.pi / 2
        x, y = _CENTRE_X + _RADIUS * math.cos(angle), _CENTRE_Y + _RADIUS * math.sin(angle)
        parts.append(f'<line x1="{_CENTRE_X:.0f}" y1="{_CENTRE_Y:.0f}" x2="{x:.0f}" y2="{y:.0f}" stroke="#b8c2cc"/>')
        placed.append((member, x, y, angle))
    parts.append(f'<circle cx="{_CENTRE_X:.0f}" cy="{_CENTRE_Y:.0f}" r="46" fill="#333"/>')
    parts.append(
        f'<text x="{_CENTRE_X:.0f}" y="{_CENTRE_Y + 4:.0f}" text-anchor="middle" font-size="12" fill="#fff">'
        f"{escape(_short(title, 12))}</text>"
    )
    for member, x, y, angle in placed:
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        dx = 12 if anchor == "start" else -12 if anchor == "end" else 0
        dy = 18 if anchor == "middle" and math.sin(angle) > 0 else -12 if anchor == "middle" else 4
        node = (
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="8" fill="{KINDS.get(member.kind, "#666")}"/>'
            f'<text x="{x + dx:.0f}" y="{y + dy:.0f}" text-anchor="{anchor}" font-size="11">'
            f"{escape(_short(member.label))}</text>"
            f"<title>{escape(member.label)}: {escape(', '.join(member.roles))}</title>"
        )
        parts.append(f'<a href="{escape(member.href)}">{node}</a>' if member.href else f"<g>{node}</g>")
    for row, (kind, text) in enumerate(legend.items()):
        parts.append(
            f'<circle cx="14" cy="{16 + 18 * row}" r="6" fill="{KINDS[kind]}"/>'
            f'<text x="26" y="{20 + 18 * row}" font-size="11">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every text inside was escaped above
