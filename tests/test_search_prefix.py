"""Search as people type: words match as prefixes on both backends; actors and sources too."""

import json

import pytest
from sqlalchemy import text

from tracker.db import open_database

NORTH_KOREA = "North Korean hackers broke into Sony Pictures, the FBI says"
PROPORTIONATE = "The United States will respond in a proportionate way, at a time of our choosing"


@pytest.fixture
def typed(cli, seeded) -> dict[str, int]:
    cli("actor", "add", "Lazarus Group", "--kind", "group", "--alias", "Guardians of Peace")
    cli(
        "actor",
        "add",
        "James Comey",
        "--kind",
        "person",
        "--description",
        "Director of the Federal Bureau of Investigation",
    )
    cli(
        "source",
        "add",
        "Update on Sony Investigation",
        "--publisher",
        "Federal Bureau of Investigation",
        "--author",
        "Press Office",
        "--url",
        "https://www.fbi.gov/news/press-releases/update-on-sony-investigation",
        "--date",
        "2014-12-19",
    )
    korea = int(cli("claim", "add", NORTH_KOREA, "--by", "James Comey").stdout)
    measured = int(cli("claim", "add", PROPORTIONATE, "--by", "Barack Obama", "--new").stdout)
    return {"korea": korea, "proportionate": measured}


def _ids(cli, *words: str) -> list[int]:
    return [hit["id"] for hit in json.loads(cli("search", *words, "-f", "json").stdout)]


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["korea"], ["korea"]),
        (["Korea"], ["korea"]),
        (["ko"], ["korea"]),  # two letters: a prefix index of its own on SQLite
        (["kor", "son"], ["korea"]),
        (["proportion"], ["proportionate"]),
        (["propo", "choos"], ["proportionate"]),
        (["koreans"], []),  # a prefix of the query is not a match
        (["korea", "proportion"], []),  # every word must match
        (["kor*"], ["korea"]),  # `*` is not syntax, and the word is a prefix anyway
        (["kor:*"], ["korea"]),
        (["'kor'"], ["korea"]),
        (["kor", "&", "!son"], ["korea"]),  # tsquery operators are not operators
        (["kor|zzz"], []),
    ],
)
def test_words_match_as_prefixes(cli, typed, words, found) -> None:
    assert _ids(cli, *words) == [typed[name] for name in found]


def test_prefix_search_ranks_and_shows_the_match(cli, typed) -> None:
    hits = json.loads(cli("search", "korea", "-f", "json").stdout)
    assert hits[0]["match"].count("[") == 1 and "[Korean]" in hits[0]["match"]
    assert hits[0]["claimant"] == "James Comey"


def test_accents_and_prefixes_together(cli, seeded) -> None:
    made = int(cli("claim", "add", "La Société Générale a été visée", "--by", "China").stdout)
    assert _ids(cli, "soci", "gener") == [made]
    assert _ids(cli, "Socié") == [made]


def test_actors_by_name_alias_and_description(cli, typed) -> None:
    def names(*words: str) -> list[str]:
        hits = json.loads(cli("search", *words, "--in", "actors", "-f", "json").stdout)
        return [h["name"] for h in hits]

    assert names("lazar") == ["Lazarus Group"]
    assert names("guardians", "pea") == ["Lazarus Group"]
    assert names("bureau", "investig") == ["Federal Bureau of Investigation", "James Comey"]
    assert names("comment") == ["PLA Unit 61398"]
    hit = json.loads(cli("search", "guard", "--in", "actors", "-f", "json").stdout)[0]
    assert hit["match"] == "alias: Guardians of Peace"


def test_sources_by_title_url_publisher_and_author(cli, typed) -> None:
    def titles(*words: str) -> list[str]:
        hits = json.loads(cli("search", *words, "--in", "sources", "-f", "json").stdout)
        return [h["title"] for h in hits]

    sony = "Update on Sony Investigation"
    assert titles("sony") == [sony]
    assert titles("fbi", "press") == [sony]  # the URL's words, and the author's
    assert titles("federal") == [sony]
    assert titles("press", "offic") == [sony]
    assert titles("espionage") == ["APT1: Exposing One of China's Cyber Espionage Units"]
    assert titles("globe") == ["Obama raises hacking concerns with China's Xi"]  # publisher


def test_search_in_all_groups_by_kind(cli, typed) -> None:
    grouped = json.loads(cli("search", "sony", "--in", "all", "-f", "json").stdout)
    assert list(grouped) == ["claims", "actors", "sources", "incidents"]
    assert [h["id"] for h in grouped["claims"]] == [typed["korea"]]
    assert grouped["actors"] == []
    assert [h["title"] for h in grouped["sources"]] == ["Update on Sony Investigation"]
    table = cli("search", "investig", "--in", "all").stdout
    assert table.index("Actors (2)") < table.index("Sources (1)")
    assert "Claims" not in table  # a kind without matches is left out
    flat = cli("search", "sony", "--in", "all", "-f", "csv").stdout.splitlines()
    assert flat[0] == "type,id,label,match"
    assert [line.split(",")[0] for line in flat[1:]] == ["claim", "source"]


def test_search_limits_and_counts_the_rest(cli, typed) -> None:
    result = cli("search", "chin", "--limit", "1")
    assert len(result.stdout.splitlines()) == 2
    assert "… 1 more: --limit N or --all" in result.stderr
    assert len(json.loads(cli("search", "chin", "--all", "-f", "json").stdout)) == 2
    assert cli("search", "chin", "--columns", "id", "--sort", "-id").stdout.split() == [
        "id",
        "3",
        "1",
    ]


def test_unknown_kind_is_a_usage_error(cli, seeded) -> None:
    result = cli("search", "china", "--in", "planets", ok=False)
    assert result.exit_code == 2
    assert "planets" in result.stderr


def test_sqlite_keeps_prefix_indexes(backend, db_url, cli, seeded) -> None:
    if backend != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    database = open_database(db_url, write=False)
    with database.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'claim_fts'")).scalar()
    database.close()
    assert "prefix='2 3 4'" in sql
    # Its triggers survived the rebuild: a new claim and an edit are found at once.
    made = cli("claim", "add", "Zanzibar expedition", "--by", "China").stdout.strip()
    assert _ids(cli, "zanz") == [int(made)]
    cli("claim", "edit", made, "--text", "Quetzal expedition")
    assert _ids(cli, "quetz") == [int(made)]
    assert cli("search", "zanz").stdout == ""


def test_no_match_gives_programs_an_empty_document(cli, seeded) -> None:
    assert json.loads(cli("search", "zebra", "--in", "all", "-f", "json").stdout) == {
        "claims": [],
        "actors": [],
        "sources": [],
        "incidents": [],
    }
    assert cli("search", "zebra", "--in", "all", "-f", "csv").stdout.strip() == (
        "type,id,label,match"
    )
    assert cli("search", "zebra", "-f", "jsonl").stdout == ""
    nothing = cli("search", "zebra", "--in", "all")
    assert nothing.stdout == ""
    assert nothing.stderr.strip() == "no claims, actors, sources or incidents match 'zebra'"


def test_search_in_incidents_by_name_alias_and_description(cli, seeded) -> None:
    cli(
        "incident",
        "add",
        "APT1 intrusions",
        "--alias",
        "Comment Crew campaign",
        "--kind",
        "data-theft",
        "--description",
        "Years of theft from 141 organizations",
    )
    cli("incident", "add", "Sony Pictures hack", "--kind", "destructive")

    def names(*words: str) -> list[str]:
        found = json.loads(cli("search", *words, "--in", "incidents", "-f", "json").stdout)
        return [hit["name"] for hit in found]

    assert names("apt") == ["APT1 intrusions"]
    assert names("comm", "camp") == ["APT1 intrusions"]  # an alias
    assert names("organiz") == ["APT1 intrusions"]  # the description
    assert names("sony") == ["Sony Pictures hack"]
    hit = json.loads(cli("search", "comment", "--in", "incidents", "-f", "json").stdout)[0]
    assert hit["match"] == "alias: Comment Crew campaign"
    grouped = json.loads(cli("search", "comment", "--in", "all", "-f", "json").stdout)
    assert [h["name"] for h in grouped["incidents"]] == ["APT1 intrusions"]
    assert [h["name"] for h in grouped["actors"]] == ["PLA Unit 61398"]
    nothing = cli("search", "zebra", "--in", "incidents")
    assert nothing.stdout == "" and "no incidents match 'zebra'" in nothing.stderr


def test_repeated_searches_are_planned_for_their_words(backend, db_url, typed) -> None:
    """A long-lived session runs the same statement for every word: psycopg prepares it after 5
    runs, and PostgreSQL would then plan it once for all words. Each search stays planned for
    its own words, and finds the same claims every time."""
    from tracker.services.search import search_claims

    database = open_database(db_url)
    try:
        with database.session(write=False) as session:
            for _ in range(8):
                for word, claim in (
                    ("korea", typed["korea"]),
                    ("proportion", typed["proportionate"]),
                ):
                    assert [hit["id"] for hit in search_claims(session, word).hits] == [claim]
            if backend == "postgresql":
                prepared = session.execute(
                    text("SELECT statement FROM pg_prepared_statements")
                ).scalars()
                assert not [s for s in prepared if "candidates" in s or "EXPLAIN" in s]
    finally:
        database.close()


@pytest.mark.parametrize("walk_per_fetch", [0.0, 1e9])
def test_both_ways_to_the_newest_matches_agree(
    backend, db_url, typed, monkeypatch, walk_per_fetch
) -> None:
    """PostgreSQL finds a word's newest matches by walking back the claims or through the GIN
    index, whichever costs less (search._through_index): both give the same hits."""
    from tracker.services import search

    if backend != "postgresql":
        pytest.skip("the choice is PostgreSQL's")
    monkeypatch.setattr(search, "_WALK_PER_FETCH", walk_per_fetch)
    database = open_database(db_url)
    try:
        with database.session(write=False) as session:
            session.execute(text("ANALYZE claim"))  # reltuples known: the choice is made
            assert search._through_index(session, "'kor':*", 1000) is (walk_per_fetch > 1)
            hits = search.search_claims(session, "kor")
            assert [hit["id"] for hit in hits.hits] == [typed["korea"]]
            assert "[Korean]" in hits.hits[0]["match"] and not hits.more
    finally:
        database.close()
