"""tracker source add / list / show / edit: the chain of citations, grades and URLs, checked in
the output and in the database."""

import csv
import io
import json
from typing import Any

import pytest
from helpers import APT1_REPORT, GLOBE_ARTICLE, GLOBE_URL, Run, dump
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import Actor, HistoryEntry, Source, SourceCitation

REUTERS = "China army unit behind US hacking, report says"
REUTERS_URL = "https://www.reuters.com/article/us-china-hacking-idUSBRE91I0B420130219"


def source_json(cli: Run, ref: str) -> dict[str, Any]:
    return json.loads(cli("source", "show", ref, "-f", "json").stdout)


def citations(db_url: str) -> set[tuple[int, int]]:
    database = open_database(db_url)
    with database.session(write=False) as s:
        rows = {(c.source_id, c.cited_id) for c in s.scalars(select(SourceCitation))}
    database.close()
    return rows


def source_history(db_url: str, source_id: int) -> list[tuple[str, dict[str, Any]]]:
    database = open_database(db_url)
    with database.session(write=False) as s:
        rows = s.execute(
            select(HistoryEntry.action, HistoryEntry.changes)
            .where(HistoryEntry.entity == "source", HistoryEntry.entity_id == source_id)
            .order_by(HistoryEntry.id)
        ).all()
    database.close()
    return [(action, changes) for action, changes in rows]


def add_reuters(cli: Run) -> int:
    """Source #3: the wire story the Globe article rests on, itself resting on the report."""
    result = cli(
        "source",
        "add",
        REUTERS,
        "--publisher",
        "Reuters",
        "--author",
        "Jim Finkle",
        "--author",
        " Joseph  Menn ",
        "--url",
        REUTERS_URL,
        "--date",
        "2013-02-19",
        "--retrieved",
        "2013-03-01",
        "--kind",
        "article",
        "--reliability",
        "b",
        "--cites",
        "apt1: exposing one of china's cyber espionage units",
    )
    assert result.stdout == "3\n"
    assert result.stderr == f"created actor 'Reuters' (#6)\nadded source {REUTERS!r} (#3)\n"
    return 3


def test_add_records_every_field(cli, seeded, db_url) -> None:
    add_reuters(cli)
    database = open_database(db_url)
    with database.session(write=False) as s:
        source = s.get(Source, 3)
        assert source.title == REUTERS
        assert source.kind == "article"
        assert source.publisher.name == "Reuters"
        assert source.publisher.kind == "other"
        assert source.authors == ["Jim Finkle", "Joseph Menn"]
        assert source.url == REUTERS_URL
        assert (source.published, source.retrieved) == ("2013-02-19", "2013-03-01")
        assert source.reliability == "B"
        assert [c.title for c in source.cites] == [APT1_REPORT]
        assert s.scalar(select(Actor.id).where(Actor.name == "Reuters")) == 6
    database.close()
    assert source_history(db_url, 3) == [
        (
            "created",
            {
                "title": REUTERS,
                "kind": "article",
                "url": REUTERS_URL,
                "published": "2013-02-19",
                "retrieved": "2013-03-01",
                "reliability": "B",
                "authors": ["Jim Finkle", "Joseph Menn"],
                "publisher": "Reuters",
            },
        ),
        ("edited", {"cites": {"added": [1]}}),
    ]


def test_add_with_defaults_on_an_empty_database(cli) -> None:
    assert cli("source", "add", "Press release").stdout == "1\n"
    shown = source_json(cli, "press release")
    assert {k: shown[k] for k in ("id", "title", "kind", "publisher", "url", "published")} == {
        "id": 1,
        "title": "Press release",
        "kind": "other",
        "publisher": None,
        "url": None,
        "published": None,
    }
    assert (shown["authors"], shown["cites"], shown["cited_by"], shown["claims"]) == ([], [], [], 0)


@pytest.fixture
def chain(cli, seeded) -> None:
    """Globe article (#2) -> Reuters wire (#3) -> Mandiant report (#1)."""
    add_reuters(cli)
    cli("source", "edit", GLOBE_ARTICLE, "--uncites", APT1_REPORT, "--cites", REUTERS)


def test_show_walks_the_whole_chain(cli, chain, db_url) -> None:
    assert citations(db_url) == {(2, 3), (3, 1)}
    assert cli("source", "show", "2").stdout.splitlines() == [
        f"#2 {GLOBE_ARTICLE}",
        "  kind: article",
        "  publisher: The Globe and Mail",
        f"  url: {GLOBE_URL}",
        "  published: 2013-03",
        f"  rests on #3 {REUTERS}",
        f"    rests on #1 {APT1_REPORT}",
        "  claims: 3",
    ]
    shown = source_json(cli, GLOBE_URL)  # found by its URL
    assert [(c["id"], c["depth"], c["via"]) for c in shown["cites"]] == [(3, 1, 2), (1, 2, 3)]
    report = source_json(cli, "1")
    assert report["cites"] == []
    assert report["cited_by"] == [{"id": 3, "title": REUTERS}]
    reuters = cli("source", "show", "#3").stdout.splitlines()
    assert reuters == [
        f"#3 {REUTERS}",
        "  kind: article",
        "  publisher: Reuters",
        "  authors: Jim Finkle, Joseph Menn",
        f"  url: {REUTERS_URL}",
        "  published: 2013-02-19",
        "  retrieved: 2013-03-01",
        "  reliability: B (usually reliable)",
        f"  rests on #1 {APT1_REPORT}",
        f"  cited by #2 {GLOBE_ARTICLE}",
        "  claims: 0",
    ]


def test_the_claim_dossier_shows_the_chain(cli, chain, seeded) -> None:
    out = cli("claim", "show", str(seeded["denial"])).stdout
    assert f"      <- rests on #3 {REUTERS}" in out
    assert f"          <- rests on #1 {APT1_REPORT}" in out


def test_a_source_resting_on_two_paths_to_one_report_lists_it_once(cli, chain) -> None:
    cli("source", "edit", "2", "--cites", "1")  # directly too: 2 -> 1 and 2 -> 3 -> 1
    shown = source_json(cli, "2")
    assert [(c["id"], c["depth"]) for c in shown["cites"]] == [(1, 1), (3, 1)]


def test_list_orders_by_date_with_undated_last(cli, chain) -> None:
    cli("source", "add", "Undated leaflet")
    cli("source", "add", "Old book", "--date", "1999")
    rows = json.loads(cli("source", "list", "-f", "json").stdout)
    assert [(r["id"], r["published"]) for r in rows] == [
        (5, "1999"),
        (1, "2013-02-19"),
        (3, "2013-02-19"),
        (2, "2013-03"),
        (4, None),
    ]
    assert rows[1] == {
        "id": 1,
        "title": APT1_REPORT,
        "kind": "report",
        "publisher": "Mandiant",
        "url": None,
        "published": "2013-02-19",
        "reliability": "B",
        "claims": 1,
    }
    assert [r["claims"] for r in rows] == [0, 1, 0, 3, 0]


def test_list_formats_agree(cli, chain) -> None:
    as_json = json.loads(cli("source", "list", "-f", "json").stdout)
    as_jsonl = [
        json.loads(line) for line in cli("source", "list", "-f", "jsonl").stdout.splitlines()
    ]
    assert as_jsonl == as_json
    rows = list(csv.DictReader(io.StringIO(cli("source", "list", "-f", "csv").stdout)))
    columns = ["id", "title", "kind", "publisher", "published", "reliability", "url", "claims"]
    assert list(rows[0]) == columns
    assert rows == [{c: "" if r[c] is None else str(r[c]) for c in columns} for r in as_json]
    table = cli("source", "list").stdout.splitlines()
    assert table[0].split() == columns
    assert len(table) == 1 + len(as_json)
    assert table[1].split()[0] == "1"


@pytest.mark.parametrize(
    "ref", ["2", "#2", GLOBE_URL, GLOBE_ARTICLE, GLOBE_ARTICLE.upper(), "  obama raises  hacking "
            "concerns with china's xi "],
)  # fmt: skip
def test_show_finds_a_source_by_id_url_or_title(cli, seeded, ref) -> None:
    assert source_json(cli, ref)["id"] == 2


def test_edit_reliability(cli, seeded, db_url) -> None:
    result = cli("source", "edit", APT1_REPORT, "--reliability", "c")
    assert result.stdout == ""
    assert result.stderr == f"updated source {APT1_REPORT!r} (#1)\n"
    shown = source_json(cli, "1")
    assert (shown["reliability"], shown["reliability_meaning"]) == ("C", "fairly reliable")
    cli("source", "edit", "1", "--reliability", "F")
    assert source_json(cli, "1")["reliability_meaning"] == "cannot be judged"
    cli("source", "edit", "1", "--reliability", "")
    assert source_json(cli, "1")["reliability"] is None
    assert [c for _, c in source_history(db_url, 1)[1:]] == [
        {"reliability": {"from": "B", "to": "C"}},
        {"reliability": {"from": "C", "to": "F"}},
        {"reliability": {"from": "F", "to": None}},
    ]


def test_edit_url(cli, seeded, db_url) -> None:
    cli("source", "edit", "1", "--url", "https://www.mandiant.com/resources/apt1")
    assert source_json(cli, "https://www.mandiant.com/resources/apt1")["id"] == 1
    cli("source", "edit", "2", "--url", "")
    assert source_json(cli, "2")["url"] is None
    gone = cli("source", "show", GLOBE_URL, ok=False)
    assert (gone.exit_code, gone.stderr) == (1, f"Error: no source {GLOBE_URL!r}\n")
    assert source_history(db_url, 1)[-1] == (
        "edited",
        {"url": {"from": None, "to": "https://www.mandiant.com/resources/apt1"}},
    )
    assert source_history(db_url, 2)[-1] == ("edited", {"url": {"from": GLOBE_URL, "to": None}})
    before = dump(db_url)
    bad = cli("source", "edit", "1", "--url", "javascript:alert(document.cookie)", ok=False)
    assert bad.exit_code == 65
    assert bad.stderr == (
        "Error: URL 'javascript:alert(document.cookie)' must start with http:// or https://\n"
    )
    assert dump(db_url) == before


def test_edit_title_publisher_kind_and_dates(cli, seeded, db_url) -> None:
    cli(
        "source",
        "edit",
        "1",
        "--title",
        "APT1 report",
        "--publisher",
        "Mandiant",
        "--kind",
        "dataset",
        "--date",
        "2013-02",
        "--retrieved",
        "2020",
        "--author",
        "Dan McWhorter",
    )
    shown = source_json(cli, "apt1 report")
    assert (shown["id"], shown["kind"], shown["published"], shown["retrieved"]) == (
        1,
        "dataset",
        "2013-02",
        "2020",
    )
    assert shown["authors"] == ["Dan McWhorter"]
    assert cli("source", "show", APT1_REPORT, ok=False).exit_code == 1
    assert source_history(db_url, 1)[-1] == (
        "edited",
        {
            "title": {"from": APT1_REPORT, "to": "APT1 report"},
            "kind": {"from": "report", "to": "dataset"},
            "authors": {"added": ["Dan McWhorter"]},
            "published": {"from": "2013-02-19", "to": "2013-02"},
            "retrieved": {"from": None, "to": "2020"},
        },
    )
    cli("source", "edit", "1", "--publisher", "", "--date", "")
    shown = source_json(cli, "1")
    assert (shown["publisher"], shown["published"]) == (None, None)


def test_cites_and_uncites(cli, seeded, db_url) -> None:
    cli("source", "add", "Wire story")  # 3
    cli("source", "add", "Blog post", "--cites", "Wire story", "--cites", "2")  # 4
    assert citations(db_url) == {(2, 1), (4, 3), (4, 2)}
    cli("source", "edit", "Blog post", "--uncites", "wire story", "--cites", "1")
    assert citations(db_url) == {(2, 1), (4, 2), (4, 1)}
    assert source_history(db_url, 4)[-1] == (
        "edited",
        {"cites": {"added": [1], "removed": [3]}},
    )
    shown = source_json(cli, "4")
    assert [(c["id"], c["depth"]) for c in shown["cites"]] == [(1, 1), (2, 1)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (["1", "--cites", "1"], "source #1 cannot cite itself"),
        (["1", "--cites", GLOBE_ARTICLE], "source #2 already rests on #1: that would be a loop"),
        (["1", "--cites", "4"], "source #4 already rests on #1: that would be a loop"),
        (["3", "--cites", "4"], "source #4 already rests on #3: that would be a loop"),
        (
            ["1", "--reliability", "A", "--cites", "4"],
            "source #4 already rests on #1: that would be a loop",
        ),
    ],
    ids=["self", "direct", "three-long", "through-the-middle", "with-other-changes"],
)
def test_a_citation_loop_is_refused(cli, seeded, db_url, edit, message) -> None:
    cli("source", "add", "Wire story", "--cites", "2")  # 3 -> 2 -> 1
    cli("source", "add", "Blog post", "--cites", "3")  # 4 -> 3 -> 2 -> 1
    before = dump(db_url)
    result = cli("source", "edit", *edit, ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert dump(db_url) == before
    assert [c["id"] for c in source_json(cli, "4")["cites"]] == [3, 2, 1]


def test_citing_an_already_cited_source_records_nothing(cli, seeded, db_url) -> None:
    before = dump(db_url)
    cli("source", "edit", GLOBE_ARTICLE, "--cites", APT1_REPORT)
    assert dump(db_url) == before


def test_authors_can_be_cleared(cli, seeded, db_url) -> None:
    cli("source", "edit", "1", "--author", "Dan McWhorter")
    cli("source", "edit", "1", "--author", "")
    assert source_json(cli, "1")["authors"] == []
    assert source_history(db_url, 1)[-1] == ("edited", {"authors": {"removed": ["Dan McWhorter"]}})


def test_namesakes_added_on_purpose_are_twins(cli: Run, db_url: str) -> None:
    first = int(cli("source", "add", "Globe article").stdout)
    second = int(cli("source", "add", "Globe article", "--new").stdout)
    with_url = int(cli("source", "add", "Globe article", "--url", GLOBE_URL).stdout)
    # Edited to the title and URL of another, a source becomes its namesake (no key refuses it).
    cli("source", "edit", str(first), "--url", GLOBE_URL)
    database = open_database(db_url)
    with database.session(write=False) as s:
        twins = dict(s.execute(select(Source.id, Source.twin).order_by(Source.id)).all())
    database.close()
    assert twins == {first: True, second: True, with_url: False}


def test_an_unmerged_namesake_comes_back_as_a_twin(cli: Run, db_url: str) -> None:
    first = cli("source", "add", "Globe article").stdout.strip()
    second = cli("source", "add", "Globe article", "--new").stdout.strip()
    cli("source", "merge", first, second, "--yes")
    cli("source", "unmerge", second)
    database = open_database(db_url)
    with database.session(write=False) as s:
        twins = dict(s.execute(select(Source.id, Source.twin).order_by(Source.id)).all())
    database.close()
    assert twins == {int(first): False, int(second): True}
