"""tracker actor add / list / show / edit / merge, checked in the output and in the database."""

import csv
import io
import json
import unicodedata
from typing import Any

import pytest
from helpers import MANDIANT_CLAIM, Run, author, dump
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import Actor, ActorName, Claim, ClaimSubject, HistoryEntry, Source


def actor_json(cli: Run, ref: str) -> dict[str, Any]:
    return json.loads(cli("actor", "show", ref, "-f", "json").stdout)


def history(db_url: str, entity: str, entity_id: int) -> list[tuple[str, dict[str, Any]]]:
    database = open_database(db_url)
    with database.session(write=False) as s:
        rows = s.execute(
            select(HistoryEntry.action, HistoryEntry.changes)
            .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)
            .order_by(HistoryEntry.id)
        ).all()
    database.close()
    return [(action, changes) for action, changes in rows]


# Actor ids in the seed: 1 Mandiant, 2 China, 3 PLA Unit 61398 (APT1, Comment Crew),
# 4 Tom Donilon, 5 The Globe and Mail (created as the article's publisher).


def test_add_prints_only_the_id_and_records_every_name(cli, seeded, db_url) -> None:
    result = cli(
        "actor",
        "add",
        "Fancy  Bear",
        "--kind",
        "group",
        "--alias",
        "APT28",
        "--alias",
        "Sofacy",
        "--alias",
        "apt28",  # the same alias twice is kept once
        "--description",
        "GRU unit 26165",
    )
    assert result.stdout == "6\n"
    assert result.stderr == "added actor 'Fancy Bear' (#6)\n"
    database = open_database(db_url)
    with database.session(write=False) as s:
        actor = s.get(Actor, 6)
        assert (actor.name, actor.kind, actor.description) == (
            "Fancy Bear",
            "group",
            "GRU unit 26165",
        )
        names = [(n.name, n.key, n.is_primary) for n in actor.names]
        assert names == [
            ("Fancy Bear", "fancy bear", True),
            ("APT28", "apt28", False),
            ("Sofacy", "sofacy", False),
        ]
    database.close()
    assert history(db_url, "actor", 6) == [
        (
            "created",
            {
                "name": "Fancy Bear",
                "kind": "group",
                "aliases": ["APT28", "Sofacy"],
                "description": "GRU unit 26165",
                "reliability": None,
            },
        )
    ]


def test_add_with_defaults(cli) -> None:
    assert cli("actor", "add", "Reuters").stdout == "1\n"
    shown = actor_json(cli, "reuters")
    expected = {
        "id": 1,
        "name": "Reuters",
        "kind": "other",
        "aliases": [],
        "description": None,
        "claims_made": 0,
        "claims_about": 0,
        "sources_published": 0,
        "appearances": 0,
    }
    assert {k: shown[k] for k in expected} == expected
    assert len(shown["uid"]) == 36


EXPECTED_LIST = [
    {"id": 2, "name": "China", "kind": "government", "aliases": [], "claims_made": 1,
     "claims_about": 2},
    {"id": 1, "name": "Mandiant", "kind": "company", "aliases": [], "claims_made": 1,
     "claims_about": 0},
    {"id": 3, "name": "PLA Unit 61398", "kind": "group", "aliases": ["APT1", "Comment Crew"],
     "claims_made": 0, "claims_about": 2},
    {"id": 5, "name": "The Globe and Mail", "kind": "other", "aliases": [], "claims_made": 0,
     "claims_about": 0},
    {"id": 4, "name": "Tom Donilon", "kind": "person", "aliases": [], "claims_made": 1,
     "claims_about": 0},
]  # fmt: skip


def test_list_as_json_and_jsonl(cli, seeded) -> None:
    assert json.loads(cli("actor", "list", "-f", "json").stdout) == EXPECTED_LIST
    lines = cli("actor", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == EXPECTED_LIST


def test_list_as_csv(cli, seeded) -> None:
    out = cli("actor", "list", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["id", "name", "kind", "aliases", "claims_made", "claims_about"]
    expected = [
        {
            **{k: str(v) for k, v in row.items() if k != "aliases"},
            "aliases": "; ".join(row["aliases"]),
        }
        for row in EXPECTED_LIST
    ]
    assert rows == expected


def test_list_as_a_table(cli, seeded) -> None:
    lines = cli("actor", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "name", "kind", "aliases", "claims_made", "claims_about"]
    assert len(lines) == 6
    unit = next(line for line in lines if "PLA Unit 61398" in line)
    assert unit.split()[0] == "3"
    assert "APT1, Comment Crew" in unit
    assert unit.split()[-2:] == ["0", "2"]


def test_list_of_nothing(cli) -> None:
    assert cli("actor", "list", "-f", "json").stdout == "[]\n"
    assert cli("actor", "list", "-f", "jsonl").stdout == ""
    assert cli("actor", "list", "-f", "csv").stdout.splitlines() == [
        "id,name,kind,aliases,claims_made,claims_about"
    ]


@pytest.mark.parametrize(
    "ref",
    [
        "3",
        "#3",
        "PLA Unit 61398",
        "pla unit 61398",
        "  PLA   UNIT 61398 ",
        "APT1",
        "apt1",
        "Comment Crew",
        "comment crew",
        "Comment  Crew",
        "COMMENT\tCREW",
    ],
)
def test_show_by_id_name_or_alias_ignoring_case_and_spacing(cli, seeded, ref) -> None:
    shown = actor_json(cli, ref)
    assert (shown["id"], shown["name"], shown["aliases"]) == (
        3,
        "PLA Unit 61398",
        ["APT1", "Comment Crew"],
    )
    assert (shown["claims_made"], shown["claims_about"]) == (0, 2)


def test_show_as_text(cli, seeded) -> None:
    lines = cli("actor", "show", "mandiant").stdout.splitlines()
    assert lines[:5] == ["id: 1", lines[1], "name: Mandiant", "kind: company", "aliases: "]
    assert lines[1].startswith("uid: ")
    assert lines[-4:] == [
        "claims_made: 1",
        "claims_about: 0",
        "sources_published: 1",
        "appearances: 2",
    ]


ACCENTED = "Société Générale"


@pytest.mark.parametrize(
    "ref",
    [
        ACCENTED,
        "societe generale",
        "SOCIETE GENERALE",
        "SOCIÉTÉ GÉNÉRALE",
        "Societe  Generale",
        unicodedata.normalize("NFD", ACCENTED),  # as macOS file names and some keyboards send it
        unicodedata.normalize("NFD", "société générale"),
    ],
    ids=["nfc", "plain", "upper", "upper-accents", "spaces", "nfd", "nfd-lower"],
)
def test_accented_names_match_without_accents(cli, seeded, db_url, ref) -> None:
    assert cli("actor", "add", ACCENTED, "--kind", "company").stdout == "6\n"
    assert actor_json(cli, ref)["name"] == ACCENTED
    # Recording a claim by it finds the actor instead of creating another.
    cli("claim", "add", "Trading losses were hidden", "--by", ref)
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert len(s.scalars(select(Actor)).all()) == 6
        claim = s.scalar(select(Claim).where(Claim.text == "Trading losses were hidden"))
        assert claim.claimant_id == 6
    database.close()


def test_accent_case_and_eszett_variants_are_one_name(cli, seeded, db_url) -> None:
    cli("actor", "add", "Deutsche Straße AG")
    assert actor_json(cli, "DEUTSCHE STRASSE AG")["id"] == 6
    cli("actor", "add", ACCENTED)
    before = dump(db_url)
    for name in ("Societe Generale", "SOCIÉTÉ  GÉNÉRALE", unicodedata.normalize("NFD", ACCENTED)):
        taken = cli("actor", "add", name, ok=False)
        assert taken.exit_code == 1
        cleaned = " ".join(unicodedata.normalize("NFC", name).split())  # as stored
        assert taken.stderr == (
            f"Error: the name {cleaned!r} already belongs to actor {ACCENTED!r} (#7)\n"
        )
        alias = cli("actor", "edit", "China", "--alias", name, ok=False)
        assert alias.exit_code == 1
    assert dump(db_url) == before


def test_rename_keeps_the_old_name_as_an_alias(cli, seeded, db_url) -> None:
    result = cli("actor", "edit", "mandiant", "--name", "Mandiant (Google Cloud)")
    assert result.stdout == ""
    assert result.stderr == "updated actor 'Mandiant (Google Cloud)' (#1)\n"
    for ref in ("Mandiant", "mandiant (google cloud)", "1"):
        shown = actor_json(cli, ref)
        assert (shown["id"], shown["name"], shown["aliases"]) == (
            1,
            "Mandiant (Google Cloud)",
            ["Mandiant"],
        )
    claim = json.loads(cli("claim", "show", str(seeded["mandiant"]), "-f", "json").stdout)
    assert claim["claimant"] == {"id": 1, "name": "Mandiant (Google Cloud)", "as": None}
    assert json.loads(cli("source", "show", "1", "-f", "json").stdout)["publisher"] == (
        "Mandiant (Google Cloud)"
    )
    assert history(db_url, "actor", 1)[-1] == (
        "edited",
        {
            "name": {"from": "Mandiant", "to": "Mandiant (Google Cloud)"},
            "aliases": {"added": ["Mandiant"]},
        },
    )


def test_rename_in_case_only_adds_no_alias(cli, seeded) -> None:
    cli("actor", "edit", "Mandiant", "--name", "MANDIANT")
    shown = actor_json(cli, "mandiant")
    assert (shown["name"], shown["aliases"]) == ("MANDIANT", [])


def test_rename_to_one_of_its_aliases_swaps_them(cli, seeded, db_url) -> None:
    cli("actor", "edit", "PLA Unit 61398", "--name", "APT1")
    shown = actor_json(cli, "pla unit 61398")
    assert shown["name"] == "APT1"
    assert sorted(shown["aliases"]) == ["Comment Crew", "PLA Unit 61398"]
    database = open_database(db_url)
    with database.session(write=False) as s:
        primary = s.scalars(
            select(ActorName.name).where(ActorName.actor_id == 3, ActorName.is_primary)
        ).all()
        assert primary == ["APT1"]
    database.close()


def test_add_and_remove_aliases(cli, seeded, db_url) -> None:
    cli("actor", "edit", "APT1", "--alias", "Comment Panda", "--remove-alias", "comment  crew")
    shown = actor_json(cli, "Comment Panda")
    assert (shown["id"], shown["aliases"]) == (3, ["APT1", "Comment Panda"])
    gone = cli("actor", "show", "Comment Crew", ok=False)
    assert gone.exit_code == 1
    assert gone.stderr == "Error: no actor 'Comment Crew'\n"
    assert history(db_url, "actor", 3)[-1] == (
        "edited",
        {"aliases": {"added": ["Comment Panda"], "removed": ["Comment Crew"]}},
    )
    # The freed name can now be given to another actor.
    cli("actor", "add", "Comment Crew")


def test_kind_and_description(cli, seeded, db_url) -> None:
    cli("actor", "edit", "China", "--kind", "organization", "--description", "The PRC")
    shown = actor_json(cli, "China")
    assert (shown["kind"], shown["description"]) == ("organization", "The PRC")
    cli("actor", "edit", "China", "--description", "")
    assert actor_json(cli, "China")["description"] is None
    assert history(db_url, "actor", 2)[-2:] == [
        (
            "edited",
            {
                "kind": {"from": "government", "to": "organization"},
                "description": {"from": None, "to": "The PRC"},
            },
        ),
        ("edited", {"description": {"from": "The PRC", "to": None}}),
    ]


def test_an_edit_that_changes_nothing_records_nothing(cli, seeded, db_url) -> None:
    before = dump(db_url)
    cli(
        "actor",
        "edit",
        "apt1",
        "--name",
        "PLA Unit 61398",
        "--kind",
        "group",
        "--alias",
        "Comment Crew",
        "--alias",
        "apt1",
    )
    assert dump(db_url) == before


@pytest.fixture
def panda(cli, seeded) -> dict[str, int]:
    """Another actor for the same group, with claims by and about it and a source it published."""
    ids = {"panda": int(cli("actor", "add", "Comment Panda", "--kind", "group",
                            "--alias", "Byzantine Candor").stdout)}  # fmt: skip
    ids["by"] = int(
        cli("claim", "add", "We did nothing", "--by", "Comment Panda", "--about", "China").stdout
    )
    ids["about"] = int(
        cli("claim", "add", "Panda hacked a newspaper", "--by", "China", "--about", "Byzantine "
            "Candor", "--about", "Mandiant").stdout
    )  # fmt: skip
    ids["both"] = int(
        cli("claim", "add", "Panda and APT1 are one group", "--by", "Mandiant",
            "--about", "APT1", "--about", "Comment Panda").stdout
    )  # fmt: skip
    ids["blog"] = int(cli("source", "add", "Panda blog", "--publisher", "Comment Panda").stdout)
    return ids


def test_merge_moves_names_claims_and_sources(cli, seeded, panda, db_url) -> None:
    result = cli("actor", "merge", "APT1", "Comment Panda", "--yes")
    assert result.stdout == ""
    # What will change is shown first (and asked on a terminal).
    assert result.stderr == (
        "merging actor 'Comment Panda' (#6) into 'PLA Unit 61398' (#3):\n"
        "  2 names, moved (they become aliases): 'Comment Panda', 'Byzantine Candor'\n"
        "  1 claims it made, reassigned: #4\n"
        "  1 sources it published, moved: #3\n"
        "  1 claims about it, moved: claim #5\n"
        "  1 claims about both: the second subject dropped: claim #6\n"
        "merged 'Comment Panda' (#6) into 'PLA Unit 61398' (#3); 'tracker actor unmerge 6' undoes it\n"
    )
    kept = actor_json(cli, "Byzantine Candor")
    assert kept["id"] == 3
    assert kept["name"] == "PLA Unit 61398"
    assert kept["kind"] == "group"
    assert kept["aliases"] == ["APT1", "Comment Crew", "Comment Panda", "Byzantine Candor"]
    assert (kept["claims_made"], kept["claims_about"], kept["sources_published"]) == (1, 4, 1)
    gone = cli("actor", "show", str(panda["panda"]), ok=False)
    assert (gone.exit_code, gone.stderr) == (1, f"Error: no actor with id {panda['panda']}\n")

    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.get(Actor, panda["panda"]) is None
        assert s.scalars(select(ActorName).where(ActorName.actor_id == panda["panda"])).all() == []
        assert s.get(Claim, panda["by"]).claimant_id == 3
        subjects = s.execute(select(ClaimSubject.claim_id, ClaimSubject.actor_id)).all()
        assert panda["panda"] not in {actor for _, actor in subjects}
        assert sorted(a for c, a in subjects if c == panda["about"]) == [1, 3]
        assert sorted(a for c, a in subjects if c == panda["both"]) == [3]  # once, not twice
        assert s.get(Source, panda["blog"]).publisher_id == 3
        primaries = s.scalars(
            select(ActorName.name).where(ActorName.actor_id == 3, ActorName.is_primary)
        ).all()
        assert primaries == ["PLA Unit 61398"]
    database.close()

    listed = json.loads(cli("claim", "list", "--by", "Comment Panda", "-f", "json").stdout)
    assert [c["id"] for c in listed] == [panda["by"]]
    assert listed[0]["claimant"] == "PLA Unit 61398"

    assert history(db_url, "claim", panda["by"])[-1] == (
        "edited",
        {"claimant": {"from": "Comment Panda", "to": "PLA Unit 61398"}},
    )
    assert history(db_url, "claim", panda["about"])[-1] == (
        "edited",
        {"about": {"removed": ["Comment Panda"], "added": ["PLA Unit 61398"]}},
    )
    assert history(db_url, "claim", panda["both"])[-1][0] == "edited"
    merged = history(db_url, "actor", 3)[-1]
    assert merged[0] == "merged"
    assert merged[1]["merged"]["id"] == panda["panda"]
    assert merged[1]["merged"]["name"] == "Comment Panda"
    assert merged[1]["names"] == ["Comment Panda", "Byzantine Candor"]
    assert history(db_url, "actor", panda["panda"])[-1] == (
        "merged-into",
        {"into": {"id": 3, "name": "PLA Unit 61398"}},
    )
    text = cli("claim", "history", str(panda["about"])).stdout
    assert f"edited by {author(db_url)}: about: +PLA Unit 61398, -Comment Panda" in text


def test_merge_refuses_to_give_one_claimant_the_same_claim_twice(cli, seeded, db_url) -> None:
    # Creates actor #6 (it resembles Mandiant: --new says it is another actor).
    cli("claim", "add", MANDIANT_CLAIM, "--by", "Mandiant Intelligence", "--new")
    before = dump(db_url)
    result = cli("actor", "merge", "Mandiant", "Mandiant Intelligence", "--yes", ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: cannot merge: claim #4 by 'Mandiant Intelligence' repeats claim #1 by 'Mandiant'; "
        "link them with 'repeats' or delete one first\n"
    )
    assert dump(db_url) == before
