"""A dossier as Markdown (CommonMark with GitHub's tables): readable as plain text in an editor,
and rendered as intended by a wiki or a ticket. Every value is escaped so that it stays text:
no emphasis, code, link, HTML or heading can come from the data; only http(s) URLs are links."""

from __future__ import annotations

import re
from urllib.parse import quote

from tracker.render.document import (
    Block,
    Bullets,
    Document,
    Facts,
    Inline,
    Link,
    Paragraph,
    Quote,
    Section,
    spans,
    web_url,
)

# Characters with a meaning anywhere in a line: backslash, code, emphasis, links and images,
# raw HTML and autolinks, table cells, strikethrough.
_ANYWHERE = re.compile(r"([\\`*_\[\]<|~])")
# What starts a block when it begins a line: a heading, a quote, a list item, a setext
# underline, a numbered item.
_LINE_START = re.compile(r"^([-+=#>])|^(\d+)([.)])")
# Closing hashes, which a heading would drop (`C #`).
_TRAILING_HASHES = re.compile(r"#+$")
# An HTML character reference (`&lt;`, `&#60;`): the `&` is escaped so that it shows as typed.
_ENTITY = re.compile(r"&(?=#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")


def _escape_span(text: str) -> str:
    """Text within a line: each marked character escaped, line breaks and runs of spaces as
    one space (a line break could start a block: a heading, a list)."""
    return _ENTITY.sub(r"\\&", _ANYWHERE.sub(r"\\\1", re.sub(r"\s+", " ", text)))


def _line(text: str) -> str:
    """Escaped spans joined into a line that starts and ends as plain text (not a heading, a
    quote or a list item; no closing hashes a heading would drop)."""
    text = _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text.strip())
    return _TRAILING_HASHES.sub(lambda m: "\\#" * len(m[0]), text)


def escape(text: str) -> str:
    """One line of text that Markdown shows exactly as written (line breaks become spaces)."""
    return _line(_escape_span(text))


def _heading(level: int, text: str) -> str:
    # A heading's text is inline: only its closing hashes need care.
    title = _TRAILING_HASHES.sub(lambda m: "\\#" * len(m[0]), _escape_span(text).strip())
    return f"{'#' * min(level, 6)} {title}"


def _url(url: str) -> str:
    # Brackets, spaces and backslashes would end or escape the destination: percent-encoded.
    return quote(url, safe="!#$%&'*+,/:;=?@~-._[]")


def inline(text: Inline, *, block: bool = True) -> str:
    """Text and links in one line. `block`: the line could start a block (a paragraph, a list
    item's first line), so what would start one is escaped; a table cell is inline only."""
    parts = []
    for span in spans(text):
        if isinstance(span, Link):
            url = web_url(span.url)
            if url is not None:
                parts.append(f"[{_escape_span(span.text)}]({_url(url)})")
            else:
                parts.append(_escape_span(span.unlinked()))
        else:
            parts.append(_escape_span(span))
    joined = "".join(parts)
    return _line(joined) if block else joined.strip()


def _cell(text: Inline) -> str:
    return inline(text, block=False) or " "


def _block(block: Block, level: int) -> list[str]:
    if isinstance(block, Section):
        lines = [_heading(level, block.title), ""]
        for inner in block.blocks:
            lines += _block(inner, level + 1)
        return lines
    if isinstance(block, Paragraph):
        text = inline(block.text)
        return [f"*{text}*" if block.kind == "empty" else text, ""]
    if isinstance(block, Quote):
        # One quoted paragraph per paragraph of the original; lines within one are joined.
        paragraphs = [p for p in re.split(r"\n\s*\n", block.text) if p.strip()]
        return ["\n>\n".join(f"> {escape(p)}" for p in paragraphs), ""]
    if isinstance(block, Facts):
        return [f"- **{escape(key)}:** {inline(value)}" for key, value in block.items] + [""]
    if isinstance(block, Bullets):
        # `*`, not the facts' `-`: two lists with one marker, a blank line apart, would merge.
        return [f"{'  ' * item.level}* {inline(item.text)}" for item in block.items] + [""]
    head = [escape(c) for c in block.columns]
    lines = [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
    return [*lines, ""]


def to_markdown(document: Document) -> str:
    lines = [_heading(1, document.title), ""]
    if document.byline:
        lines += [f"*{escape(document.byline)}*", ""]
    for block in document.blocks:
        lines += _block(block, 2)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
