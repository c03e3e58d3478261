"""Attribution (issue 12): incidents, blame and denial on claims, the actor tree, evidence and
its independence, and the reports built on them; each checked in the database on both
backends."""

import json
from typing import Any

import pytest
from helpers import dump, reopened
from sqlalchemy import select

from tracker.models import (
    ActorPart,
    Claim,
    ClaimIncident,
    ClaimStance,
    ClaimSubject,
    HistoryEntry,
    Incident,
    IncidentName,
    IncidentVictim,
)

APT1 = "APT1: Exposing One of China's Cyber Espionage Units"
GLOBE = "Obama raises hacking concerns with China's Xi"
INCIDENT = "APT1 intrusions"


def ident(cli: Any, *args: str) -> int:
    return int(cli(*args).stdout.strip())


def as_json(cli: Any, *args: str) -> Any:
    return json.loads(cli(*args, "--format", "json").stdout)


def seed_story(cli: Any) -> dict[str, int]:
    """The seed article in the attribution model: Mandiant blames PLA Unit 61398 with high
    confidence, Donilon points at China, China denies for itself and its unit."""
    ids: dict[str, int] = {}
    ids["mandiant"] = ident(cli, "actor", "add", "Mandiant", "--kind", "company")
    ids["china"] = ident(cli, "actor", "add", "China", "--kind", "government")
    ids["pla"] = ident(cli, "actor", "add", "People's Liberation Army", "--kind", "government")
    ids["unit"] = ident(cli, "actor", "add", "PLA Unit 61398", "--kind", "group", "--alias", "APT1")
    cli("actor", "relate", "PLA Unit 61398", "part-of", "People's Liberation Army")
    cli("actor", "relate", "People's Liberation Army", "part-of", "China")
    ids["incident"] = ident(
        cli,
        "incident",
        "add",
        INCIDENT,
        "--kind",
        "data-theft",
        "--date",
        "2006",
        "--until",
        "2013-02",
        "--alias",
        "Comment Crew campaign",
    )
    ids["report"] = ident(
        cli,
        "source",
        "add",
        APT1,
        "--publisher",
        "Mandiant",
        "--kind",
        "report",
        "--date",
        "2013-02-19",
    )
    ids["article"] = ident(
        cli,
        "source",
        "add",
        GLOBE,
        "--publisher",
        "The Globe and Mail",
        "--kind",
        "article",
        "--date",
        "2013-03",
        "--cites",
        APT1,
    )
    ids["blame"] = ident(
        cli,
        "claim",
        "add",
        "PLA Unit 61398 stole data from at least 141 organizations",
        "--by",
        "Mandiant",
        "--source",
        APT1,
        "--source",
        GLOBE,
        "--incident",
        INCIDENT,
        "--blames",
        "APT1",
        "--confidence",
        "high",
        "--date",
        "2013-02-19",
    )
    ids["donilon"] = ident(
        cli,
        "claim",
        "add",
        "The intrusions emanate from China",
        "--by",
        "Tom Donilon",
        "--source",
        GLOBE,
        "--incident",
        INCIDENT,
        "--blames",
        "China",
        "--confidence",
        "moderate",
        "--date",
        "2013-03",
    )
    ids["denial"] = ident(
        cli,
        "claim",
        "add",
        "The Chinese state is not behind online espionage",
        "--by",
        "China",
        "--source",
        GLOBE,
        "--incident",
        INCIDENT,
        "--clears",
        "PLA Unit 61398",
        "--clears",
        "China",
        "--date",
        "2013-03",
    )
    cli("claim", "link", str(ids["denial"]), "disputes", str(ids["blame"]))
    return ids


SONY = "Sony Pictures hack"


def sony_story(cli: Any) -> dict[str, int]:
    """A second story: the 2014 Sony Pictures hack. "Guardians of Peace" claim it, the FBI
    blames North Korea on its own findings and a security firm's, North Korea denies it."""
    ids: dict[str, int] = {}
    ids["nk"] = ident(cli, "actor", "add", "North Korea", "--kind", "government")
    ids["lazarus"] = ident(cli, "actor", "add", "Lazarus Group", "--kind", "group")
    ids["gop"] = ident(cli, "actor", "add", "Guardians of Peace", "--kind", "group")
    cli("actor", "relate", "Lazarus Group", "part-of", "North Korea")
    ids["incident"] = ident(
        cli,
        "incident",
        "add",
        SONY,
        "--kind",
        "destructive",
        "--date",
        "2014-11-24",
        "--victim",
        "Sony Pictures Entertainment",
    )
    ids["post"] = ident(
        cli,
        "source",
        "add",
        "Pastebin message",
        "--publisher",
        "Guardians of Peace",
        "--kind",
        "post",
        "--date",
        "2014-12-08",
    )
    ids["fbi_statement"] = ident(
        cli,
        "source",
        "add",
        "Update on Sony Investigation",
        "--publisher",
        "FBI",
        "--kind",
        "statement",
        "--date",
        "2014-12-19",
    )
    ids["kcna"] = ident(
        cli,
        "source",
        "add",
        "KCNA statement on Sony",
        "--publisher",
        "KCNA",
        "--kind",
        "statement",
        "--date",
        "2014-12-20",
    )
    ids["news"] = ident(
        cli,
        "source",
        "add",
        "FBI says North Korea behind Sony hack",
        "--kind",
        "article",
        "--publisher",
        "Reuters",
        "--date",
        "2014-12-19",
        "--cites",
        "Update on Sony Investigation",
    )
    ids["claimed"] = ident(
        cli,
        "claim",
        "add",
        "We, the Guardians of Peace, hacked Sony Pictures",
        "--by",
        "Guardians of Peace",
        "--source",
        "Pastebin message",
        "--incident",
        SONY,
        "--blames",
        "Guardians of Peace",
        "--date",
        "2014-12-08",
    )
    ids["fbi"] = ident(
        cli,
        "claim",
        "add",
        "The North Korean government is responsible for the Sony attack",
        "--by",
        "FBI",
        "--source",
        "Update on Sony Investigation",
        "--source",
        "FBI says North Korea behind Sony hack",
        "--incident",
        SONY,
        "--blames",
        "North Korea",
        "--confidence",
        "high",
        "--date",
        "2014-12-19",
    )
    ids["denial"] = ident(
        cli,
        "claim",
        "add",
        "The DPRK had nothing to do with the hack of Sony Pictures",
        "--by",
        "North Korea",
        "--source",
        "KCNA statement on Sony",
        "--incident",
        SONY,
        "--clears",
        "North Korea",
        "--date",
        "2014-12-20",
    )
    return ids


# --- incidents ---------------------------------------------------------------------------------


def test_incident_add_show_and_names_resolve_like_actors(cli, db_url) -> None:
    incident = ident(
        cli,
        "incident",
        "add",
        INCIDENT,
        "--kind",
        "data-theft",
        "--date",
        "2006",
        "--until",
        "2013-02",
        "--alias",
        "Comment Crew campaign",
        "--victim",
        "Coca-Cola",
        "--description",
        "Years of theft from 141 organizations",
    )
    shown = as_json(cli, "incident", "show", "comment crew CAMPAIGN")
    assert (shown["id"], shown["name"], shown["kind"]) == (incident, INCIDENT, "data-theft")
    assert (shown["started"], shown["ended"]) == ("2006", "2013-02")
    assert [v["name"] for v in shown["victims"]] == ["Coca-Cola"]
    near = cli("incident", "add", "APT1 intrusion", ok=False)
    assert near.exit_code == 1
    assert "did you mean 'APT1 intrusions'" in near.stderr and "--new" in near.stderr
    ident(cli, "incident", "add", "APT1 intrusion", "--new")
    with reopened(db_url) as s:
        found = s.get(Incident, incident)
        assert found is not None and found.kind == "data-theft"
        names = s.execute(
            select(IncidentName.name, IncidentName.is_primary)
            .where(IncidentName.incident_id == incident)
            .order_by(IncidentName.id)
        ).all()
        assert names == [(INCIDENT, True), ("Comment Crew campaign", False)]
        assert s.scalars(select(IncidentVictim.incident_id)).all() == [incident]
        assert s.scalar(select(Incident.id).where(Incident.name == "APT1 intrusion")) is not None


def test_a_shared_incident_alias_is_ambiguous(cli) -> None:
    ident(cli, "incident", "add", "Salt Typhoon intrusions", "--alias", "Telecom hacks")
    ident(cli, "incident", "add", "Earth Estries campaign")
    cli("incident", "edit", "Earth Estries campaign", "--alias", "Telecom hacks")
    result = cli("incident", "show", "telecom hacks", ok=False)
    assert result.exit_code != 0
    assert "Salt Typhoon intrusions" in result.stderr and "Earth Estries" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--kind", "burglary"], 2, "burglary"),
        (["--date", "2013", "--until", "2012"], 65, "before it began"),
        (["--date", "2013-13"], 65, "no month 13"),
        (["--alias", "Mandiant"], 1, "already belongs"),
    ],
)
def test_bad_incident_input_changes_nothing(cli, db_url, args, code, words) -> None:
    ident(cli, "incident", "add", "Mandiant")
    before = dump(db_url)
    result = cli("incident", "add", "Some incident", *args, ok=False)
    assert result.exit_code == code
    assert words in result.stderr
    assert dump(db_url) == before


def test_incident_edit_history_merge_and_unmerge(cli, db_url) -> None:
    ids = seed_story(cli)
    dup = ident(cli, "incident", "add", "Comment Crew hacks", "--new")
    cli("claim", "edit", str(ids["donilon"]), "--incident", "Comment Crew hacks")
    cli("incident", "edit", INCIDENT, "--kind", "intrusion", "--until", "2013")
    lines = cli("incident", "history", INCIDENT).stdout.splitlines()
    assert "created" in lines[0] and "kind: data-theft -> intrusion" in lines[-1]
    refused = cli("incident", "merge", INCIDENT, "Comment Crew hacks", ok=False)
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    cli("incident", "merge", INCIDENT, "Comment Crew hacks", "--yes")
    with reopened(db_url) as s:
        assert s.get(Incident, dup) is None
        assert s.scalars(
            select(ClaimIncident.claim_id).where(ClaimIncident.claim_id == ids["donilon"])
        ).all() == [ids["donilon"]]
        aliases = s.scalars(
            select(IncidentName.name).where(IncidentName.incident_id == ids["incident"])
        ).all()
        assert "Comment Crew hacks" in aliases
    cli("incident", "unmerge", str(dup))
    with reopened(db_url) as s:
        assert s.get(Incident, dup) is not None
        rows = (
            s.execute(
                select(ClaimIncident.incident_id)
                .where(ClaimIncident.claim_id == ids["donilon"])
                .order_by(ClaimIncident.incident_id)
            )
            .scalars()
            .all()
        )
        assert rows == [ids["incident"], dup]


# --- stance on the claim ------------------------------------------------------------------------


def test_seed_story_stances_are_recorded_and_derived(cli, db_url) -> None:
    ids = seed_story(cli)
    with reopened(db_url) as s:
        stances = s.execute(
            select(ClaimStance.claim_id, ClaimStance.actor_id, ClaimStance.stance).order_by(
                ClaimStance.claim_id, ClaimStance.actor_id
            )
        ).all()
        assert stances == [
            (ids["blame"], ids["unit"], "blames"),
            (ids["donilon"], ids["china"], "blames"),
            (ids["denial"], ids["china"], "clears"),
            (ids["denial"], ids["unit"], "clears"),
        ]
        # Blamed and cleared actors are also the claim's subjects.
        subjects = s.execute(
            select(ClaimSubject.actor_id, ClaimSubject.as_name).where(
                ClaimSubject.claim_id == ids["blame"]
            )
        ).all()
        assert subjects == [(ids["unit"], "APT1")]
        assert s.get(Claim, ids["blame"]).confidence == "high"  # type: ignore[union-attr]
        assert s.get(Claim, ids["denial"]).confidence is None  # type: ignore[union-attr]
    denial = as_json(cli, "claim", "show", str(ids["denial"]))
    assert denial["denial"] is True and denial["claim_of_responsibility"] is False
    assert [a["name"] for a in denial["clears"]] == ["China", "PLA Unit 61398"]
    blame = as_json(cli, "claim", "show", str(ids["blame"]))
    assert blame["denial"] is False
    assert blame["incidents"] == [{"id": ids["incident"], "name": INCIDENT}]
    assert [a["name"] for a in blame["blames"]] == ["PLA Unit 61398"]
    assert blame["confidence"] == "high"
    assert "a denial: the claimant clears itself" in cli("claim", "show", str(ids["denial"])).stdout


def test_a_claim_of_responsibility(cli, db_url) -> None:
    ids = sony_story(cli)
    shown = as_json(cli, "claim", "show", str(ids["claimed"]))
    assert shown["claim_of_responsibility"] is True and shown["denial"] is False
    fbi = as_json(cli, "claim", "show", str(ids["fbi"]))
    assert fbi["claim_of_responsibility"] is False


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--blames", "China", "--clears", "China"], 1, "both blame and clear 'China'"),
        (["--confidence", "certain"], 2, "certain"),
        (["--same-as", "China"], 65, "at least two actors"),
        (["--incident", "APT1 intrusion"], 1, "did you mean 'APT1 intrusions'"),
    ],
)
def test_bad_stances_are_refused_and_change_nothing(cli, db_url, args, code, words) -> None:
    seed_story(cli)
    before = dump(db_url)
    result = cli("claim", "add", "Some new claim", "--by", "Mandiant", *args, ok=False)
    assert result.exit_code == code, result.stderr
    assert words in result.stderr
    assert dump(db_url) == before


def test_claim_edit_changes_stances_with_history(cli, db_url) -> None:
    ids = seed_story(cli)
    claim = str(ids["donilon"])
    cli("claim", "edit", claim, "--blames", "People's Liberation Army", "--confidence", "low")
    refused = cli("claim", "edit", claim, "--remove-about", "China", ok=False)
    assert refused.exit_code == 1 and "--remove-blames" in refused.stderr
    cli("claim", "edit", claim, "--remove-blames", "China", "--remove-about", "China")
    with reopened(db_url) as s:
        rows = s.execute(
            select(ClaimStance.actor_id, ClaimStance.stance).where(
                ClaimStance.claim_id == ids["donilon"]
            )
        ).all()
        assert rows == [(ids["pla"], "blames")]
        assert s.get(Claim, ids["donilon"]).confidence == "low"  # type: ignore[union-attr]
        changes = [
            e.changes
            for e in s.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.entity == "claim", HistoryEntry.entity_id == ids["donilon"])
                .order_by(HistoryEntry.id)
            )
        ]
    assert changes[-2]["blames"] == {"added": ["People's Liberation Army"]}
    assert changes[-2]["confidence"] == {"from": "moderate", "to": "low"}
    assert changes[-1]["blames"] == {"removed": ["China"]}
    cli("claim", "edit", claim, "--confidence", "")
    with reopened(db_url) as s:
        assert s.get(Claim, ids["donilon"]).confidence is None  # type: ignore[union-attr]


def test_actor_tree_relate_unrelate_and_cycles(cli, db_url) -> None:
    ids = seed_story(cli)
    before = dump(db_url)
    cycle = cli("actor", "relate", "China", "part-of", "PLA Unit 61398", ok=False)
    assert cycle.exit_code == 1 and "cycle" in cycle.stderr
    itself = cli("actor", "relate", "China", "part-of", "China", ok=False)
    assert itself.exit_code == 1 and "itself" in itself.stderr
    wrong = cli("actor", "relate", "China", "owns", "Mandiant", ok=False)
    assert wrong.exit_code == 2
    assert dump(db_url) == before
    shown = as_json(cli, "actor", "show", "People's Liberation Army")
    assert shown["part_of"] == [{"id": ids["china"], "name": "China"}]
    assert shown["parts"] == [{"id": ids["unit"], "name": "PLA Unit 61398"}]
    cli("actor", "unrelate", "People's Liberation Army", "part-of", "China")
    with reopened(db_url) as s:
        assert s.execute(select(ActorPart.part_id, ActorPart.whole_id)).all() == [
            (ids["unit"], ids["pla"])
        ]
    missing = cli("actor", "unrelate", "People's Liberation Army", "part-of", "China", ok=False)
    assert missing.exit_code == 1


# --- evidence -----------------------------------------------------------------------------------


def test_evidence_of_the_seed_claims(cli) -> None:
    ids = seed_story(cli)
    ev = as_json(cli, "claim", "show", str(ids["blame"]))["evidence"]
    assert ev["independent_origins"] == 1
    [origin] = ev["origins"]
    assert (origin["source_id"], origin["title"], origin["publisher"]) == (
        ids["report"],
        APT1,
        "Mandiant",
    )
    assert origin["sources"] == [ids["report"], ids["article"]]
    # Two sources, one origin: apparent corroboration; and Mandiant rests on its own report.
    assert ev["single_origin"] is True and ev["self_sourced"] is True
    # Donilon's claim rests on the Globe article, which rests on Mandiant's report.
    donilon = as_json(cli, "claim", "show", str(ids["donilon"]))["evidence"]
    assert [o["source_id"] for o in donilon["origins"]] == [ids["report"]]
    assert donilon["single_origin"] is True and donilon["self_sourced"] is False
    text = cli("claim", "show", str(ids["blame"])).stdout
    assert "Evidence  1 independent origin" in text and "self-sourced" in text


def test_supports_brings_origins_repeats_and_cites_add_none(cli) -> None:
    ids = sony_story(cli)
    other = ident(
        cli,
        "claim",
        "add",
        "Malware in the Sony attack matches earlier North Korean tools",
        "--by",
        "Symantec",
        "--source",
        "Symantec blog on Destover",
        "--blames",
        "North Korea",
    )
    echo = ident(
        cli,
        "claim",
        "add",
        "North Korea hacked Sony",
        "--by",
        "A columnist",
        "--source",
        "Columnist blog",
    )
    cli("claim", "link", str(other), "supports", str(ids["fbi"]))
    cli("claim", "link", str(echo), "repeats", str(ids["fbi"]))
    cli("claim", "link", str(echo), "cites", str(ids["fbi"]), "--note", "cites the FBI")
    ev = as_json(cli, "claim", "show", str(ids["fbi"]))["evidence"]
    assert ev["independent_origins"] == 2
    by_origin = {o["title"]: o for o in ev["origins"]}
    assert set(by_origin) == {"Update on Sony Investigation", "Symantec blog on Destover"}
    assert by_origin["Symantec blog on Destover"]["claims"] == [other]
    assert by_origin["Update on Sony Investigation"]["sources"] == [
        ids["fbi_statement"],
        ids["news"],
    ]
    assert ev["supported_by"] == [other]
    assert ev["single_origin"] is False and ev["self_sourced"] is False


def test_citation_chains_fifty_deep_are_walked_in_one_go(cli) -> None:
    previous = None
    for depth in range(50):
        args = ["source", "add", f"Chain link {depth:02d}", "--new"]
        if previous is not None:
            args += ["--cites", str(previous)]
        previous = ident(cli, *args)
    claim = ident(cli, "claim", "add", "Deep claim", "--by", "Someone", "--source", str(previous))
    ev = as_json(cli, "claim", "show", str(claim))["evidence"]
    assert [o["title"] for o in ev["origins"]] == ["Chain link 00"]
    assert ev["single_origin"] is True


def test_chronology_warnings_in_the_dossier_and_db_check(cli) -> None:
    ids = seed_story(cli)
    cli("source", "edit", str(ids["report"]), "--date", "2013-04")
    ev = as_json(cli, "claim", "show", str(ids["blame"]))["evidence"]
    assert any(
        f"source #{ids['article']} (2013-03) cites source #{ids['report']}" in w
        for w in ev["warnings"]
    )
    assert any(f"claim #{ids['blame']} was stated (2013-02-19)" in w for w in ev["warnings"])
    checked = cli("db", "check", "--format", "json")
    assert checked.exit_code == 0
    report = json.loads(checked.stdout)
    assert report["ok"] is True and report["warnings"] == ev["warnings"]
    assert "warning: source #" in cli("db", "check").stdout
    # A month is not before a day inside it: 2013-03 and 2013-03-05 raise no warning.
    cli("source", "edit", str(ids["report"]), "--date", "2013-03-05")
    warnings = as_json(cli, "claim", "show", str(ids["blame"]))["evidence"]["warnings"]
    assert not any("cites source" in w for w in warnings)


# --- reports ------------------------------------------------------------------------------------


def test_report_attribution_of_the_seed_incident(cli) -> None:
    ids = seed_story(cli)
    report = as_json(cli, "report", "attribution", "Comment Crew campaign")
    rows = report["rows"]
    assert [r["actor"] for r in rows] == ["PLA Unit 61398", "China"]
    unit, china = rows
    assert unit["incident"] == INCIDENT and unit["actor_id"] == ids["unit"]
    assert [
        (b["claim_id"], b["claimant"], b["stated"], b["confidence"]) for b in unit["blamed_by"]
    ] == [(ids["blame"], "Mandiant", "2013-02-19", "high")]
    assert [(c["claim_id"], c["claimant"], c["denial"]) for c in unit["cleared_by"]] == [
        (ids["denial"], "China", True)
    ]
    assert unit["claimed_responsibility"] is False and unit["denied"] is True
    assert unit["independent_origins"] == 1 and unit["first_stated"] == "2013-02-19"
    assert china["blamed_by"][0]["claimant"] == "Tom Donilon"
    rolled = as_json(cli, "report", "attribution", INCIDENT, "--rollup")["rows"]
    assert [r["actor"] for r in rolled] == ["China", "PLA Unit 61398", "People's Liberation Army"]
    assert [b["claimant"] for b in rolled[0]["blamed_by"]] == ["Mandiant", "Tom Donilon"]
    assert rolled[0]["first_stated"] == "2013-02-19"
    text = cli("report", "attribution", INCIDENT).stdout
    assert "#1 Mandiant (2013-02-19, high confidence)" in text.replace(f"#{ids['blame']} ", "#1 ")


def test_report_attribution_by_actor_with_rollup(cli) -> None:
    ids = seed_story(cli)
    sony_story(cli)
    ident(cli, "claim", "add", "China hacks everyone", "--by", "A pundit", "--blames", "China")
    plain = as_json(cli, "report", "attribution", "--actor", "People's Liberation Army")
    assert plain["rows"] == []
    rolled = as_json(cli, "report", "attribution", "--actor", "China", "--rollup")["rows"]
    assert [(r["incident"], r["first_stated"]) for r in rolled] == [
        (INCIDENT, "2013-02-19"),
        (None, None),
    ]
    assert {a["name"] for a in rolled[0]["actors"]} == {"China", "PLA Unit 61398"}
    assert [c["claim_id"] for c in rolled[0]["cleared_by"]] == [ids["denial"]]
    wrong = cli("report", "attribution", ok=False)
    assert wrong.exit_code == 2 and "INCIDENT or --actor" in wrong.stderr


def test_report_contested(cli) -> None:
    ids = seed_story(cli)
    sony = sony_story(cli)
    pairs = as_json(cli, "report", "contested")["contested"]
    found = {(p["accusation"]["claim_id"], p["denial"]["claim_id"]) for p in pairs}
    assert found == {
        (ids["blame"], ids["denial"]),
        (ids["donilon"], ids["denial"]),
        (sony["fbi"], sony["denial"]),
    }
    fbi = next(p for p in pairs if p["accusation"]["claim_id"] == sony["fbi"])
    assert fbi["accused"]["name"] == "North Korea" and fbi["incidents"] == [SONY]
    assert fbi["accusation"]["independent_origins"] == 1
    assert fbi["denial"]["origins"] == [sony["kcna"]]


def test_timeline_puts_partial_dates_in_place(cli) -> None:
    ids = seed_story(cli)
    cli("claim", "rate", str(ids["denial"]), "unverifiable")
    events = as_json(cli, "report", "timeline", "--incident", INCIDENT)
    dates = [e["date"] for e in events]
    assert dates[:2] == ["2013-02-19", "2013-02-19"]
    assert dates[2:7] == ["2013-03"] * 5  # shown at its precision, after 2013-02-19
    assert events[-1]["event"] == "verdict" and events[-1]["claim_id"] == ids["denial"]
    assert [e["event"] for e in events[2:5]] == ["claim", "claim", "appearance"]
    about = as_json(cli, "report", "timeline", "--about", "Tom Donilon")
    assert about == []
    unit = as_json(cli, "report", "timeline", "--about", "APT1")
    assert {e["claim_id"] for e in unit} == {ids["blame"], ids["denial"]}


# --- both stories end to end, and whole-database dumps -------------------------------------------


def test_both_stories_end_to_end_and_through_a_dump(cli, db_url, tmp_path) -> None:
    seed_story(cli)
    sony = sony_story(cli)
    report = as_json(cli, "report", "attribution", SONY)
    assert [(r["actor"], r["claimed_responsibility"], r["denied"]) for r in report["rows"]] == [
        ("North Korea", False, True),
        ("Guardians of Peace", True, False),
    ]
    assert report["rows"][0]["blamed_by"][0]["confidence"] == "high"
    before = dump(db_url)
    cli("export", "all", str(tmp_path / "backup"))
    for table in ("incident", "incident_name", "claim_stance", "claim_incident", "actor_part"):
        assert (tmp_path / "backup" / f"{table}.jsonl").stat().st_size > 0
    assert sony["denial"] in {r[0] for r in before["claim_stance"]}


# --- the flat format ----------------------------------------------------------------------------

FLAT_HEADER = "text,claimant,stated,about,source,source_date,incident,blames,clears,confidence"


def test_flat_import_records_incidents_and_stances_and_exports_them(cli, db_url, tmp_path) -> None:
    sheet = tmp_path / "attribution.csv"
    sheet.write_text(
        FLAT_HEADER
        + "\n"
        + "PLA Unit 61398 stole data,Mandiant,2013-02-19,,APT1 report,2013-02-19,"
        + "APT1 intrusions,PLA Unit 61398,,high\n"
        + "PLA Unit 61398 stole data,Mandiant,2013-02-19,,Globe article,2013-03,"
        + "APT1 intrusions,PLA Unit 61398,,high\n"
        + "We are not behind it,China,2013-03,,Globe article,2013-03,"
        + "APT1 intrusions; Other incident,,China; PLA Unit 61398,\n",
        encoding="utf-8",
    )
    cli("import", "claims", str(sheet))
    with reopened(db_url) as s:
        stances = s.execute(
            select(Claim.text, ClaimStance.stance)
            .join(ClaimStance, ClaimStance.claim_id == Claim.id)
            .order_by(Claim.id, ClaimStance.actor_id)
        ).all()
        assert stances == [
            ("PLA Unit 61398 stole data", "blames"),
            ("We are not behind it", "clears"),
            ("We are not behind it", "clears"),
        ]
        assert s.scalars(select(Claim.confidence).order_by(Claim.id)).all() == ["high", None]
        assert s.scalars(select(Incident.name).order_by(Incident.id)).all() == [
            "APT1 intrusions",
            "Other incident",
        ]
        assert len(s.scalars(select(ClaimIncident.claim_id)).all()) == 3
        # The blamed and cleared are subjects too.
        assert len(s.scalars(select(ClaimSubject.claim_id)).all()) == 3
        created = s.scalars(
            select(HistoryEntry.entity_id).where(
                HistoryEntry.entity == "incident", HistoryEntry.action == "created"
            )
        ).all()
        assert len(created) == 2
    before = dump(db_url)
    cli("import", "claims", str(sheet))  # the same file again changes nothing
    assert dump(db_url) == before
    out = cli("export", "claims", "--flat", "--format", "jsonl").stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert (rows[0]["incident"], rows[0]["blames"], rows[0]["confidence"]) == (
        "APT1 intrusions",
        "PLA Unit 61398",
        "high",
    )
    assert (rows[2]["incident"], rows[2]["clears"]) == (
        "APT1 intrusions; Other incident",
        "China; PLA Unit 61398",
    )


@pytest.mark.parametrize(
    "cells, column",
    [
        ("APT1 intrusions,China,China,", "column 'clears': an actor cannot be both"),
        ("APT1 intrusions,,,certain", "confidence"),
    ],
)
def test_flat_import_refuses_bad_attribution_cells(cli, db_url, tmp_path, cells, column) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(FLAT_HEADER + "\nA claim,Mandiant,2013,,,," + cells + "\n", encoding="utf-8")
    before = dump(db_url)
    result = cli("import", "claims", str(sheet), ok=False)
    assert result.exit_code == 65
    assert "line 2" in result.stderr and column in result.stderr
    assert dump(db_url) == before


def test_export_all_and_import_all_carry_the_attribution_tables(cli, db_url, tmp_path) -> None:
    seed_story(cli)
    before = dump(db_url)
    folder = tmp_path / "backup"
    cli("export", "all", str(folder))
    target = tmp_path / "restored.db"
    cli("--db", str(target), "import", "all", str(folder))
    restored = dump(str(target))
    for table in ("incident", "incident_name", "claim_stance", "claim_incident", "actor_part"):
        assert restored[table] == before[table] and before[table], table


# --- vendor names and disputed sameness ---------------------------------------------------------


def vendor_story(cli: Any) -> dict[str, int]:
    """Microsoft's Salt Typhoon and Trend Micro's Earth Estries share an alias; one analyst says
    they are one group, Trend Micro disputes it."""
    ids: dict[str, int] = {}
    ids["salt"] = ident(cli, "actor", "add", "Salt Typhoon", "--alias", "FamousSparrow")
    ids["earth"] = ident(cli, "actor", "add", "Earth Estries", "--alias", "FamousSparrow")
    ident(cli, "incident", "add", "Telecom intrusions", "--kind", "intrusion")
    ids["ms"] = ident(
        cli,
        "claim",
        "add",
        "Salt Typhoon breached US telecoms",
        "--by",
        "Microsoft",
        "--blames",
        "Salt Typhoon",
        "--incident",
        "Telecom intrusions",
        "--source",
        "MS blog",
    )
    ids["tm"] = ident(
        cli,
        "claim",
        "add",
        "Earth Estries breached telecoms",
        "--by",
        "Trend Micro",
        "--blames",
        "Earth Estries",
        "--incident",
        "Telecom intrusions",
        "--source",
        "TM blog",
    )
    ids["same"] = ident(
        cli,
        "claim",
        "add",
        "Salt Typhoon and Earth Estries are one group",
        "--by",
        "An analyst",
        "--same-as",
        "Salt Typhoon",
        "--same-as",
        "Earth Estries",
        "--source",
        "Analyst post",
        "--confidence",
        "low",
    )
    return ids


def test_same_as_is_a_claim_and_folding_is_on_request(cli, db_url) -> None:
    ids = vendor_story(cli)
    shared = cli("actor", "show", "FamousSparrow", ok=False)
    assert shared.exit_code != 0 and "ambiguous" in shared.stderr
    with reopened(db_url) as s:
        rows = s.execute(
            select(ClaimStance.actor_id, ClaimStance.stance).where(
                ClaimStance.claim_id == ids["same"]
            )
        ).all()
        assert sorted(rows) == [(ids["salt"], "same-as"), (ids["earth"], "same-as")]
    plain = as_json(cli, "report", "attribution", "Telecom intrusions")
    assert sorted(r["actor"] for r in plain["rows"]) == ["Earth Estries", "Salt Typhoon"]
    assert plain["folded"] == []
    folded = as_json(cli, "report", "attribution", "Telecom intrusions", "--fold-same-as")
    [row] = folded["rows"]
    assert (row["actor"], row["folded"]) == ("Salt Typhoon", ["Earth Estries"])
    assert [b["claimant"] for b in row["blamed_by"]] == ["Microsoft", "Trend Micro"]
    assert row["independent_origins"] == 2
    assert folded["folded"] == [
        {
            "claim_id": ids["same"],
            "actors": ["Salt Typhoon", "Earth Estries"],
            "disputed": False,
            "independent_origins": 1,
        }
    ]
    strict = as_json(
        cli, "report", "attribution", "Telecom intrusions", "--fold-same-as", "--min-origins", "2"
    )
    assert len(strict["rows"]) == 2 and strict["folded"] == []
    dispute = ident(
        cli,
        "claim",
        "add",
        "They are different groups",
        "--by",
        "Trend Micro",
        "--about",
        "Earth Estries",
    )
    cli("claim", "link", str(dispute), "disputes", str(ids["same"]))
    undisputed = as_json(
        cli, "report", "attribution", "Telecom intrusions", "--fold-same-as", "--undisputed"
    )
    assert len(undisputed["rows"]) == 2
    by_actor = as_json(cli, "report", "attribution", "--actor", "Earth Estries", "--fold-same-as")
    assert [b["claimant"] for b in by_actor["rows"][0]["blamed_by"]] == [
        "Microsoft",
        "Trend Micro",
    ]
    # Nothing was merged: both actors are still there.
    with reopened(db_url) as s:
        assert (
            s.scalar(select(ClaimStance.actor_id).where(ClaimStance.claim_id == ids["tm"]))
            == (ids["earth"])
        )
    misuse = cli("report", "attribution", "Telecom intrusions", "--undisputed", ok=False)
    assert misuse.exit_code == 2


def test_actor_merge_moves_stances_and_tree_and_unmerge_restores(cli, db_url) -> None:
    ids = seed_story(cli)
    before = dump(db_url)
    # Folding the PLA into China: its stance rows and tree links move, the link that would make
    # China part of itself is dropped.
    cli("actor", "merge", "China", "People's Liberation Army", "--yes")
    with reopened(db_url) as s:
        assert s.execute(select(ActorPart.part_id, ActorPart.whole_id)).all() == [
            (ids["unit"], ids["china"])
        ]
    rolled = as_json(cli, "report", "attribution", INCIDENT, "--rollup")["rows"]
    assert [r["actor"] for r in rolled] == ["China", "PLA Unit 61398"]
    cli("actor", "unmerge", str(ids["pla"]))
    after = dump(db_url)
    assert after["actor_part"] == before["actor_part"]
    assert after["claim_stance"] == before["claim_stance"]


def test_reports_as_csv_are_flat(cli) -> None:
    import csv
    import io

    ids = seed_story(cli)
    rows = list(
        csv.DictReader(io.StringIO(cli("report", "attribution", INCIDENT, "-f", "csv").stdout))
    )
    assert [r["actor"] for r in rows] == ["PLA Unit 61398", "China"]
    assert rows[0]["cleared_by"] == f"#{ids['denial']} China (2013-03) [denial]"
    pairs = list(csv.DictReader(io.StringIO(cli("report", "contested", "-f", "csv").stdout)))
    assert {(p["accusation_claimant"], p["denial_claimant"]) for p in pairs} == {
        ("Mandiant", "China"),
        ("Tom Donilon", "China"),
    }
