"""schema.org ClaimReview: export checked against Google's required properties, round trips
through import, and every input form (list, DataFeed, @graph, HTML page) with hostile input."""

import json
from pathlib import Path

import pytest
from helpers import dump

from tracker.services.claimreview import LABELS, RATING, split_note

TEMPLATE = "https://desk.example/checks/{id}"


def review(
    label: str = "Pants on Fire", *, text: str = "The moon is cheese", author: object = None
) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://checker.example/r/1",
        "claimReviewed": text,
        "datePublished": "2020-03-04",
        "author": {"@type": "Organization", "name": "PolitiFact"},
        "reviewRating": {
            "@type": "Rating",
            "alternateName": label,
            "ratingValue": 1,
            "ratingExplanation": "No cheese was found.",
        },
        "itemReviewed": {
            "@type": "Claim",
            "author": author or {"@type": "Person", "name": "Jane Doe"},
            "datePublished": "2020-03-01T10:00:00Z",
            "firstAppearance": {
                "@type": "SocialMediaPosting",
                "url": "https://social.example/p/1",
                "headline": "Moon post",
                "datePublished": "2020-03-01",
            },
            "appearance": [
                {
                    "@type": "NewsArticle",
                    "url": "https://news.example/a",
                    "headline": "Cheese moon?",
                    "publisher": {"@type": "Organization", "name": "Daily Example"},
                },
            ],
        },
    }


def write(path: Path, value: object) -> Path:
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


def test_export_has_every_property_google_requires(cli, seeded, tmp_path) -> None:
    cli(
        "claim",
        "rate",
        str(seeded["denial"]),
        "false",
        "--note",
        "Evidence says otherwise",
        "--by",
        "Desk A",
    )
    cli("claim", "rate", str(seeded["donilon"]), "unverifiable")
    out = tmp_path / "reviews.json"
    cli(
        "export",
        "claimreview",
        "--publisher",
        "Desk A",
        "--publisher-url",
        "https://desk.example",
        "--url-template",
        TEMPLATE,
        "-o",
        str(out),
    )
    reviews = json.loads(out.read_text())
    assert len(reviews) == 2  # only rated claims
    for r in reviews:
        assert r["@context"] == "https://schema.org" and r["@type"] == "ClaimReview"
        assert r["claimReviewed"] and r["url"].startswith("https://desk.example/checks/")
        assert r["author"] == {
            "@type": "Organization",
            "name": "Desk A",
            "url": "https://desk.example",
        }
        assert r["reviewRating"]["alternateName"]
        assert len(r["datePublished"]) == 10
        assert r["itemReviewed"]["@type"] == "Claim"
        assert r["itemReviewed"]["author"]["name"]
    denial = next(r for r in reviews if r["url"].endswith(f"/{seeded['denial']}"))
    assert denial["reviewRating"] == {
        "@type": "Rating",
        "alternateName": "False",
        "ratingValue": 1,
        "worstRating": 1,
        "bestRating": 5,
        "ratingExplanation": "Evidence says otherwise",
    }
    item = denial["itemReviewed"]
    assert item["author"] == {"@type": "Organization", "name": "China"}  # a government
    assert item["datePublished"] == "2013-03"
    assert item["firstAppearance"]["headline"] == "Obama raises hacking concerns with China's Xi"
    assert item["firstAppearance"]["url"].startswith("https://www.theglobeandmail.com/")
    assert item["firstAppearance"]["publisher"] == {
        "@type": "Organization",
        "name": "The Globe and Mail",
    }
    assert item["appearance"][0] == item["firstAppearance"]
    donilon = next(r for r in reviews if r["url"].endswith(f"/{seeded['donilon']}"))
    assert donilon["itemReviewed"]["author"]["@type"] == "Person"
    assert "ratingValue" not in donilon["reviewRating"]  # not on the true..false scale


def test_export_needs_a_url_for_each_review(cli, seeded) -> None:
    result = cli("export", "claimreview", "--publisher", "Desk A", ok=False)
    assert result.exit_code == 2 and "--url-template" in result.stderr
    bad = cli(
        "export",
        "claimreview",
        "--publisher",
        "Desk A",
        "--url-template",
        "https://x.example/a",
        ok=False,
    )
    assert bad.exit_code == 2 and "{id} or {uid}" in bad.stderr


def test_export_is_safe_to_paste_into_a_script_tag(cli, tmp_path) -> None:
    cli("claim", "add", "</script><script>alert(1)</script> & more", "--by", "Someone")
    cli("claim", "rate", "1", "false")
    out = cli(
        "export", "claimreview", "--publisher", "Desk", "--publisher-url", "https://d.example"
    ).stdout
    assert "</script>" not in out and "<" not in out
    assert json.loads(out)[0]["claimReviewed"] == "</script><script>alert(1)</script> & more"
    assert json.loads(out)[0]["url"].startswith("https://d.example#claim-")


def test_round_trip_keeps_claims_sources_and_verdicts(cli, seeded, tmp_path, monkeypatch) -> None:
    cli("claim", "rate", str(seeded["denial"]), "misleading", "--note", "Half the story")
    out = tmp_path / "reviews.json"
    cli(
        "export", "claimreview", "--publisher", "Desk A", "--url-template", TEMPLATE, "-o", str(out)
    )
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "fresh.db"))
    result = cli("import", "claimreview", str(out))
    assert "1 reviews: 1 claims created, 1 verdicts and 1 appearances added" in result.stderr
    claim = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert claim["text"].startswith("The Chinese state is not behind online espionage")
    assert claim["verdict"] == "misleading" and claim["stated"] == "2013-03"
    assert [s["title"] for s in claim["sources"]] == [
        "Obama raises hacking concerns with China's Xi"
    ]
    again = tmp_path / "again.json"
    cli(
        "export",
        "claimreview",
        "--publisher",
        "Desk A",
        "--url-template",
        TEMPLATE,
        "-o",
        str(again),
    )
    first, second = json.loads(out.read_text())[0], json.loads(again.read_text())[0]
    assert second["reviewRating"] == {**first["reviewRating"], "alternateName": "Misleading"}
    assert second["itemReviewed"] == first["itemReviewed"]


def test_import_maps_labels_keeps_them_and_is_idempotent(cli, tmp_path, db_url) -> None:
    path = write(
        tmp_path / "list.json", [review("Pants on Fire"), review("Engañoso", text="Cheese is blue")]
    )
    result = cli("import", "claimreview", str(path))
    assert "2 reviews: 2 claims created, 2 verdicts and 4 appearances added" in result.stderr
    first = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert first["verdict"] == "false"
    assert first["claimant"]["name"] == "Jane Doe"
    assert first["stated"] == "2020-03-01"
    assert [s["title"] for s in first["sources"]] == ["Moon post", "Cheese moon?"]
    assert first["sources"][0]["first"] is True
    verdict = first["verdicts"][0]
    assert verdict["reviewer"] == "PolitiFact"
    assert verdict["note"] == "[Pants on Fire] No cheese was found."
    assert split_note(verdict["note"]) == ("Pants on Fire", "No cheese was found.")
    assert json.loads(cli("claim", "show", "2", "-f", "json").stdout)["verdict"] == "misleading"
    actors = {a["name"]: a["kind"] for a in json.loads(cli("actor", "list", "-f", "json").stdout)}
    assert actors["Jane Doe"] == "person" and actors["Daily Example"] == "organization"
    before = dump(db_url)
    again = cli("import", "claimreview", str(path))
    assert "0 claims created, 0 verdicts and 0 appearances added" in again.stderr
    assert dump(db_url) == before


def test_unmapped_label_refuses_everything_until_mapped(cli, tmp_path, db_url) -> None:
    path = write(
        tmp_path / "feed.json", [review("Pants on Fire"), review("Full Flop", text="Other")]
    )
    before = dump(db_url)
    result = cli("import", "claimreview", str(path), ok=False)
    assert result.exit_code == 65
    assert (
        "review 2 (reviewRating.alternateName): rating label 'Full Flop' maps to no verdict"
        in result.stderr
    )
    assert "--map 'Full Flop=VERDICT'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before
    bad_map = cli("import", "claimreview", str(path), "--map", "Full Flop=wrong", ok=False)
    assert bad_map.exit_code == 2 and "verdict 'wrong' is not one of" in bad_map.stderr
    cli("import", "claimreview", str(path), "--map", "full flop=false")
    assert json.loads(cli("claim", "show", "2", "-f", "json").stdout)["verdict"] == "false"


def test_datafeed_graph_and_html_pages(cli, tmp_path) -> None:
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [{"@type": "DataFeedItem", "item": [review(text="From a feed")]}],
    }
    graph = {
        "@context": "https://schema.org",
        "@graph": [{"@type": "WebPage"}, review(text="From a graph")],
    }
    page = f"""<!doctype html><html><head><title>Check</title>
    <script>document.write("never run")</script>
    <script type="application/ld+json">{json.dumps(review(text="From a page &amp; its script"))}</script>
    </head><body><p>Text</p></body></html>"""
    for name, value in [("feed.json", feed), ("graph.json", graph), ("page.html", page)]:
        cli("import", "claimreview", str(write(tmp_path / name, value)))
    texts = cli("claim", "list", "-f", "json").stdout
    assert "From a feed" in texts and "From a graph" in texts
    assert "From a page &amp; its script" in texts  # script content is not HTML-decoded
    assert "never run" not in texts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("{not json", "is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"@type": "WebPage"}', "holds no ClaimReview"),
        ("<html><body>nothing</body></html>", "holds no <script"),
        (
            json.dumps(
                [
                    {
                        "@type": "ClaimReview",
                        "claimReviewed": "x",
                        "reviewRating": {"alternateName": "False"},
                    }
                ]
            ),
            "review 1 (itemReviewed.author): names no claimant",
        ),
        (
            json.dumps(
                [{"@type": "ClaimReview", "claimReviewed": "x", "itemReviewed": {"author": "Bob"}}]
            ),
            "review 1 (reviewRating): is missing",
        ),
        (json.dumps([{**review(), "claimReviewed": "bad\x07bell"}]), "review 1 (claimReviewed)"),
        (
            json.dumps(
                [
                    {
                        **review(),
                        "itemReviewed": {**review()["itemReviewed"], "datePublished": "March"},
                    }
                ]
            ),
            "review 1 (itemReviewed.datePublished): date 'March'",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(cli, tmp_path, db_url, content, message) -> None:
    path = write(tmp_path / "bad.json", content)
    before = dump(db_url)
    result = cli("import", "claimreview", str(path), ok=False)
    assert result.exit_code == 65, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before


def test_strings_holding_markup_are_stored_as_inert_text(cli, tmp_path) -> None:
    hostile = '<img src=x onerror="alert(1)"> says the moon is cheese'
    cli("import", "claimreview", str(write(tmp_path / "h.json", [review(text=hostile)])))
    assert json.loads(cli("claim", "show", "1", "-f", "json").stdout)["text"] == hostile


def test_not_utf8_is_refused(cli, tmp_path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"claimReviewed": "caf\xe9"}]'.encode("latin-1"))
    result = cli("import", "claimreview", str(path), ok=False)
    assert result.exit_code == 65 and "is not valid UTF-8" in result.stderr


def test_label_table_covers_every_verdict() -> None:
    assert set(LABELS.values()) == {
        "true",
        "mostly-true",
        "mixed",
        "misleading",
        "exaggerated",
        "false",
        "unverifiable",
        "not-a-claim",
    }
    assert all(1 <= v <= 5 for v in RATING.values())
