"""tracker claim add / list / edit / delete / link / unlink / rate / history, tracker search and
tracker export claims: checked in the output a user or a program reads, and in the database."""

import csv
import io
import json
from typing import Any

import pytest
from helpers import (
    APT1_REPORT,
    CHINA_DENIAL,
    DONILON_QUOTE,
    GLOBE_ARTICLE,
    GLOBE_URL,
    MANDIANT_CLAIM,
    Run,
    Templates,
    author,
    dump,
    record_seed,
)
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import (
    Actor,
    Appearance,
    Claim,
    ClaimSubject,
    ClaimTag,
    Link,
    Source,
    VerdictEntry,
)
from tracker.services.claim_report import COLUMNS
from tracker.services.export import write_csv
from tracker.vocab import Relation, Verdict


def listed(cli: Run, *filters: str) -> list[int]:
    return [row["id"] for row in json.loads(cli("claim", "list", *filters, "-f", "json").stdout)]


def dossier(cli: Run, ref: str | int) -> dict[str, Any]:
    return json.loads(cli("claim", "show", str(ref), "-f", "json").stdout)


def history(cli: Run, ref: str | int) -> list[dict[str, Any]]:
    return json.loads(cli("claim", "history", str(ref), "-f", "json").stdout)


def add(cli: Run, *args: str) -> int:
    result = cli("claim", "add", *args)
    assert result.stdout.strip().isdigit(), result.stdout
    return int(result.stdout)


# Seed: claims 1 Mandiant (2013-02-19, about PLA Unit 61398, in sources 1 and 2, tag
# cyber-espionage), 2 Tom Donilon (2013-03, about China, quote), 3 China's denial (2013-03, about
# PLA Unit 61398 and China), and 3 disputes 1. Sources 1 APT1 report, 2 Globe article (cites 1).

# --- add ------------------------------------------------------------------------------------


def test_add_prints_only_the_id_on_stdout(cli, seeded, db_url) -> None:
    result = cli(
        "claim",
        "add",
        "Online attacks and espionage have supplanted terrorism as the top security threat",
        "--by",
        "US intelligence leaders",
        "-s",
        GLOBE_URL,  # an existing source, found by its URL
        "--source",
        "Worldwide Threat Assessment",  # a new one
        "-a",
        "United States",
        "--date",
        "2013-03-12",
        "-t",
        "Cyber Threat",
        "--tag",
        "cyber threat",
        "--credibility",
        "2",
        "--note",
        "Clapper testimony",
        "--quote",
        "Attacks have supplanted terrorism",
    )
    assert result.stdout == "4\n"
    assert result.stderr.splitlines() == [
        "created actor 'US intelligence leaders' (#6)",
        "created source 'Worldwide Threat Assessment' (#3)",
        "created actor 'United States' (#7)",
        "recorded claim #4",
    ]
    database = open_database(db_url)
    with database.session(write=False) as s:
        claim = s.get(Claim, 4)
        assert claim.claimant.name == "US intelligence leaders"
        assert claim.stated == "2013-03-12"
        assert (claim.credibility, claim.note) == (2, "Clapper testimony")
        assert claim.quote == "Attacks have supplanted terrorism"
        assert (claim.status, claim.verdict) == ("unreviewed", None)
        assert [(a.source_id, a.position) for a in claim.appearances] == [(2, 0), (3, 1)]
        assert [a.name for a in claim.subjects] == ["United States"]
        assert [t.tag for t in claim.tags] == ["cyber-threat"]
    database.close()
    created = history(cli, 4)
    assert [(h["action"], h["by"]) for h in created] == [("created", "tester")]
    assert created[0]["changes"]["sources"] == [GLOBE_ARTICLE, "Worldwide Threat Assessment"]


def test_add_finds_actors_and_sources_instead_of_duplicating_them(cli, seeded, db_url) -> None:
    before = {name: len(rows) for name, rows in dump(db_url).items()}
    result = cli(
        "claim", "add", "Another claim", "--by", "  MANDIANT ", "-s", "#1", "-s", "apt1: exposing "
        "one of china's cyber espionage units", "-a", "comment crew", "-a", "#3",
    )  # fmt: skip
    assert (result.stdout, result.stderr) == ("4\n", "recorded claim #4\n")
    after = {name: len(rows) for name, rows in dump(db_url).items()}
    assert after["actor"] == before["actor"]
    assert after["source"] == before["source"]
    assert after["appearance"] == before["appearance"] + 1
    assert after["claim_subject"] == before["claim_subject"] + 1


def test_add_by_url_creates_the_source_once(cli, seeded) -> None:
    url = "https://example.com/news/apt1"
    first = cli("claim", "add", "First", "--by", "China", "--source", url)
    assert first.stderr.splitlines()[0] == f"created source {url!r} (#3)"
    second = cli("claim", "add", "Second", "--by", "China", "--source", url)
    assert second.stderr == "recorded claim #5\n"
    shown = json.loads(cli("source", "show", url, "-f", "json").stdout)
    assert (shown["id"], shown["title"], shown["url"], shown["claims"]) == (3, url, url, 2)


def test_text_starting_with_a_dash_after_double_dash(cli, seeded) -> None:
    ident = add(cli, "--by", "China", "--", "-5% growth is a lie")
    assert dossier(cli, ident)["text"] == "-5% growth is a lie"


# --- list and its filters -------------------------------------------------------------------


def record_dated(cli: Run) -> dict[str, int]:
    """More claims at every date precision, and verdicts and statuses to filter on."""
    add(cli, "Year only", "--by", "China", "--date", "2013", "--tag", "Year")  # 4
    add(cli, "Mid January", "--by", "Mandiant", "--date", "2013-01-15")  # 5
    add(cli, "Undated", "--by", "China")  # 6
    add(cli, "Next year", "--by", "China", "--date", "2014-02")  # 7
    cli("claim", "rate", "1", "true")
    cli("claim", "rate", "1", "misleading")
    cli("claim", "rate", "3", "unverifiable")
    cli("claim", "edit", "2", "--status", "in-progress")
    return {}


def build_dated(cli: Run) -> dict[str, int]:
    return {**record_seed(cli), **record_dated(cli)}


@pytest.fixture
def dated(cli: Run, templates: Templates, backend: str, db_url: str) -> dict[str, int]:
    """The seed and the claims above, recorded once per session."""
    return dict(templates.load("claims-dated", build_dated, backend, db_url))


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        ([], [1, 2, 3, 4, 5, 6, 7]),
        (["--by", "Mandiant"], [1, 5]),
        (["-b", "china", "--by", "Tom Donilon"], [2, 3, 4, 6, 7]),
        (["--by", "APT1"], []),
        (["--about", "APT1"], [1, 3]),
        (["-a", "China"], [2, 3]),
        (["--about", "China", "--about", "PLA Unit 61398"], [3]),
        (["--source", APT1_REPORT], [1]),
        (["-s", "2"], [1, 2, 3]),
        (["--source", GLOBE_URL], [1, 2, 3]),
        (["--tag", "cyber-espionage"], [1]),
        (["-t", "Cyber  Espionage"], [1]),
        (["--tag", "year"], [4]),
        (["--verdict", "misleading"], [1]),
        (["--verdict", "true"], []),  # only the current verdict counts
        (["--verdict", "unverifiable", "--verdict", "misleading"], [1, 3]),
        (["--status", "reviewed"], [1, 3]),
        (["--status", "in-progress"], [2]),
        (["--status", "unreviewed"], [4, 5, 6, 7]),
        (["--since", "2013-02"], [1, 2, 3, 4, 7]),
        (["--until", "2013-02"], [1, 4, 5]),
        (["--until", "2013-01"], [4, 5]),
        (["--since", "2013-02", "--until", "2013-02"], [1, 4]),
        (["--since", "2013-02-20"], [2, 3, 4, 7]),
        (["--since", "2013-02-19", "--until", "2013-02-19"], [1, 4]),
        (["--until", "2013-02-18"], [4, 5]),
        (["--since", "2013-03-31"], [2, 3, 4, 7]),
        (["--since", "2014"], [7]),
        (["--until", "2012"], []),
        (["--by", "China", "--since", "2013", "--until", "2013"], [3, 4]),
        (["--about", "PLA Unit 61398", "--verdict", "misleading", "--source", "1"], [1]),
        (["--limit", "2"], [1, 2]),
        (["--by", "China", "--limit", "2"], [3, 4]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and isinstance(v[0], str) else None,
)
def test_list_filters(cli, dated, filters, ids) -> None:
    assert listed(cli, *filters) == ids


def test_partial_dates_stand_for_their_whole_period(cli, seeded) -> None:
    year = add(cli, "Stated some time in 2013", "--by", "China", "--date", "2013")
    day = seeded["mandiant"]  # stated 2013-02-19
    assert year in listed(cli, "--since", "2013-02")
    assert year in listed(cli, "--until", "2013-02")
    assert day in listed(cli, "--until", "2013-02")
    assert day not in listed(cli, "--until", "2013-01")
    assert day in listed(cli, "--since", "2013-02")
    assert day not in listed(cli, "--since", "2013-03")


def test_export_uses_the_same_filters(cli, dated) -> None:
    out = cli("export", "claims", "--format", "json", "--about", "APT1", "--until", "2013-02")
    assert [row["id"] for row in json.loads(out.stdout)] == [1]
    out = cli("export", "claims", "-f", "jsonl", "--status", "unreviewed", "--since", "2014")
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [7]


def test_list_formats_parse_and_agree(cli, seeded) -> None:
    cli("claim", "rate", "1", "misleading")
    as_json = json.loads(cli("claim", "list", "-f", "json").stdout)
    as_jsonl = [json.loads(x) for x in cli("claim", "list", "-f", "jsonl").stdout.splitlines()]
    assert as_jsonl == as_json
    assert [list(row) for row in as_json] == [COLUMNS] * 3
    mandiant = as_json[0]
    assert mandiant["text"] == MANDIANT_CLAIM
    assert mandiant["sources"] == [APT1_REPORT, GLOBE_ARTICLE]
    assert mandiant["disputed_by"] == [seeded["denial"]]
    assert mandiant["verdict"] == "misleading"
    assert as_json[1]["quote"] == DONILON_QUOTE
    assert as_json[2]["about"] == ["China", "PLA Unit 61398"]

    out = cli("claim", "list", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == COLUMNS

    def flat(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return "; ".join(str(v) for v in value)
        return str(value)

    assert rows == [{k: flat(v) for k, v in row.items()} for row in as_json]


def test_list_as_a_table(cli, seeded) -> None:
    lines = cli("claim", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "claimant", "text", "stated", "verdict", "status", "sources"]
    assert len(lines) == 4
    assert lines[3].startswith("3\tChina\t")  # piped: tab-separated, unpadded
    assert CHINA_DENIAL in lines[3]


def test_list_of_nothing(cli) -> None:
    assert cli("claim", "list", "-f", "json").stdout == "[]\n"
    assert cli("claim", "list", "-f", "jsonl").stdout == ""
    assert cli("claim", "list", "-f", "csv").stdout.splitlines() == [",".join(COLUMNS)]


def test_a_negative_list_limit_is_refused(cli, seeded) -> None:
    result = cli("claim", "list", "--limit", "-1", ok=False)
    assert result.exit_code == 2  # every count option is bounded (tracker.cli.MAX_COUNT)
    assert "--limit" in result.stderr and "-1" in result.stderr


# --- edit: every change lands in the history -------------------------------------------------


def _to(old: Any, new: Any) -> dict[str, Any]:
    return {"from": old, "to": new}


@pytest.mark.parametrize(
    ("args", "changes"),
    [
        (["--text", "New words"], {"text": _to(MANDIANT_CLAIM, "New words")}),
        (
            ["--quote", "stole hundreds of terabytes"],
            {"quote": _to(None, "stole hundreds of terabytes")},
        ),
        (["-d", "2013-02"], {"stated": _to("2013-02-19", "2013-02")}),
        (["--date", ""], {"stated": _to("2013-02-19", None)}),
        (["--note", "Check the annex"], {"note": _to(None, "Check the annex")}),
        (["--credibility", "2"], {"credibility": _to(None, 2)}),
        (["--status", "in-progress"], {"status": _to("unreviewed", "in-progress")}),
        (["--by", "China"], {"claimant": _to("Mandiant", "China")}),
        (["--source", "Reuters wire"], {"sources": {"added": ["Reuters wire"]}}),
        (["--source", "2", "--source", "1"], {}),  # already there: nothing to record
        (["--remove-source", APT1_REPORT], {"sources": {"removed": [APT1_REPORT]}}),
        (["--about", "China"], {"about": {"added": ["China"]}}),
        (["--remove-about", "APT1"], {"about": {"removed": ["PLA Unit 61398"]}}),
        (["--tag", "PLA"], {"tags": {"added": ["pla"]}}),
        (["--remove-tag", "Cyber Espionage"], {"tags": {"removed": ["cyber-espionage"]}}),
        (
            ["--date", "2013", "--tag", "a", "--tag", "b"],
            {"stated": _to("2013-02-19", "2013"), "tags": {"added": ["a", "b"]}},
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_each_edit_is_recorded(cli, seeded, db_url, args, changes) -> None:
    before = dump(db_url)
    result = cli("claim", "edit", "1", *args)
    assert result.stdout == ""
    entries = history(cli, 1)
    if not changes:
        assert result.stderr.splitlines()[-1] == "claim #1: nothing to change"
        assert dump(db_url) == before
        return
    assert result.stderr.splitlines()[-1] == "updated claim #1"
    assert [e["action"] for e in entries] == ["created", "linked", "edited"]
    assert entries[-1]["changes"] == changes
    assert entries[-1]["by"] == "tester"
    # The claim as shown now carries the new values.
    shown = dossier(cli, 1)
    current = {
        **shown,
        "claimant": shown["claimant"]["name"],
        "sources": [src["title"] for src in shown["sources"]],
        "about": [actor["name"] for actor in shown["about"]],
    }
    for key, value in changes.items():
        if "from" in value:
            assert current[key] == value["to"]
        else:
            assert set(value.get("added", [])) <= set(current[key])
            assert not set(value.get("removed", [])) & set(current[key])


def test_edit_history_reads_as_before_and_after(cli, seeded, db_url) -> None:
    cli("claim", "edit", "1", "--date", "2013-02", "--status", "in-progress", "--tag", "pla")
    last = cli("claim", "history", "1").stdout.splitlines()[-1]
    assert last.endswith(
        f"edited by {author(db_url)}: stated: 2013-02-19 -> 2013-02; status: unreviewed -> in-progress; "
        "tags: +pla"
    )


def test_edit_by_uid_and_search_follows_the_new_text(cli, seeded) -> None:
    uid = dossier(cli, 1)["uid"]
    cli("claim", "edit", uid.upper(), "--text", "Unit 61398 exfiltrated petabytes")
    assert dossier(cli, 1)["text"] == "Unit 61398 exfiltrated petabytes"
    assert json.loads(cli("search", "terabytes", "-f", "json").stdout) == []
    assert [h["id"] for h in json.loads(cli("search", "petabytes", "-f", "json").stdout)] == [1]


def test_credibility_can_be_cleared(cli, seeded) -> None:
    cli("claim", "edit", "1", "--credibility", "3")
    cli("claim", "edit", "1", "--credibility", "")
    assert dossier(cli, 1)["credibility"] is None


def test_clearing_quote_and_note(cli, seeded) -> None:
    cli("claim", "edit", "2", "--quote", "", "--note", "  ")
    shown = dossier(cli, 2)
    assert (shown["quote"], shown["note"]) == (None, None)
    assert history(cli, 2)[-1]["changes"] == {"quote": {"from": DONILON_QUOTE, "to": None}}


# --- delete ---------------------------------------------------------------------------------


def s_count(db_url: str) -> int:
    database = open_database(db_url)
    with database.session(write=False) as s:
        n = len(s.scalars(select(Claim)).all())
    database.close()
    return n


def test_delete_is_refused_while_linked_unless_forced(cli, seeded, db_url) -> None:
    before = dump(db_url)
    refused = cli("claim", "delete", "1", "--yes", ok=False)
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: claim #1 is linked from other claims (#3 disputes); unlink them or use --force\n"
    )
    assert dump(db_url) == before
    cli("claim", "rate", "1", "misleading", "--note", "overstated")

    # Off a terminal it needs --yes, and changes nothing without it.
    unconfirmed = cli("claim", "delete", "1", "--force", ok=False)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr
    assert s_count(db_url) == 3
    result = cli("claim", "delete", "1", "--force", "--yes")
    assert result.stdout == ""
    # What goes with it is shown first: the link it had, its verdict, its appearances.
    assert result.stderr.splitlines() == [
        f"deleting claim #1 by Mandiant: {MANDIANT_CLAIM[:80]}",
        "  removes the link #3 disputes #1",
        "  removes 1 verdict(s) (kept in its history)",
        "  removes its 2 appearance(s) in sources",
        "deleted claim #1; 'tracker claim history 1' still shows it",
    ]
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.get(Claim, 1) is None
        for model in (Appearance, ClaimSubject, ClaimTag, VerdictEntry):
            assert s.scalars(select(model).where(model.claim_id == 1)).all() == []
        assert s.scalars(select(Link)).all() == []
        assert s.get(Source, 1) is not None  # sources and actors stay
        assert s.get(Actor, 1) is not None
    database.close()

    entries = history(cli, 1)
    assert [e["action"] for e in entries] == ["created", "linked", "rated", "deleted"]
    final = entries[-1]["changes"]
    assert final["text"] == MANDIANT_CLAIM
    assert final["links"] == [{"from": 3, "relation": "disputes", "to": 1, "note": None}]
    assert [v["verdict"] for v in final["verdicts"]] == ["misleading"]
    assert history(cli, 3)[-1]["action"] == "unlinked"
    assert history(cli, 3)[-1]["changes"] == {
        "from": 3,
        "relation": "disputes",
        "to": 1,
        "note": None,
        "reason": "deleted claim",
    }
    assert f"deleted by {author(db_url)}: " + MANDIANT_CLAIM in cli("claim", "history", "1").stdout

    shown = cli("claim", "show", "1", ok=False)
    assert (shown.exit_code, shown.stderr) == (
        1,
        "Error: claim '1' was deleted (see 'tracker claim history')\n",
    )
    linked = cli("claim", "link", "2", "supports", "1", ok=False)
    assert linked.stderr == "Error: claim '1' was deleted (see 'tracker claim history')\n"
    assert json.loads(cli("search", "terabytes", "-f", "json").stdout) == []
    assert dossier(cli, 3)["links_out"] == []


def test_a_claim_that_only_links_out_can_be_deleted(cli, seeded) -> None:
    cli("claim", "delete", "3", "--yes")
    assert dossier(cli, 1)["links_in"] == []
    assert listed(cli) == [1, 2]


def test_deleted_ids_are_never_reused(cli, seeded) -> None:
    cli("claim", "delete", "3", "--yes")  # the newest claim
    assert add(cli, "Fresh claim", "--by", "China") == 4
    cli("claim", "delete", "4", "--yes")
    assert add(cli, "Fresher claim", "--by", "China") == 5
    assert history(cli, 3)[-1]["action"] == "deleted"
    assert [e["action"] for e in history(cli, 4)] == ["created", "deleted"]
    assert [e["action"] for e in history(cli, 5)] == ["created"]


def test_history_of_a_deleted_claim_by_uid(cli, seeded) -> None:
    uid = dossier(cli, 3)["uid"]
    cli("claim", "delete", "3", "--yes")
    result = cli("claim", "history", uid, "-f", "json", ok=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == history(cli, 3)


# --- link, unlink, rate ---------------------------------------------------------------------


@pytest.mark.parametrize("relation", [r.value for r in Relation])
def test_link_every_relation(cli, seeded, db_url, relation) -> None:
    result = cli("claim", "link", "2", relation, "#1", "--note", "see p. 3")
    assert result.stdout == ""
    assert result.stderr == f"linked: #2 {relation} #1\n"
    database = open_database(db_url)
    with database.session(write=False) as s:
        link = s.scalar(select(Link).where(Link.from_id == 2))
        assert (link.relation, link.to_id, link.note) == (relation, 1, "see p. 3")
    database.close()
    change = {"from": 2, "relation": relation, "to": 1, "note": "see p. 3"}
    assert history(cli, 2)[-1] == {**history(cli, 2)[-1], "action": "linked", "changes": change}
    assert history(cli, 1)[-1]["changes"] == change
    assert dossier(cli, 2)["links_out"][0]["id"] == 1
    assert [(x["id"], x["relation"]) for x in dossier(cli, 1)["links_in"]] == [
        (3, "disputes"),
        (2, relation),
    ]
    row = json.loads(cli("claim", "list", "-f", "json").stdout)[0]
    supported = [2] if relation == "supports" else []
    disputed = [2, 3] if relation in ("disputes", "refutes") else [3]
    assert (row["supported_by"], row["disputed_by"]) == (supported, disputed)
    assert f"this {relation} #1 (Mandiant)" in cli("claim", "show", "2").stdout


def test_links_go_both_ways_independently(cli, seeded) -> None:
    cli("claim", "link", "1", "disputes", "3")  # 3 disputes 1 already: the reverse is new
    assert [x["id"] for x in dossier(cli, 1)["links_out"]] == [3]
    assert [x["id"] for x in dossier(cli, 1)["links_in"]] == [3]


def test_unlink(cli, seeded, db_url) -> None:
    result = cli("claim", "unlink", "3", "disputes", "1")
    assert result.stdout == ""
    assert result.stderr == "unlinked: #3 disputes #1\n"
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.scalars(select(Link)).all() == []
    database.close()
    change = {"from": 3, "relation": "disputes", "to": 1, "note": None}
    assert history(cli, 3)[-1] == {**history(cli, 3)[-1], "action": "unlinked", "changes": change}
    assert history(cli, 1)[-1]["action"] == "unlinked"
    assert f"unlinked by {author(db_url)}: #3 disputes #1" in cli("claim", "history", "1").stdout
    cli("claim", "delete", "1", "--yes")  # nothing links to it any more


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["unlink", "1", "disputes", "3"], "does not disputes"),
        (["unlink", "3", "supports", "1"], "does not supports"),
        (["link", "1", "qualifies", "1"], "qualifie itself"),
    ],
    ids=["unlink-disputes", "unlink-supports", "self-qualifies"],
)
def test_link_messages_are_grammatical(cli, seeded, args, bad) -> None:
    result = cli("claim", *args, ok=False)
    assert result.exit_code == 1
    assert bad not in result.stderr


@pytest.mark.parametrize("verdict", [v.value for v in Verdict])
def test_rate_with_every_verdict(cli, seeded, verdict) -> None:
    result = cli("claim", "rate", "2", verdict, "--note", "Checked the video", "--by", "Desk B")
    assert result.stdout == ""
    assert result.stderr == f"rated claim #2: {verdict}\n"
    shown = dossier(cli, 2)
    assert (shown["verdict"], shown["status"]) == (verdict, "reviewed")
    assert shown["verdicts"][-1] | {"at": None} == {
        "verdict": verdict,
        "reviewer": "Desk B",
        "note": "Checked the video",
        "at": None,
    }
    assert shown["history"][-1]["changes"] == {
        "verdict": {"from": None, "to": verdict},
        "status": {"from": "unreviewed", "to": "reviewed"},
        "reason": "Checked the video",
        "reviewer": "Desk B",
    }
    assert shown["history"][-1]["by"] == "Desk B"
    assert listed(cli, "--verdict", verdict) == [2]


def test_rerating_keeps_every_verdict(cli, seeded) -> None:
    cli("claim", "rate", "1", "true")
    cli("claim", "rate", "1", "false", "-n", "Retracted")
    entries = history(cli, 1)
    assert [e["action"] for e in entries] == ["created", "linked", "rated", "rated"]
    assert entries[-1]["changes"] == {
        "verdict": {"from": "true", "to": "false"},
        "reason": "Retracted",
        "reviewer": "tester",
    }
    assert [v["verdict"] for v in dossier(cli, 1)["verdicts"]] == ["true", "false"]


# --- history --------------------------------------------------------------------------------


def test_history_formats(cli, seeded, db_url) -> None:
    cli("claim", "edit", "1", "--note", "n")
    as_json = history(cli, 1)
    assert [e["action"] for e in as_json] == ["created", "linked", "edited"]
    assert all(e["by"] == "tester" for e in as_json)
    lines = cli("claim", "history", "1", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    table = cli("claim", "history", "#1").stdout.splitlines()
    assert len(table) == 3
    # The seed story is restored from a SQLite dump: its entries keep having no role.
    assert table[0].endswith(f"created by tester: {MANDIANT_CLAIM}")
    assert table[1].endswith("linked by tester: #3 disputes #1")
    assert table[2].endswith(f"edited by {author(db_url)}: note: none -> n")


def test_history_csv_changes_are_json(cli, seeded) -> None:
    as_json = history(cli, 1)
    rows = list(csv.DictReader(io.StringIO(cli("claim", "history", "1", "-f", "csv").stdout)))
    assert [json.loads(row["changes"]) for row in rows] == [e["changes"] for e in as_json]


# --- search ---------------------------------------------------------------------------------

HOSTILE = 'He said "NEAR" (maybe) AND OR NOT 100% sure: *stars* - dashes; DROP TABLE claim; --'


def record_searchable(cli: Run) -> dict[str, int]:
    return {
        "hostile": add(cli, HOSTILE, "--by", "Test Desk"),
        "accented": add(cli, "Société Générale hid trading losses", "--by", "Test Desk"),
        "noted": add(cli, "A plain claim", "--by", "Test Desk", "--note", "zeppelin evidence"),
    }


def build_searchable(cli: Run) -> dict[str, int]:
    return {**record_seed(cli), **record_searchable(cli)}


@pytest.fixture
def searchable(cli: Run, templates: Templates, backend: str, db_url: str) -> dict[str, int]:
    """The seed and the claims above, recorded once per session."""
    return dict(templates.load("claims-searchable", build_searchable, backend, db_url))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("terabytes", ["mandiant"]),
        ("TERABYTES", ["mandiant"]),
        ('"terabytes"', ["mandiant"]),
        ('"terabytes', ["mandiant"]),
        ("(terabytes)", ["mandiant"]),
        ("terabytes*", ["mandiant"]),
        ("tera*", ["mandiant"]),  # `*` is not an operator; every word is a prefix anyway
        ("-terabytes", ["mandiant"]),  # not a negation
        ("terabytes -data", ["mandiant"]),
        ("terabytes OR afford", []),  # OR is a word, and every word must match
        ("terabytes AND data", []),
        ("China NOT victim", ["denial"]),  # NOT is a word; it does not exclude
        ("text:terabytes", []),  # not a column filter: 'text' is a word too
        ("NEAR(terabytes data)", []),
        ("NEAR", ["hostile"]),
        ('"near"', ["hostile"]),
        ("AND OR NOT", ["hostile"]),
        ("100%", ["hostile"]),
        ("*stars*", ["hostile"]),
        ("sure:", ["hostile"]),
        ("'; DROP TABLE claim; --", ["hostile"]),
        ("Robert'); DROP TABLE claim;--", []),
        ("societe", ["accented"]),  # accents folded
        ("SOCIÉTÉ générale", ["accented"]),
        ("afford", ["donilon"]),  # in the quote only
        ("zeppelin", ["noted"]),  # in the note only
        ("Chinese state", ["denial"]),
        ("china", ["mandiant", "denial"]),
    ],
)
def test_search_takes_words_literally(cli, searchable, db_url, query, expected) -> None:
    before = dump(db_url)
    hits = json.loads(cli("search", "-f", "json", "--", query).stdout)
    assert sorted(h["id"] for h in hits) == sorted(searchable[k] for k in expected)
    assert dump(db_url) == before


@pytest.mark.parametrize("query", ["%", '""', "()", "* - :", "'; --", "   ", "^", "“”", "% _ %"])
def test_search_with_no_word_at_all_exits_65(cli, seeded, db_url, query) -> None:
    before = dump(db_url)
    result = cli("search", "--", query, ok=False)
    assert result.exit_code == 65
    assert result.stdout == ""
    assert result.stderr == f"Error: nothing to search for in {query!r}: give at least one word\n"
    assert dump(db_url) == before


def test_search_words_given_as_separate_arguments(cli, searchable) -> None:
    hits = json.loads(cli("search", "Chinese", "state", "-f", "json").stdout)
    assert [h["id"] for h in hits] == [searchable["denial"]]


def test_search_formats_parse_and_agree(cli, searchable) -> None:
    as_json = json.loads(cli("search", "china", "-f", "json").stdout)
    assert {h["id"] for h in as_json} == {1, 3}
    assert list(as_json[0]) == ["id", "text", "claimant", "verdict", "match"]
    assert "[" in as_json[0]["match"]  # the matched word is marked
    lines = cli("search", "china", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    rows = list(csv.DictReader(io.StringIO(cli("search", "china", "-f", "csv").stdout)))
    assert rows == [{k: "" if v is None else str(v) for k, v in hit.items()} for hit in as_json]
    table = cli("search", "china").stdout.splitlines()
    assert table[0].split() == ["id", "claimant", "match", "verdict"]
    assert len(table) == 3
    limited = json.loads(cli("search", "china", "--limit", "1", "-f", "json").stdout)
    assert limited == as_json[:1]


# --- CSV export guards spreadsheets ----------------------------------------------------------


@pytest.fixture
def formulas(cli, seeded) -> int:
    """A claim whose every text cell starts like a spreadsheet formula."""
    cli("actor", "add", "+cmd|' /C calc'!A0")
    cli("source", "add", "--", "-2+3 sources")
    return add(
        cli,
        "--by",
        "@attacker",
        "--about",
        "+cmd|' /C calc'!A0",
        "--source",
        "-2+3 sources",
        "--tag",
        "=tag",
        "--quote",
        "+1+1",
        "--note",
        "@SUM(A1:A9)",
        "--",
        '=HYPERLINK("http://evil.example","click")',
    )


GUARDED = {
    "text": '\'=HYPERLINK("http://evil.example","click")',
    "quote": "'+1+1",
    "claimant": "'@attacker",
    "about": "'+cmd|' /C calc'!A0",
    "sources": "'-2+3 sources",
    "tags": "'=tag",
    "note": "'@SUM(A1:A9)",
}


def test_csv_export_neutralizes_formulas(cli, formulas, tmp_path) -> None:
    out = cli("export", "claims").stdout
    assert out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    row = next(r for r in rows if r["id"] == str(formulas))
    assert {k: row[k] for k in GUARDED} == GUARDED
    assert rows[0]["text"] == MANDIANT_CLAIM  # ordinary cells untouched
    target = tmp_path / "claims.csv"
    cli("export", "claims", "-o", str(target))
    in_file = target.read_bytes().decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(in_file, newline=""))) == rows


def test_raw_csv_export_keeps_values_as_they_are(cli, formulas) -> None:
    out = cli("export", "claims", "--raw").stdout
    assert not out.startswith("\ufeff")
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["id"] == str(formulas))
    assert {k: row[k] for k in GUARDED} == {k: v.removeprefix("'") for k, v in GUARDED.items()}
    as_json = json.loads(cli("export", "claims", "-f", "json").stdout)
    assert as_json[-1]["text"] == '=HYPERLINK("http://evil.example","click")'


def test_leading_whitespace_cannot_hide_a_formula(cli, seeded) -> None:
    ident = add(cli, "\t\r\n =1+1", "--by", "China", "--quote", " \t@cmd")
    row = next(
        r
        for r in csv.DictReader(io.StringIO(cli("export", "claims").stdout.removeprefix("\ufeff")))
        if r["id"] == str(ident)
    )
    assert (row["text"], row["quote"]) == ("'=1+1", "'@cmd")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_csv_writer_guards_every_formula_start(start) -> None:
    # Tab and CR cannot reach a cell through the CLI (text is stripped); the writer still guards.
    out = io.StringIO()
    write_csv([{"text": f"{start}cmd", "n": -1}], out, ["text", "n"])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["text", "n"], [f"'{start}cmd", "-1"]]
    raw = io.StringIO()
    write_csv([{"text": f"{start}cmd"}], raw, ["text"], safe=False)
    assert list(csv.reader(io.StringIO(raw.getvalue())))[1] == [f"{start}cmd"]


# --- dates written with other digits ---------------------------------------------------------


@pytest.mark.parametrize("zero", [0xFF10, 0x0660], ids=["fullwidth", "arabic-indic"])
def test_dates_in_other_digits_are_refused(cli, seeded, db_url, zero) -> None:
    # Stored as given they would sort after every ASCII date and escape --since/--until.
    date = "2013-02-19".translate({ord("0") + i: zero + i for i in range(10)})
    before = dump(db_url)
    for args in (["claim", "add", "Odd digits", "--by", "China"], ["claim", "edit", "1"]):
        result = cli(*args, "--date", date, ok=False)
        assert result.exit_code == 65
        assert result.stderr == (
            f"Error: date stated {date!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD\n"
        )
    assert dump(db_url) == before
