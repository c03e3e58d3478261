"""Dossiers to hand over: every `show` and `report` as Markdown and as one self-contained HTML
file, through the CLI; hostile values stay text in both (parsed as CommonMark and as HTML, and
looked at in headless Chromium)."""

import re
import struct
import zlib
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import available, render
from helpers import (
    APT1_REPORT,
    CHINA_DENIAL,
    DONILON_QUOTE,
    GLOBE_ARTICLE,
    GLOBE_URL,
    MANDIANT_CLAIM,
    Run,
    record_seed,
)
from markdown_it import MarkdownIt
from sqlalchemy import update

from tracker.db import open_database
from tracker.models import Source
from tracker.render.document import Document, Figure, Paragraph
from tracker.render.html import CSP, to_html

BLAME = "China's army is behind the APT1 intrusions"
CLEARING = "China had nothing to do with the APT1 intrusions"

# What a claim, a name, a title, a note or a URL may hold, and must show as typed.
HOSTILE = [
    "<script>alert(1)</script>",
    "</svg><img src=x onerror=alert(1)>",
    "a ]]> b",
    "[x](javascript:alert(1))",
    "<!-- comment",
    "# heading",
    "> quote",
    "- item",
    "1. one | two `three` *four* &lt; &amp;",
]
EVIL_ACTOR = "<b>Evil</b> & [Co](javascript:alert(2))"
EVIL_SOURCE = "<i>Leak</i> | `report`"
BAD_URLS = ["javascript:alert(3)", "data:text/html,<script>alert(4)</script>"]


def story(cli: Run) -> dict[str, Any]:
    """The seed article, an incident blamed on China and denied by it, and hostile records."""
    ids: dict[str, Any] = record_seed(cli)
    cli("incident", "add", "APT1 intrusions", "--kind", "data-theft", "--date", "2006")
    cli(
        "claim", "add", BLAME, "--by", "Mandiant", "--blames", "China",
        "--incident", "APT1 intrusions", "--confidence", "high", "--source", APT1_REPORT,
    )  # fmt: skip
    cli(
        "claim", "add", CLEARING, "--by", "China", "--clears", "China",
        "--incident", "APT1 intrusions", "--source", GLOBE_ARTICLE,
    )  # fmt: skip
    for url_source in BAD_URLS:
        cli(
            "source", "add", f"Bad link {url_source[:4]}", "--url", "https://example.org/x", "--new"
        )
    ids["sources_with_bad_urls"] = [3, 4]
    ids["hostile"] = []
    for text in HOSTILE:
        result = cli(
            "claim", "add", "--by", EVIL_ACTOR, "--new", "--about", HOSTILE[1],
            "--note", HOSTILE[4], "--quote", text, "--source", EVIL_SOURCE,
            "--source", "Bad link java", "--", text,
        )  # fmt: skip
        ids["hostile"].append(int(result.stdout))
    cli(
        "incident", "add", HOSTILE[0], "--alias", HOSTILE[3], "--description", HOSTILE[5],
        "--new",
    )  # fmt: skip
    cli("claim", "link", str(ids["hostile"][0]), "disputes", str(ids["hostile"][1]))
    return ids


@pytest.fixture
def told(cli: Run, templates: Any, backend: str, db_url: str) -> dict[str, Any]:
    ids = dict(templates.load("dossiers", story, backend, db_url))
    # Written by another program or an older tracker: not URLs `source add` would take.
    database = open_database(db_url)
    with database.connect(write=True) as conn:
        for ident, url in zip(ids["sources_with_bad_urls"], BAD_URLS, strict=True):
            conn.execute(update(Source).where(Source.id == ident).values(url=url))
    database.close()
    return ids


def commands(ids: dict[str, Any]) -> dict[str, list[str]]:
    """Every command that writes a dossier, and what it must show."""
    return {
        "claim": ["claim", "show", str(ids["mandiant"])],
        "actor": ["actor", "show", "PLA Unit 61398"],
        "source": ["source", "show", str(ids["article"])],
        "incident": ["incident", "show", "APT1 intrusions"],
        "summary": ["report", "summary"],
        "report-actor": ["report", "actor", "China"],
        "report-source": ["report", "source", str(ids["article"])],
        "disputed": ["report", "disputed"],
        "attribution": ["report", "attribution", "APT1 intrusions"],
        "contested": ["report", "contested"],
        "timeline": ["report", "timeline", "--incident", "APT1 intrusions"],
    }


SHOWS = {
    "claim": [MANDIANT_CLAIM, "Mandiant", GLOBE_ARTICLE, CHINA_DENIAL, "1 independent origin"],
    "actor": ["PLA Unit 61398", "APT1", "Comment Crew"],
    "source": [GLOBE_ARTICLE, "The Globe and Mail", APT1_REPORT],
    "incident": ["APT1 intrusions", "data-theft", "2006"],
    "summary": ["Most disputed", MANDIANT_CLAIM, GLOBE_ARTICLE],
    "report-actor": [CHINA_DENIAL, CLEARING],
    "report-source": [GLOBE_ARTICLE, "The international community cannot tolerate"],
    "disputed": [MANDIANT_CLAIM, CHINA_DENIAL],
    "attribution": ["Attribution of APT1 intrusions", "#4 Mandiant (high confidence)"],
    "contested": ["China (APT1 intrusions)", BLAME, CLEARING],
    "timeline": [BLAME, CLEARING],
}


# --- reading what was written -----------------------------------------------------------------

MD = MarkdownIt("commonmark").enable("table")


def markdown_tokens(text: str) -> list[Any]:
    flat = []
    for token in MD.parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def markdown_text(text: str) -> str:
    """What a reader sees of rendered Markdown: the text, spacing aside."""
    return _spaced(page_text(MD.render(text)))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def page_text(html: str) -> str:
    return "".join(parsed(html).text)


def _spaced(text: str) -> str:
    return " ".join(text.split())


def assert_safe_html(html: str, *, ours: bool = True) -> None:
    page = parsed(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}, tags
    assert not page.comments
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert value and re.match(r"https?://", value), (tag, name, value)
            if ours and tag == "a" and name == "href":
                assert ("rel", "noopener noreferrer") in attrs


def assert_safe_markdown(text: str) -> None:
    tokens = markdown_tokens(text)
    kinds = {t.type for t in tokens}
    assert not kinds & {"html_block", "html_inline", "image", "code_inline", "code_block"}, kinds
    assert [t.tag for t in tokens if t.type == "heading_open"].count("h1") == 1
    for token in tokens:
        if token.type == "link_open":
            assert re.match(r"https?://", token.attrs["href"]), token.attrs
    assert_safe_html(MD.render(text), ours=False)


# --- every command, both formats ---------------------------------------------------------------


# The data come from the database (both backends); how they are written does not depend on it.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.mark.parametrize(
    ("backend", "fmt"), [("sqlite", "markdown"), ("sqlite", "html"), ("postgresql", "html")]
)
def test_every_show_and_report_writes_a_dossier(cli, told, fmt) -> None:
    for name, args in commands(told).items():
        written = cli(*args, "--format", fmt).stdout
        if fmt == "markdown":
            assert_safe_markdown(written)
            seen = markdown_text(written)
        else:
            assert written.startswith("<!DOCTYPE html>")
            assert_safe_html(written)
            seen = _spaced(page_text(written))
        for words in SHOWS[name]:
            assert words in seen, (name, words, seen[:2000])


@SQLITE_ONLY
def test_the_claim_dossier_links_http_sources_only(cli, told) -> None:
    claim = str(told["hostile"][0])
    md = cli("claim", "show", str(told["mandiant"]), "-f", "markdown").stdout
    assert f"[{GLOBE_ARTICLE}]({GLOBE_URL})" in md
    html = cli("claim", "show", str(told["mandiant"]), "-f", "html").stdout
    link = f'<a href="{GLOBE_URL}" rel="noopener noreferrer">{escape(GLOBE_ARTICLE)}</a>'
    assert link in html
    # A javascript: URL shows as text beside the title, and is no link.
    for fmt in ("markdown", "html"):
        shown = cli("source", "show", "3", "-f", fmt).stdout
        links = [
            t.attrs["href"] for t in markdown_tokens(shown) if t.type == "link_open"
        ] if fmt == "markdown" else [v for _, attrs in parsed(shown).tags for k, v in attrs if k == "href"]  # fmt: skip
        assert links == []
        text = markdown_text(shown) if fmt == "markdown" else _spaced(page_text(shown))
        assert BAD_URLS[0] in text
    assert "Bad link java (javascript:alert(3))" in markdown_text(
        cli("claim", "show", claim, "-f", "markdown").stdout
    )


@SQLITE_ONLY
def test_hostile_values_stay_text(cli, told) -> None:
    # Each hostile claim's text as a table cell (the actor report), those that could start a
    # block (a heading, a quote, a list) also as a dossier's lead paragraph; names, titles,
    # notes and URLs as facts, list items and headings.
    line_starts = [told["hostile"][i] for i in (5, 6, 7, 8)]
    runs = [["claim", "show", str(i)] for i in [told["hostile"][1], *line_starts]] + [
        ["report", "actor", EVIL_ACTOR],
        ["source", "show", "4"],
        ["incident", "show", HOSTILE[0]],
    ]
    md_seen, html_seen = [], []
    for args in runs:
        md = cli(*args, "-f", "markdown").stdout
        assert_safe_markdown(md)
        md_seen.append(markdown_text(md))
        html = cli(*args, "-f", "html").stdout
        assert_safe_html(html)
        html_seen.append(_spaced(page_text(html)))
        if args[-1] in map(str, line_starts):
            # The claim's words are the paragraph after the title and the byline, as typed.
            tokens = MD.parse(md)
            assert [t.type for t in tokens[:7]] == [
                "heading_open", "inline", "heading_close",  # the title
                "paragraph_open", "inline", "paragraph_close",  # the byline
                "paragraph_open",  # the claim
            ]  # fmt: skip
            text = HOSTILE[told["hostile"].index(int(args[-1]))]
            assert page_text(MD.render(md)).split("\n")[2] == text
    for seen in (" ".join(md_seen), " ".join(html_seen)):
        for value in [*HOSTILE, EVIL_ACTOR, EVIL_SOURCE, *BAD_URLS]:
            assert _spaced(value) in seen, value


# --- files -------------------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_output_file_names_the_format(cli, told, tmp_path) -> None:
    claim = str(told["mandiant"])
    for name, start in [
        ("c.md", "# Claim #1"),
        ("c.markdown", "# Claim #1"),
        ("c.html", "<!DOCTYPE html>"),
        ("c.HTM", "<!DOCTYPE html>"),
        ("c.json", "{"),
        ("c.txt", "Claim #1"),
    ]:
        target = tmp_path / name
        result = cli("claim", "show", claim, "-o", str(target))
        assert result.stdout == ""
        assert f"wrote {target}" in result.stderr
        assert target.read_text(encoding="utf-8").startswith(start), name
    # --format wins over the extension.
    cli("report", "summary", "-f", "markdown", "-o", str(tmp_path / "s.html"))
    assert (tmp_path / "s.html").read_text().startswith("# Summary")


def test_a_failed_dossier_leaves_no_file(cli, told, tmp_path, db_url, backend) -> None:
    target = tmp_path / "dossier.html"
    target.write_text("kept")
    result = cli("claim", "show", "999", "-o", str(target), ok=False)
    assert result.exit_code != 0 and "999" in result.stderr
    assert target.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    if backend == "sqlite":
        refused = cli("report", "summary", "-f", "html", "-o", db_url, ok=False)
        assert refused.exit_code == 74 and "the database" in refused.stderr


# --- the document model ------------------------------------------------------------------------


def test_figures_are_embedded_and_nothing_without_them() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    plain = to_html(Document("T", [Paragraph("x")]))
    assert "<figure>" not in plain
    with_picture = to_html(
        Document("T", [Paragraph("x")], figures=[Figure("Web <of> claims", svg)])
    )
    assert f"<figure>\n{svg}\n<figcaption>Web &lt;of&gt; claims</figcaption>" in with_picture
    assert f'content="{CSP}"' in with_picture
    css = with_picture.split("@media print", 1)[1]
    assert 'a[href]::after { content: " (" attr(href) ")"' in css
    assert "break-inside: avoid" in css and "background: transparent" in css


# --- in the browser ----------------------------------------------------------------------------

browser = pytest.mark.skipif(available() is not None, reason=available() or "")


def is_picture(path: Path, width: int) -> bool:
    """A PNG `width` pixels wide whose pixels are not all one colour."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">I", data[16:20])[0] == width
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += length + 12
    pixels = zlib.decompress(b"".join(chunks))
    return len(set(pixels)) > 16


@browser
@pytest.mark.slow  # starts the browser (~5 s here) for the module's other browser tests
@SQLITE_ONLY
def test_the_seed_dossier_in_a_browser(cli, told, tmp_path) -> None:
    target = tmp_path / "claim.html"
    cli("claim", "show", str(told["mandiant"]), "-o", str(target))
    picture = tmp_path / "claim.png"
    page = render(target, width=1000, screenshot=picture)
    assert page.requests == [] and page.dialogs == []
    text = _spaced(page.text)
    for words in (MANDIANT_CLAIM, CHINA_DENIAL, GLOBE_ARTICLE, "Evidence", "History"):
        assert words in text
    assert DONILON_QUOTE not in text  # another claim's words are not this dossier's
    assert is_picture(picture, 1000)


@browser
@SQLITE_ONLY
def test_hostile_dossiers_in_a_browser_run_nothing(cli, told, tmp_path) -> None:
    shown = []
    for n, args in enumerate([["claim", "show", str(told["hostile"][1])], ["source", "show", "4"]]):
        target = tmp_path / f"{n}.html"
        cli(*args, "-o", str(target))
        page = render(target)
        assert page.requests == [] and page.dialogs == [], args
        assert "<script" not in page.dom.split("</style>", 1)[1]
        shown.append(_spaced(page.text))
    # The claim shows the claim disputing it (HOSTILE[0]) and its source's javascript: URL.
    for value in [HOSTILE[0], HOSTILE[1], HOSTILE[4], *BAD_URLS, EVIL_ACTOR, EVIL_SOURCE]:
        assert value in " ".join(shown), value


@browser
def test_the_browser_helper_sees_requests_and_dialogs(tmp_path) -> None:
    """The checks above could fail: a page without tracker's escaping is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<p>shown</p><img src='http://tracker.invalid/x.png'><script>alert('ran')</script>",
        encoding="utf-8",
    )
    page = render(bad)
    assert page.dialogs == ["ran"]
    assert page.requests == ["http://tracker.invalid/x.png"]
    assert page.text.strip() == "shown"
