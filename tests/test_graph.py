"""tracker graph and the timeline picture: what they draw, how hostile text stays text, the
cap and --depth, what happens without Graphviz, and what a browser shows of the SVG."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from browser import render
from defusedxml import ElementTree
from helpers import CHINA_DENIAL, MANDIANT_CLAIM, Run, record_seed

from tracker.render.svg import clean_svg

DOT = shutil.which("dot")
RSVG = shutil.which("rsvg-convert")
needs_dot = pytest.mark.skipif(DOT is None, reason="needs Graphviz's dot: install 'graphviz'")
needs_rsvg = pytest.mark.skipif(
    RSVG is None, reason="needs rsvg-convert: install the 'librsvg2-bin' package"
)

HOSTILE = [
    "<script>alert(1)</script>",
    "</svg><img src=x onerror=alert(1)>",
    "]]> &amp; &lt;b&gt; \\N \\G",
    '"]; evil [label="x',
    "x\nclick c1 call alert(1)\n%%{init: {}}%%",
]
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def build_story(cli: Run) -> dict[str, int]:
    """The seed article with blame, denial and an incident, as the quick start records it."""
    ids = record_seed(cli)
    cli("incident", "add", "APT1 intrusions", "--kind", "data-theft", "--date", "2006")
    cli("actor", "relate", "PLA Unit 61398", "part-of", "China")
    mandiant, denial = str(ids["mandiant"]), str(ids["denial"])
    cli("claim", "edit", mandiant, "--blames", "APT1", "--incident", "APT1 intrusions")
    cli("claim", "edit", denial, "--clears", "PLA Unit 61398", "--incident", "APT1 intrusions")
    return ids


def build_hostile(cli: Run) -> dict[str, int]:
    """The story, and claims whose text tries to break out of every format."""
    ids = build_story(cli)
    cli("actor", "add", '<b>Evil</b> & "co"', "--kind", "group")
    hostile = [
        int(cli("claim", "add", text, "--by", '<b>Evil</b> & "co"', "--about", "Mandiant").stdout)
        for text in HOSTILE
    ]
    cli("claim", "link", str(hostile[0]), "disputes", str(hostile[1]))
    return ids


@pytest.fixture
def story(cli: Run, templates: Any, backend: str, db_url: str) -> dict[str, int]:
    return dict(templates.load("graph-story", build_story, backend, db_url))


@pytest.fixture
def hostile(cli: Run, templates: Any, backend: str, db_url: str) -> dict[str, int]:
    return dict(templates.load("graph-hostile", build_hostile, backend, db_url))


# Drawing does not depend on the backend once the graph is read: these run on SQLite alone.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


def layout(dot_text: str) -> dict[str, Any]:
    """Graphviz's own reading of the DOT text (it fails on a syntax error)."""
    assert DOT is not None
    done = subprocess.run(
        [DOT, "-Tjson"], input=dot_text, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def edges(parsed: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    names = {o["_gvid"]: o["name"] for o in parsed.get("objects", []) if "nodes" not in o}
    return {(names[e["tail"]], names[e["head"]]): e for e in parsed.get("edges", [])}


def labels(parsed: dict[str, Any]) -> dict[str, str]:
    return {o["name"]: o.get("label", "") for o in parsed["objects"] if "nodes" not in o}


@needs_dot
def test_dot_draws_blame_denial_and_disputes_apart(cli: Run, story: dict[str, int]) -> None:
    drawn = layout(cli("graph", "--claim", str(story["mandiant"])).stdout)
    found = edges(drawn)
    mandiant, denial = f"c{story['mandiant']}", f"c{story['denial']}"
    # Actors: 1 Mandiant, 2 China, 3 PLA Unit 61398, 4 Tom Donilon (record_seed's order).
    blame = found[(mandiant, "a3")]
    deny = found[(denial, "a3")]
    dispute = found[(denial, mandiant)]
    assert (blame["label"], blame["style"]) == ("blames", "solid")
    assert (deny["label"], deny["style"]) == ("denies", "dashed")
    assert (dispute["label"], dispute["style"]) == ("disputes", "dashed")
    assert len({blame["color"], deny["color"], dispute["color"]}) == 3
    assert float(deny["penwidth"]) > float(dispute["penwidth"])  # apart in greyscale too
    assert found[("a1", mandiant)]["label"] == "said"
    assert found[("s2", "s1")]["label"] == "rests on"  # the article rests on the report
    assert found[(mandiant, "i1")]["label"] == "concerns"
    assert found[("a3", "a2")]["label"] == "part of"  # the unit is part of China
    names = labels(drawn)
    assert names[mandiant].startswith("A unit of China's People's")
    assert "APT1 intrusions" in names["i1"]
    # Donilon's claim is linked to none of these: not drawn.
    assert f"c{story['donilon']}" not in names
    # The two sources rest on one origin: grouped.
    clusters = [o for o in drawn["objects"] if o["name"].startswith("cluster_")]
    assert [c["name"] for c in clusters] == ["cluster_s1"]


@needs_dot
def test_depth_bounds_the_walk_and_the_cap_says_what_was_left_out(
    cli: Run, story: dict[str, int]
) -> None:
    mandiant = str(story["mandiant"])
    near = labels(layout(cli("graph", "--claim", mandiant, "--depth", "0").stdout))
    assert f"c{story['denial']}" not in near and f"c{story['mandiant']}" in near
    one = labels(layout(cli("graph", "--claim", mandiant, "--depth", "1").stdout))
    assert f"c{story['denial']}" in one
    every = cli("graph")
    assert every.stderr == ""
    assert {f"c{i}" for i in (1, 2, 3)} <= set(labels(layout(every.stdout)))
    capped = cli("graph", "--max-nodes", "6")
    assert capped.stderr.count("\n") == 1
    assert re.fullmatch(
        r"graph: (\d) claim\(s\) left out to keep the picture under 6 nodes: draw less with a "
        r"focus \(--claim, --actor, --incident, --tag\), or raise --max-nodes\n",
        capped.stderr,
    )
    drawn = layout(capped.stdout)
    assert 0 < len(labels(drawn)) <= 6
    assert "left out" in drawn["label"]  # the picture says it too
    focused = cli("graph", "--claim", mandiant, "--max-nodes", "7")
    assert focused.stderr == (
        "graph: 1 claim(s) left out to keep the picture under 7 nodes: draw less with a "
        "smaller --depth, or raise --max-nodes\n"
    )
    assert {k for k in labels(layout(focused.stdout)) if k[0] == "c"} == {f"c{mandiant}"}
    too_many = cli("graph", "--max-nodes", "5001", ok=False)
    assert too_many.exit_code == 2
    assert too_many.stderr == "Error: --max-nodes must be between 1 and 5000\n"
    by_actor = labels(layout(cli("graph", "--actor", "Tom Donilon").stdout))
    assert {k for k in by_actor if k[0] == "c"} == {f"c{story['donilon']}"}
    by_tag = labels(layout(cli("graph", "--tag", "cyber-espionage", "--depth", "0").stdout))
    assert {k for k in by_tag if k[0] == "c"} == {f"c{story['mandiant']}"}
    by_incident = labels(layout(cli("graph", "--incident", "APT1 intrusions").stdout))
    assert {k for k in by_incident if k[0] == "c"} == {
        f"c{story['mandiant']}",
        f"c{story['denial']}",
    }


@sqlite_only
def test_one_focus_at_most_and_unknown_focus(cli: Run, story: dict[str, int]) -> None:
    both = cli("graph", "--claim", "1", "--tag", "x", ok=False)
    assert both.exit_code == 2
    assert both.stderr == "Error: give one focus: --claim, --actor, --incident or --tag\n"
    missing = cli("graph", "--actor", "Nobody At All", ok=False)
    assert missing.exit_code != 0 and missing.stderr.startswith("Error: ")
    assert missing.stderr.count("\n") == 1


@sqlite_only
def test_mermaid_is_escaped(cli: Run, hostile: dict[str, int]) -> None:
    text = cli("graph", "--format", "mermaid").stdout
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    shapes = r'(\(|\(\[|\[|\{\{)"[^"\n]*"(\)|\]\)|\]|\}\})'
    pattern = re.compile(
        rf"  (note0\[\"[^\"\n]*\"\]:::note|(?:  )?[acsi]\d+{shapes}:::\w+"
        r"|subgraph cluster_s\d+\[\"[^\"\n]*\"\]|end"
        r"|[acsi]\d+ -(->|\.->)\|\"[a-z ]+\"\| [acsi]\d+|linkStyle \d+ [-a-z:#0-9, .]+"
        r"|classDef \w+ [-a-z:#0-9,]+|style [acsi]\d+ stroke-width:3px)"
    )
    for line in lines[1:]:  # every line is one the renderer writes: no directive got in
        assert pattern.fullmatch(line), line
    for bad in ("<script", "<img", "%%", "]]>", '"];'):
        assert bad not in text
    assert "#60;script#62;alert(1)#60;/script#62;" in text


@needs_dot
@sqlite_only
def test_hostile_text_stays_text_in_dot_and_svg(cli: Run, hostile: dict[str, int]) -> None:
    drawn = layout(cli("graph").stdout)
    shown = " ".join(labels(drawn).values()).replace("\\n", " ")
    assert "<script>alert(1)</script>" in shown
    assert "evil" not in labels(drawn)  # the quote did not end the label
    svg = cli("graph", "--format", "svg").stdout
    root = ElementTree.fromstring(svg, forbid_dtd=True)
    _assert_inert(root)
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for piece in ("<script>alert(1)</script>", "</svg><img src=x", "]]> &amp; &lt;b&gt; \\N"):
        assert piece in texts
    links = [a.get(XLINK_HREF) for a in root.iter(f"{SVG}a") if a.get(XLINK_HREF)]
    assert links == [
        "https://www.theglobeandmail.com/news/world/obama-raises-hacking-concerns/article9745383/"
    ]
    assert "<!DOCTYPE" not in svg and "http://www.w3.org/Graphics" not in svg


def _assert_inert(root: Any) -> None:
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        assert tag not in {"script", "foreignObject", "image", "iframe", "style"}
        for name, value in element.attrib.items():
            assert not name.rsplit("}", 1)[-1].lower().startswith("on"), (tag, name)
            if name.endswith("href"):
                assert value.startswith(("http://", "https://")), value


def test_clean_svg_removes_what_could_run_or_load() -> None:
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)"><script>alert(2)</script><a xlink:href="javascript:alert(3)">'
        '<text onclick="alert(4)">kept</text></a><image href="http://x.test/a.png"/>'
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        '<rect fill="url(http://x.test/f)" stroke="url(#here)"/>'
        '<a href="https://example.org/">ok</a></svg>'
    )
    cleaned = clean_svg(hostile)
    root = ElementTree.fromstring(cleaned, forbid_dtd=True)
    _assert_inert(root)
    assert "".join(root.itertext()) == "keptok"
    rect = next(root.iter(f"{SVG}rect"))
    assert rect.get("fill") is None and rect.get("stroke") == "url(#here)"


@needs_dot
@sqlite_only
def test_png_and_file_output(cli: Run, story: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "graph.png"
    cli("graph", "--format", "png", "-o", str(target))
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = tmp_path / "graph.svg"
    cli("graph", "--format", "svg", "--output", str(svg))
    ElementTree.fromstring(svg.read_text(encoding="utf-8"), forbid_dtd=True)


@sqlite_only
def test_without_graphviz_svg_and_png_fail_in_one_line(
    cli: Run, story: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = tmp_path / "graph.svg"
    for fmt in ("svg", "png"):
        failed = cli("graph", "--format", fmt, "-o", str(target), ok=False)
        assert failed.exit_code == 69
        assert failed.stderr == (
            f"Error: --format {fmt} needs Graphviz's dot program: install the 'graphviz' package\n"
        )
        assert not target.exists() and list(tmp_path.glob(".graph*")) == []
    assert cli("graph", "--format", "dot").stdout.startswith("digraph tracker {")
    assert cli("graph", "--format", "mermaid").stdout.startswith("flowchart LR")
    png = cli("report", "timeline", "--format", "png", "-o", str(tmp_path / "t.png"), ok=False)
    assert png.exit_code == 69
    assert png.stderr == (
        "Error: --format png needs librsvg's rsvg-convert program: install the 'librsvg2-bin' package\n"
    )


def test_timeline_svg_draws_partial_dates_as_spans(cli: Run, story: dict[str, int]) -> None:
    year = cli("claim", "add", "Something happened that year", "--by", "China", "--date", "2013")
    # A verdict recorded today: the empty years between are cut from the axis, and marked.
    cli("claim", "rate", str(story["mandiant"]), "false")
    svg = cli("report", "timeline", "--format", "svg").stdout
    root = ElementTree.fromstring(svg, forbid_dtd=True)
    _assert_inert(root)
    marks: dict[str, Any] = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        shape = [c for c in group if c.tag in (f"{SVG}rect", f"{SVG}circle")]
        if title is not None and shape:
            marks[title.text or ""] = shape[0]
    day = marks[f"2013-02-19 claim: Mandiant {MANDIANT_CLAIM}"]
    month = marks[f"2013-03 claim: China {CHINA_DENIAL}"]
    whole_year = marks[
        f"2013 claim: China {year.stdout.strip() and 'Something happened that year'}"
    ]
    assert day.tag == f"{SVG}circle"
    assert month.tag == f"{SVG}rect" and whole_year.tag == f"{SVG}rect"
    assert 10 < float(whole_year.get("width")) / float(month.get("width")) < 13
    assert month.get("stroke-dasharray")  # China's claim is a denial: dashed
    assert month.get("stroke") != day.get("stroke")  # and coloured apart from the blame
    assert "Timeline" in "".join(root.itertext())
    assert "//" in [t.text for t in root.iter(f"{SVG}text")]
    assert float(month.get("width")) > 30  # the month stays visible beside 2026
    assert any(title.startswith("20") and " verdict: " in title for title in marks)


@needs_rsvg
@sqlite_only
def test_timeline_png(cli: Run, story: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "timeline.png"
    cli("report", "timeline", "--incident", "APT1 intrusions", "-f", "png", "-o", str(target))
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
@sqlite_only
def test_the_browser_shows_the_pictures_and_runs_nothing(
    cli: Run, hostile: dict[str, int], tmp_path: Path
) -> None:
    graph, timeline = tmp_path / "graph.svg", tmp_path / "timeline.svg"
    cli("graph", "--format", "svg", "-o", str(graph))
    cli("report", "timeline", "--format", "svg", "-o", str(timeline))
    shot = tmp_path / "graph.png"
    for path in (graph, timeline):
        page = render(path, screenshot=shot if path is graph else None)
        assert page.requests == [] and page.dialogs == []
        assert "<script>alert(1)</script>" in page.text
        assert "stole hundreds of" in page.text or "A unit of China" in page.text
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


@needs_dot
def test_html_dossiers_embed_the_pictures(
    cli: Run, hostile: dict[str, int], tmp_path: Path
) -> None:
    """Claim, actor and incident dossiers, the attribution report and the timeline carry their
    picture inline in HTML (no file beside it), escaped; Markdown leaves pictures out."""
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)
            assert not any(name.startswith("on") for name, _ in attrs), (tag, attrs)

    for command in (
        ["claim", "show", "1"],
        ["actor", "show", "1"],
        ["incident", "show", "1"],
        ["report", "attribution", "1"],
        ["report", "timeline"],
    ):
        page = cli(*command, "--format", "html").stdout
        parser = Tags()
        parser.feed(page)
        assert parser.seen.count("svg") == 1, command
        assert "figure" in parser.seen and "script" not in parser.seen, command
        if command == ["report", "timeline"]:  # every claim, the hostile ones too
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<svg" not in cli(*command, "--format", "markdown").stdout
