"""The history format: written by the helpers of tracker.services.history, read back by its
`describe` as sentences — the new format, the legacy one older databases hold, and anything
unknown — never as Python values."""

import json
from typing import Any

import pytest
from helpers import author, history_rows, reopened
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import HistoryEntry
from tracker.services.history import changed, describe, diff, listed, record

# --- writers ----------------------------------------------------------------------------------


def test_changed_and_listed_shapes() -> None:
    assert changed(None, "mostly-true") == {"from": None, "to": "mostly-true"}
    assert listed(added=["a"], removed=["b"]) == {"added": ["a"], "removed": ["b"]}
    assert listed(added=("a",)) == {"added": ["a"]}  # an empty side is left out
    assert listed(removed=iter(["b"])) == {"removed": ["b"]}
    assert listed() == {}


def test_diff_keeps_only_what_changed_in_field_order() -> None:
    before = {"text": "Old", "quote": None, "tags": ["a", "b"], "about": ["X"], "status": "s"}
    after = {"text": "New", "quote": None, "tags": ["b", "c"], "about": ["X"], "status": "s"}
    assert diff(before, after) == {
        "text": {"from": "Old", "to": "New"},
        "tags": {"added": ["c"], "removed": ["a"]},
    }
    assert diff(before, dict(before)) == {}
    # Reordering a list is not a change; a list appearing from nothing is.
    assert diff({"tags": ["a", "b"]}, {"tags": ["b", "a"]}) == {}
    assert diff({"tags": None}, {"tags": ["a"]}) == {"tags": {"added": ["a"]}}
    # A field only one side has still counts.
    assert diff({"gone": 1}, {}) == {"gone": {"from": 1, "to": None}}


def test_round_trip_writers_to_sentences() -> None:
    before = {"verdict": None, "note": "old", "tags": ["us-policy-old"], "stated": "2013"}
    after = {"verdict": "mostly-true", "note": "", "tags": ["us-policy"], "stated": "2013"}
    changes = diff(before, after)
    stored = json.loads(json.dumps(changes))  # as the JSON column gives it back
    assert stored == changes
    assert describe("edited", stored) == (
        'verdict: none -> mostly-true; note: old -> ""; tags: +us-policy, -us-policy-old'
    )


def test_round_trip_through_the_database(db_url: str) -> None:
    changes = {
        "text": changed("Before", "After"),
        "about": listed(added=["China"], removed=["PLA Unit 61398"]),
        "credibility": changed(None, 2),
    }
    database = open_database(db_url)
    with database.session() as session:
        record(session, "claim", 7, "edited", changes)
        record(session, "claim", 7, "rated", {"verdict": changed(None, "true")}, by="Desk A")
    database.close()
    rows = history_rows(db_url, "claim", 7)
    assert rows == [
        ("edited", "tester", changes),
        ("rated", "Desk A", {"verdict": {"from": None, "to": "true"}}),
    ]
    with reopened(db_url) as session:
        entry = session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).first()
        assert list(entry.changes) == ["text", "about", "credibility"]  # order kept
    assert describe(rows[0][0], rows[0][2]) == (
        "text: Before -> After; about: +China, -PLA Unit 61398; credibility: none -> 2"
    )


# --- reading: the new format --------------------------------------------------------------------

NEW_FORMAT = [
    ("edited", {"verdict": changed(None, "mostly-true")}, "verdict: none -> mostly-true"),
    ("edited", {"tags": listed(added=["us-policy"])}, "tags: +us-policy"),
    ("edited", {"tags": listed(removed=["alpha", "beta"])}, "tags: -alpha, -beta"),
    ("edited", {"cites": listed(added=[3], removed=[1])}, "cites: +#3, -#1"),
    ("edited", {"quote": changed("  padded ", "")}, 'quote: "  padded " -> ""'),
    ("edited", {"text": changed("line one\nline two", "x")}, "text: line one line two -> x"),
    ("edited", {}, ""),
    ("created", {"uid": "u", "text": "The claim", "tags": ["a"]}, "The claim"),
    ("created", {"name": "China", "aliases": []}, "China"),
    ("created", {"title": "APT1 report"}, "APT1 report"),
    ("created", {"kind": "report", "url": None, "grade": "B"}, "kind: report; grade: B"),
    ("deleted", {"text": "Gone", "links": [{"from": 3}]}, "Gone"),
    (
        "linked",
        {"from": 3, "relation": "disputes", "to": 1, "note": "see p. 3"},
        "#3 disputes #1 — note: see p. 3",
    ),
    ("linked", {"from": 3, "relation": "disputes", "to": 1, "note": None}, "#3 disputes #1"),
    (
        "unlinked",
        {"from": 3, "relation": "disputes", "to": 1, "note": None, "reason": "deleted claim"},
        "#3 disputes #1; reason: deleted claim",
    ),
    (
        "rated",
        {"verdict": changed("true", "false"), "reason": "Retracted", "reviewer": "Desk A"},
        "verdict: true -> false; reason: Retracted; reviewer: Desk A",
    ),
    (
        "rated",
        {"verdict": changed(None, "true"), "reason": None, "reviewer": "Desk A"},
        "verdict: none -> true; reviewer: Desk A",  # no reason given: none said
    ),
]


@pytest.mark.parametrize(("action", "changes", "sentence"), NEW_FORMAT)
def test_describe_new_format(action: str, changes: dict[str, Any], sentence: str) -> None:
    assert describe(action, changes) == sentence


# --- reading: what older databases hold ---------------------------------------------------------

LEGACY = [
    ("edited", {"stated": ["2013-02-19", "2013-02"]}, "stated: 2013-02-19 -> 2013-02"),
    ("edited", {"note": [None, "n"]}, "note: none -> n"),
    ("edited", {"tags_removed": ["alpha", "beta"]}, "tags: -alpha, -beta"),
    (
        "edited",
        {"tags_added": ["a"], "status": ["unreviewed", "in-progress"], "tags_removed": ["b"]},
        "tags: +a, -b; status: unreviewed -> in-progress",
    ),
    ("edited", {"sources_added": ["Reuters wire"]}, "sources: +Reuters wire"),
    ("edited", {"about_removed": ["PLA Unit 61398"]}, "about: -PLA Unit 61398"),
    ("edited", {"aliases_added": ["APT1", "Comment Crew"]}, "aliases: +APT1, +Comment Crew"),
    ("edited", {"cites_added": [2], "cites_removed": [1]}, "cites: +#2, -#1"),
    (
        "edited",
        {"claimant": ["Comment Panda", "PLA Unit 61398"]},
        "claimant: Comment Panda -> PLA Unit 61398",
    ),
    (
        "rated",
        {"verdict": [None, "true"], "reason": "r", "status": ["unreviewed", "reviewed"]},
        "verdict: none -> true; reason: r; status: unreviewed -> reviewed",
    ),
    ("created", {"via": "import", "file": "sheet.csv"}, "imported from sheet.csv"),
    ("edited", {"via": "import", "file": None}, "imported from none"),
    (
        "merged",
        {
            "merged": {"id": 6, "uid": "x", "name": "Comment Panda"},
            "names": ["Comment Panda", "Byzantine Candor"],
        },
        "took in #6 Comment Panda (Comment Panda, Byzantine Candor)",
    ),
    ("merged-into", {"into": {"id": 3, "name": "PLA Unit 61398"}}, "into #3 PLA Unit 61398"),
    ("linked", {"from": 3, "relation": "disputes", "to": 1}, "#3 disputes #1"),
]


@pytest.mark.parametrize(("action", "changes", "sentence"), LEGACY)
def test_describe_legacy_format(action: str, changes: dict[str, Any], sentence: str) -> None:
    assert describe(action, changes) == sentence


UNKNOWN = [
    ("renamed", {"name": ["A", "B"]}, "name: A, B"),  # not an edit: a list, not a pair
    ("flagged", {"flag": True, "count": 3, "why": None}, "flag: yes; count: 3; why: none"),
    ("noted", {"detail": {"k": "v", "n": None}}, "detail: (k: v, n: none)"),
    ("noted", {"items": []}, "items: none"),
    ("edited", {"weird": {"from": 1}}, "weird: (from: 1)"),
    ("edited", None, ""),
]


@pytest.mark.parametrize(("action", "changes", "sentence"), UNKNOWN)
def test_describe_unknown_generically(action: str, changes: Any, sentence: str) -> None:
    assert describe(action, changes) == sentence


@pytest.mark.parametrize(
    ("action", "changes"), [(a, c) for a, c, _ in NEW_FORMAT + LEGACY + UNKNOWN]
)
def test_never_python_reprs(action: str, changes: Any) -> None:
    text = describe(action, changes)
    for repr_mark in ("None", "['", "{'", "True", "False", "('"):
        assert repr_mark not in text, text


# --- through the CLI: legacy entries already in a database read as sentences -------------------


def test_claim_history_reads_legacy_entries(cli, seeded, db_url) -> None:
    database = open_database(db_url)
    with database.session() as session:
        for action, changes in [
            ("edited", {"tags_removed": ["alpha", "beta"]}),
            ("rated", {"verdict": [None, "mostly-true"], "reviewer": "Desk A"}),
            ("edited", {"via": "import", "file": "sheet.csv"}),
        ]:
            session.add(
                HistoryEntry(entity="claim", entity_id=1, action=action, changes=changes, by="old")
            )
    database.close()
    lines = cli("claim", "history", "1").stdout.splitlines()
    by = author(db_url, "old")
    assert [line[22:] for line in lines[-3:]] == [
        f"edited by {by}: tags: -alpha, -beta",
        f"rated by {by}: verdict: none -> mostly-true; reviewer: Desk A",
        f"edited by {by}: imported from sheet.csv",
    ]
    # Programs still get the entries exactly as stored.
    as_json = json.loads(cli("claim", "history", "1", "-f", "json").stdout)
    assert as_json[-3]["changes"] == {"tags_removed": ["alpha", "beta"]}
    assert [action for action, _, _ in history_rows(db_url, "claim", 1)][-3:] == [
        "edited",
        "rated",
        "edited",
    ]
