"""What must hold on SQLite and PostgreSQL alike: search, moving a database between them, and the
traps where the two differ (counters, case, limits, time zones, order)."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from helpers import Run

from tracker.db import open_database
from tracker.services.search import RANK_WINDOW, search_claims

# Whole words and names: each query must find exactly these documents on both backends.
DOCUMENTS = [
    "Mandiant says APT1 stole hundreds of terabytes",
    "China denies the state is behind online espionage",
    "The Globe and Mail reports the Mandiant report",
    "Comment Crew targeted 141 organizations",
    "Espionage supplanted terrorism as the top threat",
    "Société Générale was not among the victims",
    "Unit 61398 operates from Shanghai",
]
QUERIES = {
    "terabytes": [1],
    "espionage": [2, 5],
    "ESPIONAGE": [2, 5],
    "mandiant": [1, 3],
    "mandiant report": [3],
    "comment crew": [4],
    "141": [4],
    "61398": [7],
    "Shanghai unit": [7],
    "société": [6],
    "societe": [6],
    "SOCIÉTÉ GENERALE": [6],
    "générale victims": [6],
    "the": [2, 3, 5, 6],
    "nothing-like-this": [],
    'report" OR "china': [],
}


def test_search_returns_the_same_claims(cli, backend) -> None:
    speakers = ["Mandiant", "China", "Globe", "Kaspersky", "Obama", "Reuters", "AFP"]
    for text, speaker in zip(DOCUMENTS, speakers, strict=True):
        cli("claim", "add", text, "--by", speaker)
    for query, expected in QUERIES.items():
        found = json.loads(cli("search", "-f", "json", "--", query).stdout)
        assert sorted(h["id"] for h in found) == expected, (backend, query)


def test_ranked_results_put_the_best_match_first(cli) -> None:
    cli("claim", "add", "espionage espionage espionage in the report", "--by", "A")
    cli(
        "claim",
        "add",
        "a long claim that mentions espionage once among many other words",
        "--by",
        "B",
    )
    found = json.loads(cli("search", "espionage", "-f", "json").stdout)
    assert [h["id"] for h in found] == [1, 2]
    assert len(json.loads(cli("search", "espionage", "--limit", "1", "-f", "json").stdout)) == 1


def test_common_words_rank_the_newest_matches_and_say_so(cli, tmp_path) -> None:
    # The best match is the oldest claim; then more than RANK_WINDOW weaker, newer ones.
    cli("claim", "add", "espionage espionage espionage", "--by", "Mandiant")
    rows = ["text,claimant"] + [
        f"a long claim number {n} that mentions espionage once among other words,Desk"
        for n in range(RANK_WINDOW + 5)
    ]
    flat = tmp_path / "many.csv"
    flat.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("import", "claims", str(flat))
    newest = RANK_WINDOW + 6

    windowed = cli("search", "espionage", "--limit", "3", "-f", "json")
    ids = [hit["id"] for hit in json.loads(windowed.stdout)]
    assert len(ids) == 3 and 1 not in ids
    assert all(newest - RANK_WINDOW < i <= newest for i in ids)
    assert f"more than {RANK_WINDOW:,} claims match" in windowed.stderr
    assert "--rank-all" in windowed.stderr

    everything = cli("search", "espionage", "--limit", "3", "--rank-all", "-f", "json")
    assert json.loads(everything.stdout)[0]["id"] == 1
    assert everything.stderr == ""
    # A limit beyond the window widens it: every match is ranked.
    wide = cli("search", "espionage", "--limit", str(newest), "-f", "json")
    assert sorted(hit["id"] for hit in json.loads(wide.stdout)) == list(range(1, newest + 1))
    assert json.loads(wide.stdout)[0]["id"] == 1 and wide.stderr == ""
    # Fewer matches than the window: all are ranked and nothing is said.
    # (Words are prefixes: "12" would find 120-129 too; 1004 is the last number.)
    narrow = cli("search", "espionage", "number", "1004", "-f", "json")
    assert [hit["id"] for hit in json.loads(narrow.stdout)] == [1006]
    assert narrow.stderr == ""


def test_the_window_is_exact_when_it_holds_every_match(db_url, cli) -> None:
    for n in range(5):
        cli("claim", "add", f"claim {n} about espionage" + " filler" * n, "--by", "Desk")
    database = open_database(db_url)
    try:
        with database.session(write=False) as s:
            windowed = search_claims(s, "espionage", limit=3)
            exact = search_claims(s, "espionage", limit=3, rank_all=True)
    finally:
        database.close()
    assert windowed.hits == exact.hits
    assert [h["id"] for h in exact.hits] == [1, 2, 3]  # shortest first
    assert (windowed.more, windowed.window, exact.more, exact.window) == (
        False,
        RANK_WINDOW,
        False,
        None,
    )


def test_search_help_names_the_window(cli) -> None:
    assert f"{RANK_WINDOW:,}" in " ".join(cli("search", "--help").stdout.split())


def test_names_match_without_case_or_accents(cli) -> None:
    cli("actor", "add", "Société Générale", "--alias", "SocGen")
    assert json.loads(cli("actor", "show", "SOCIETE generale", "-f", "json").stdout)["id"] == 1
    assert json.loads(cli("actor", "show", "socgen", "-f", "json").stdout)["id"] == 1
    refused = cli("actor", "add", "societe GENERALE", ok=False)
    assert refused.exit_code == 1 and "already belongs" in refused.stderr


def test_limits_are_the_same(cli, tmp_path) -> None:
    long_name = "N" * 301
    for args in (
        ["actor", "add", long_name],
        ["source", "add", "T" * 301],
        ["claim", "add", "x", "--by", "A", "--tag", "t" * 101],
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == 65, result.stderr
        assert "the limit is" in result.stderr
    assert cli("actor", "add", "N" * 300).exit_code == 0
    # ß folds to ss: the folded key would pass 300 characters, which PostgreSQL refuses.
    for args in (
        ["actor", "add", "ß" * 300],
        ["claim", "add", "x", "--by", "A", "--tag", "ß" * 100],
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == 65, result.stderr
        assert "once case and accents are folded" in result.stderr
    sheet = tmp_path / "folded.csv"
    sheet.write_text(f"text,claimant,tags\nx,A,{'ß' * 100}\n", encoding="utf-8")
    result = cli("import", "claims", str(sheet), ok=False)
    assert result.exit_code == 65 and "once case and accents are folded" in result.stderr
    nul = cli("claim", "add", "nul\x00byte", "--by", "A", ok=False)
    assert nul.exit_code == 65 and "control character" in nul.stderr


def test_timestamps_are_utc_with_their_zone(cli) -> None:
    before = datetime.now(UTC)
    cli("claim", "add", "Timed", "--by", "A")
    shown = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    created = datetime.fromisoformat(shown["created_at"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert abs((created - before).total_seconds()) < 60


def test_counters_continue_after_a_restore(cli, seeded, tmp_path, monkeypatch, db_url) -> None:
    cli("claim", "delete", str(seeded["donilon"]), "--yes")
    cli("export", "all", str(tmp_path / "dump"))
    if "://" in db_url:
        from helpers import empty_postgres

        empty_postgres(db_url)
    else:
        monkeypatch.setenv("TRACKER_DB", str(tmp_path / "restored.db"))
    cli("import", "all", str(tmp_path / "dump"))
    assert cli("claim", "add", "After the restore", "--by", "China").stdout.strip() == "4"
    assert cli("actor", "add", "Brand new actor").stdout.strip() == "6"
    assert cli("source", "add", "Brand new source").stdout.strip() == "3"


def test_listing_order_is_explicit(cli, seeded) -> None:
    cli("claim", "edit", str(seeded["mandiant"]), "--note", "touched last")
    ids = [c["id"] for c in json.loads(cli("claim", "list", "-f", "json").stdout)]
    assert ids == sorted(ids)
    names = [a["name"] for a in json.loads(cli("actor", "list", "-f", "json").stdout)]
    assert names == sorted(names, key=str.casefold) or names == sorted(names)


@pytest.mark.usefixtures("seeded")
def test_moving_between_sqlite_and_postgresql(cli, backend, tmp_path, request, monkeypatch) -> None:
    """SQLite -> PostgreSQL -> SQLite: nothing lost, flat exports byte-identical."""
    if backend != "sqlite":
        pytest.skip("starts from SQLite")
    pg = request.getfixturevalue("postgres_url")
    from helpers import empty_postgres

    cli("claim", "rate", "3", "false", "--note", "checked")
    cli("export", "claims", "--flat", "-o", str(tmp_path / "sqlite.csv"))
    cli("export", "all", str(tmp_path / "from-sqlite"))
    empty_postgres(pg)
    monkeypatch.setenv("TRACKER_DB", pg)
    cli("import", "all", str(tmp_path / "from-sqlite"))
    cli("export", "claims", "--flat", "-o", str(tmp_path / "pg.csv"))
    cli("export", "all", str(tmp_path / "from-pg"))
    assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "sqlite.csv").read_bytes()
    for path in (tmp_path / "from-sqlite").iterdir():
        assert path.read_bytes() == (tmp_path / "from-pg" / path.name).read_bytes(), path.name
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "back.db"))
    cli("import", "all", str(tmp_path / "from-pg"))
    cli("export", "claims", "--flat", "-o", str(tmp_path / "back.csv"))
    assert (tmp_path / "back.csv").read_bytes() == (tmp_path / "sqlite.csv").read_bytes()
    assert "disputes this" in Run()("claim", "show", "1").stdout


def test_postgresql_url_without_the_driver_says_what_to_install(tmp_path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg2'] = None\n"
        "from tracker.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "claim", "list"],
        env={**os.environ, "TRACKER_DB": "postgresql://analyst:secret@127.0.0.1/newsroom"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 74
    assert result.stderr == (
        "Error: PostgreSQL needs the psycopg driver: pip install 'claim-tracker[postgres]'\n"
    )


def test_open_database_reports_the_backend(db_url, backend) -> None:
    database = open_database(db_url)
    assert database.backend == backend
    database.close()
