"""The shape of a dossier, whatever it is written as: a title, sections, facts, tables, lists,
quotes and links. tracker.render.dossiers builds one from a command's data; markdown.py and
html.py write it. Both writers read this one model, so a dossier says the same in each.

Every string here is plain text, never markup: each writer escapes it where it lands. The one
exception is Figure.svg, a picture made by tracker itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Link:
    """Text that points at a URL. Only an http(s) URL with a host becomes a link (`web_url`);
    any other (`javascript:`, `data:`, a typo) is shown as text after the link text."""

    text: str
    url: str | None

    def unlinked(self) -> str:
        """What shows when the URL is not one to link to: the text, and the URL as text."""
        if not self.url or self.url == self.text:
            return self.text
        return f"{self.text} ({self.url})"


# A run of text: plain strings and links, side by side.
Inline = str | Link | Sequence["str | Link"]


@dataclass(frozen=True)
class Paragraph:
    text: Inline
    # "lead": the record's main words (a claim's text), set larger; "empty": saying there is
    # nothing to show (no verdicts yet), set quieter.
    kind: Literal["", "lead", "empty"] = ""


@dataclass(frozen=True)
class Quote:
    """Words as someone said them."""

    text: str


@dataclass(frozen=True)
class Facts:
    """Labelled values: `claimant: Mandiant`."""

    items: Sequence[tuple[str, Inline]]


@dataclass(frozen=True)
class Item:
    text: Inline
    level: int = 0  # nesting: a source a source rests on is one level further in


@dataclass(frozen=True)
class Bullets:
    items: Sequence[Item]


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[Inline]]


@dataclass(frozen=True)
class Section:
    """A titled part; `keep` asks print not to break it across pages (a claim and its
    opponents, say)."""

    title: str
    blocks: Sequence[Block]
    keep: bool = False


Block = Paragraph | Quote | Facts | Bullets | Table | Section


@dataclass(frozen=True)
class Figure:
    """A picture: `svg` is one `<svg>` element, made (and its text escaped) by tracker's own
    picture code; HTML embeds it as it is, Markdown leaves it out."""

    title: str
    svg: str


@dataclass(frozen=True)
class Document:
    title: str
    blocks: Sequence[Block]
    figures: Sequence[Figure] = field(default_factory=tuple)
    byline: str = ""  # who made it and when, under the title


def web_url(url: str | None) -> str | None:
    """`url` if it is safe to link to: http or https with a host, no spaces or control
    characters (which browsers strip, so `java\\nscript:` would pass a naive check)."""
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def plain(value: Any) -> str:
    """A value as people read it: nothing for None, yes/no, lists joined with commas."""
    if value is None:
        return ""
    if isinstance(value, bool):  # for people: yes/no, not Python's True/False
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
    return str(value)


def spans(text: Inline) -> list[str | Link]:
    """An Inline as a flat list of strings and links."""
    if isinstance(text, str | Link):
        return [text]
    return list(text)
