"""The seed article end to end, as the README's quick start records it: through the CLI, then
checked in the database and in every output a user reads."""

import csv
import io
import json

import pytest
from helpers import (
    APT1_REPORT,
    CHINA_DENIAL,
    DONILON_QUOTE,
    GLOBE_ARTICLE,
    GLOBE_URL,
    MANDIANT_CLAIM,
    SEED,
)
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import Actor, ActorName, Appearance, Claim, Link, Source


def test_seed_text_is_what_we_record() -> None:
    if not SEED.exists():
        pytest.skip(f"the seed article is not beside this checkout ({SEED})")
    article = SEED.read_text(encoding="utf-8")
    assert DONILON_QUOTE in article
    assert "at least 141 organizations" in article
    assert "China denies the state is behind online espionage" in article


def test_seed_claims_land_in_the_database(cli, seeded, db_url) -> None:
    database = open_database(db_url)
    with database.session(write=False) as s:
        mandiant = s.get(Claim, seeded["mandiant"])
        assert mandiant.text == MANDIANT_CLAIM
        assert mandiant.claimant.name == "Mandiant"
        assert [a.name for a in mandiant.subjects] == ["PLA Unit 61398"]  # found by alias APT1
        assert mandiant.stated == "2013-02-19"
        assert [a.source.title for a in mandiant.appearances] == [APT1_REPORT, GLOBE_ARTICLE]
        assert mandiant.appearances[0].position < mandiant.appearances[1].position
        donilon = s.get(Claim, seeded["donilon"])
        assert donilon.quote == DONILON_QUOTE
        assert donilon.text != donilon.quote
        link = s.scalars(select(Link)).one()
        assert (link.from_id, link.relation, link.to_id) == (
            seeded["denial"],
            "disputes",
            seeded["mandiant"],
        )
        article = s.get(Source, seeded["article"])
        assert [c.title for c in article.cites] == [APT1_REPORT]
        assert article.publisher.name == "The Globe and Mail"
        assert article.url == GLOBE_URL
        assert article.published == "2013-03"
        names = set(s.scalars(select(ActorName.name)))
        assert {"APT1", "Comment Crew", "PLA Unit 61398"} <= names
        assert s.scalar(select(Actor).where(Actor.name == "The Globe and Mail")).kind == "other"
        assert len(s.scalars(select(Appearance)).all()) == 4
    database.close()


def test_dossier_shows_the_dispute_and_the_chain(cli, seeded) -> None:
    out = cli("claim", "show", str(seeded["mandiant"])).stdout
    assert MANDIANT_CLAIM in out
    assert "claimant: Mandiant" in out
    assert "about: PLA Unit 61398" in out
    assert f"#{seeded['denial']} (China) disputes this: {CHINA_DENIAL}" in out
    assert "[first appearance]" in out.split(APT1_REPORT)[1].splitlines()[0]
    assert f"<- rests on #{seeded['report']} {APT1_REPORT}" in out
    assert GLOBE_URL in out


def test_dossier_as_json(cli, seeded) -> None:
    data = json.loads(cli("claim", "show", str(seeded["mandiant"]), "--format", "json").stdout)
    assert data["claimant"]["name"] == "Mandiant"
    assert data["links_in"][0]["relation"] == "disputes"
    assert data["links_in"][0]["id"] == seeded["denial"]
    assert [s["first"] for s in data["sources"]] == [True, False]
    assert data["sources"][1]["chain"][0]["title"] == APT1_REPORT
    assert [h["action"] for h in data["history"]] == ["created", "linked"]
    denial = json.loads(cli("claim", "show", str(seeded["denial"]), "-f", "json").stdout)
    assert denial["links_out"][0]["id"] == seeded["mandiant"]


def test_rating_keeps_history_and_current_verdict(cli, seeded) -> None:
    cli("claim", "rate", str(seeded["denial"]), "misleading", "--by", "Desk A")
    cli("claim", "rate", str(seeded["denial"]), "unverifiable", "--note", "No evidence offered")
    data = json.loads(cli("claim", "show", str(seeded["denial"]), "-f", "json").stdout)
    assert data["verdict"] == "unverifiable"
    assert data["status"] == "reviewed"
    assert [v["verdict"] for v in data["verdicts"]] == ["misleading", "unverifiable"]
    assert data["verdicts"][0]["reviewer"] == "Desk A"
    assert data["verdicts"][1]["note"] == "No evidence offered"
    listed = cli("claim", "list", "--verdict", "unverifiable", "-f", "json").stdout
    assert [c["id"] for c in json.loads(listed)] == [seeded["denial"]]


def test_export_csv_opens_in_a_spreadsheet(cli, seeded, tmp_path) -> None:
    target = tmp_path / "claims.csv"
    result = cli("export", "claims", "-o", str(target))
    assert "exported 3 claims" in result.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [seeded["mandiant"], seeded["donilon"], seeded["denial"]]
    mandiant = rows[0]
    assert mandiant["claimant"] == "Mandiant"
    assert mandiant["about"] == "PLA Unit 61398"
    assert mandiant["sources"] == f"{APT1_REPORT}; {GLOBE_ARTICLE}"
    assert mandiant["first_source_url"] == GLOBE_URL
    assert mandiant["disputed_by"] == str(seeded["denial"])
    assert mandiant["stated"] == "2013-02-19"
    assert rows[1]["quote"] == DONILON_QUOTE
    assert not list(tmp_path.glob(".*partial"))


def test_reports(cli, seeded) -> None:
    summary = json.loads(cli("report", "summary", "-f", "json").stdout)
    assert summary["totals"]["claims"] == 3
    assert summary["most_disputed"][0]["id"] == seeded["mandiant"]
    assert {r["claimant"]: r["claims"] for r in summary["by_claimant"]} == {
        "China": 1,
        "Mandiant": 1,
        "Tom Donilon": 1,
    }
    disputed = cli("report", "disputed").stdout
    assert MANDIANT_CLAIM in disputed and CHINA_DENIAL in disputed
    china = json.loads(cli("report", "actor", "china", "-f", "json").stdout)
    assert [c["id"] for c in china["claims_by"]] == [seeded["denial"]]
    assert {c["id"] for c in china["claims_about"]} == {seeded["donilon"], seeded["denial"]}
    unit = json.loads(cli("report", "actor", "comment crew", "-f", "json").stdout)
    disputes = {c["id"]: c["disputes"] for c in unit["claims_about"]}
    assert disputes == {seeded["mandiant"]: 1, seeded["denial"]: 0}
    source = json.loads(cli("report", "source", GLOBE_ARTICLE, "-f", "json").stdout)
    assert len(source["claims"]) == 3
    assert source["source"]["cites"][0]["title"] == APT1_REPORT


def test_search_finds_words_in_text_and_quote(cli, seeded) -> None:
    hits = json.loads(cli("search", "terabytes", "-f", "json").stdout)
    assert [h["id"] for h in hits] == [seeded["mandiant"]]
    hits = json.loads(cli("search", "afford", "-f", "json").stdout)  # only in the quote
    assert [h["id"] for h in hits] == [seeded["donilon"]]
