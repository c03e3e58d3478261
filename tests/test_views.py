"""The SQL views `claim_report` and `attribution`, read without the tracker (plain sqlite3 and
psycopg), give what `export claims` and `report attribution` give."""

import json
import sqlite3
from datetime import datetime
from typing import Any

import pytest
from helpers import Run
from sqlalchemy.engine import make_url

from tracker.text import join_list

LISTS = ("about", "about_as", "sources", "tags", "supported_by", "disputed_by")


def _record(cli: Run, seeded: dict[str, int]) -> None:
    """The seed story with attribution, plus names that need escaping and several links."""
    cli("actor", "add", "Sadowski, J; Hall, R", "--kind", "person")
    cli("actor", "add", "Back\\slash Lab", "--kind", "company")
    cli("actor", "relate", "PLA Unit 61398", "part-of", "China")
    cli("incident", "add", "APT1 intrusions", "--kind", "data-theft")
    mandiant, denial = str(seeded["mandiant"]), str(seeded["denial"])
    cli("claim", "edit", mandiant, "--incident", "APT1 intrusions", "--blames", "APT1")
    cli("claim", "edit", mandiant, "--confidence", "high", "--tag", "apt1")
    cli("claim", "edit", denial, "--incident", "APT1 intrusions", "--clears", "PLA Unit 61398")
    extra = cli(
        "claim",
        "add",
        "Unit 61398 runs the operation",
        "--by",
        "Sadowski, J; Hall, R",
        "--about",
        "Back\\slash Lab",
        "--about",
        "China",
        "--source",
        "Obama raises hacking concerns with China's Xi",
        "--tag",
        "a;b",
    ).stdout.strip()
    cli("claim", "link", extra, "supports", mandiant)
    cli("claim", "link", str(seeded["donilon"]), "refutes", mandiant)
    cli("claim", "rate", denial, "unverifiable", "--note", "No evidence either way")


def _query(db_url: str, backend: str, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` read with the driver alone, as a notebook or a BI tool would."""
    if backend == "sqlite":
        conn = sqlite3.connect(db_url)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute(sql)]
        finally:
            conn.close()
    import psycopg
    from psycopg.rows import dict_row

    url = make_url(db_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    with psycopg.connect(dsn, row_factory=dict_row) as pg:
        return list(pg.execute(sql))


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace(" ", "T")[:26])


def test_claim_report_view_matches_export(cli: Run, seeded, backend, db_url) -> None:
    _record(cli, seeded)
    exported = json.loads(cli("export", "claims", "--format", "json").stdout)
    viewed = _query(db_url, backend, "SELECT * FROM claim_report ORDER BY id")
    assert [row["id"] for row in viewed] == [row["id"] for row in exported]
    assert list(viewed[0]) == list(exported[0])  # the same columns, in the same order
    for want, got in zip(exported, viewed, strict=True):
        for column, value in want.items():
            if column in LISTS:
                # One cell per list, split exactly as the CSV's (`;` and `\` escaped).
                expected = join_list(map(str, value)) or None
            elif column in ("created_at", "updated_at"):
                assert _instant(got[column]).replace(tzinfo=None) == datetime.fromisoformat(
                    value
                ).replace(tzinfo=None)
                continue
            else:
                expected = value
            assert got[column] == expected, (want["id"], column)
    extra = viewed[-1]
    assert extra["claimant"] == "Sadowski, J; Hall, R"
    assert extra["about"] == "China; Back\\\\slash Lab"
    assert extra["tags"] == "a\\;b"
    mandiant = viewed[seeded["mandiant"] - 1]
    assert mandiant["supported_by"] == str(extra["id"])
    assert mandiant["disputed_by"] == f"{seeded['donilon']}; {seeded['denial']}"


def test_attribution_view_matches_the_report(cli: Run, seeded, backend, db_url) -> None:
    _record(cli, seeded)
    report = json.loads(cli("report", "attribution", "APT1 intrusions", "--format", "json").stdout)
    viewed = _query(db_url, backend, "SELECT * FROM attribution ORDER BY incident, actor, claim_id")
    assert {row["incident"] for row in viewed} == {"APT1 intrusions"}
    from_report = sorted(
        (row["actor"], entry["claim_id"], stance, bool(entry.get(flag)))
        for row in report["rows"]
        for stance, key, flag in (
            ("blames", "blamed_by", "claim_of_responsibility"),
            ("clears", "cleared_by", "denial"),
        )
        for entry in row[key]
    )
    from_view = sorted(
        (
            row["actor"],
            row["claim_id"],
            row["stance"],
            bool(row["denial"] or row["claim_of_responsibility"]),
        )
        for row in viewed
    )
    assert from_view == from_report
    blame = next(row for row in viewed if row["stance"] == "blames")
    assert (blame["claimant"], blame["confidence"], blame["stated"]) == (
        "Mandiant",
        "high",
        "2013-02-19",
    )
    # China clearing its own unit (PLA Unit 61398 is part of China) is a denial.
    clearing = next(row for row in viewed if row["stance"] == "clears")
    assert clearing["claimant"] == "China" and bool(clearing["denial"])
    assert clearing["verdict"] == "unverifiable"


@pytest.mark.parametrize("view", ["claim_report", "attribution"])
def test_views_are_there_on_a_new_database(backend, db_url, view) -> None:
    assert _query(db_url, backend, f"SELECT count(*) AS n FROM {view}") == [{"n": 0}]
