"""A dossier as one self-contained HTML file: inline CSS, no script, nothing fetched from
anywhere (the Content-Security-Policy forbids it even if something slipped in), print styles
for "Print to PDF". Every value goes through html.escape; only http(s) URLs become links.

Built from strings rather than a template engine: the page is a handful of fixed elements, and
one escaping function at the one place text is written is easier to audit than autoescape
rules spread over templates.
"""

from __future__ import annotations

from html import escape as _escape

from tracker.render.document import (
    Block,
    Bullets,
    Document,
    Facts,
    Figure,
    Inline,
    Item,
    Link,
    Paragraph,
    Quote,
    Section,
    spans,
    web_url,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #fbfbf9; color: #1d1d1f;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
  sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; padding-bottom: .2rem;
  border-bottom: 1px solid #d8d8d4; }
h3, h4, h5, h6 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
p { margin: .5rem 0; }
.byline { color: #66666b; font-size: .875rem; margin-bottom: 1.5rem; }
.lead { font-size: 1.2rem; line-height: 1.45; font-weight: 500; margin: 1rem 0; }
blockquote { margin: .75rem 0; padding: .25rem 1rem; border-left: 4px solid #c9c9c4;
  color: #3a3a3d; font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .75rem 0; }
dt { color: #66666b; }
dd { margin: 0; overflow-wrap: anywhere; }
ul { margin: .5rem 0; padding-left: 1.4rem; }
li { margin: .15rem 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; font-size: .925rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem;
  border-bottom: 1px solid #e2e2de; overflow-wrap: anywhere; }
th { border-bottom: 2px solid #c9c9c4; font-weight: 600; }
tbody tr:nth-child(even) { background: #f3f3f0; }
section.keep { border: 1px solid #e2e2de; border-radius: 6px; padding: .25rem 1rem .5rem;
  margin: 1rem 0; background: #fff; }
section.keep > h3 { margin-top: .75rem; }
a { color: #0b57a4; }
.empty { color: #66666b; font-style: italic; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #66666b; font-size: .875rem; }
@media print {
  @page { margin: 18mm 16mm; }
  * { background: transparent !important; box-shadow: none !important; }
  body { font-size: 11pt; color: #000; }
  main { max-width: none; padding: 0; }
  a { color: #000; text-decoration: underline; }
  a[href]::after { content: " (" attr(href) ")"; font-size: .85em; overflow-wrap: anywhere; }
  h1, h2, h3, h4, h5, h6 { break-after: avoid; page-break-after: avoid; }
  section.keep, blockquote, figure, dl, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  section.keep { border-color: #999; }
}
"""


def _text(value: str) -> str:
    return _escape(value, quote=True)


def inline(text: Inline) -> str:
    parts = []
    for span in spans(text):
        if isinstance(span, Link):
            url = web_url(span.url)
            if url is not None:
                parts.append(
                    f'<a href="{_text(url)}" rel="noopener noreferrer">{_text(span.text)}</a>'
                )
            else:
                parts.append(_text(span.unlinked()))
        else:
            parts.append(_text(span))
    return "".join(parts)


def _items(items: list[Item]) -> list[str]:
    """Nested <ul>s from items with levels (a level deeper than the next opens a new list)."""
    out = ["<ul>"]
    depth = 0
    for n, item in enumerate(items):
        level = max(0, min(item.level, depth + 1)) if n else 0
        while depth < level:
            out[-1] = out[-1].removesuffix("</li>")
            out.append("<ul>")
            depth += 1
        while depth > level:
            out.append("</ul></li>")
            depth -= 1
        out.append(f"<li>{inline(item.text)}</li>")
    out += ["</ul></li>"] * depth
    out.append("</ul>")
    return out


def _block(block: Block, level: int) -> list[str]:
    if isinstance(block, Section):
        tag = f"h{min(level, 6)}"
        css = ' class="keep"' if block.keep else ""
        lines = [f"<section{css}>", f"<{tag}>{_text(block.title)}</{tag}>"]
        for inner in block.blocks:
            lines += _block(inner, level + 1)
        return [*lines, "</section>"]
    if isinstance(block, Paragraph):
        css = f' class="{block.kind}"' if block.kind else ""
        return [f"<p{css}>{inline(block.text)}</p>"]
    if isinstance(block, Quote):
        paragraphs = [p for p in block.text.split("\n\n") if p.strip()]
        return ["<blockquote>", *(f"<p>{_text(p)}</p>" for p in paragraphs), "</blockquote>"]
    if isinstance(block, Facts):
        rows = [f"<dt>{_text(k)}</dt><dd>{inline(v)}</dd>" for k, v in block.items]
        return ["<dl>", *rows, "</dl>"]
    if isinstance(block, Bullets):
        return _items(list(block.items))
    head = "".join(f'<th scope="col">{_text(c)}</th>' for c in block.columns)
    body = ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in block.rows]
    return ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody>", "</table>"]


def _figure(figure: Figure) -> list[str]:
    # The SVG is tracker's own picture, its text escaped by the code that drew it.
    return ["<figure>", figure.svg, f"<figcaption>{_text(figure.title)}</figcaption>", "</figure>"]


def to_html(document: Document) -> str:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="generator" content="tracker">',
        f"<title>{_text(document.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_text(document.title)}</h1>",
    ]
    if document.byline:
        lines.append(f'<p class="byline">{_text(document.byline)}</p>')
    lines.append("</header>")
    for block in document.blocks:
        lines += _block(block, 2)
    if document.figures:
        lines.append('<section class="figures">')
        for figure in document.figures:
            lines += _figure(figure)
        lines.append("</section>")
    lines += ["</main>", "</body>", "</html>"]
    return "\n".join(lines) + "\n"
