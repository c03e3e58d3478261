"""STIX 2.1 in: the mapping of a small ATT&CK-shaped sample (tests/data/stix), idempotence,
updates by `modified`, the cti folder layout, stdin, all-or-nothing and hostile input."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import dump, history_rows, reopened
from sqlalchemy import select

from tracker.models import Actor, ExternalId
from tracker.services.stix_import import CONFIDENCE_SCALE, prose

SAMPLE = Path(__file__).parent / "data" / "stix" / "sample-bundle.json"


def bundle() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def by_name(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in objects if o.get("name") == name)


def by_text(objects: list[dict[str, Any]], start: str) -> dict[str, Any]:
    return next(o for o in objects if o.get("description", "").startswith(start))


def write(path: Path, value: object) -> Path:
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


def as_json(cli: Any, *args: str) -> Any:
    return json.loads(cli(*args, "--format", "json").stdout)


def claims(cli: Any) -> dict[str, dict[str, Any]]:
    return {c["text"]: c for c in as_json(cli, "claim", "list")}


def shown_claim(cli: Any, listed: dict[str, Any]) -> Any:
    return as_json(cli, "claim", "show", str(listed["id"]))


def names(records: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in records]


def test_sample_maps_onto_actors_incidents_sources_and_claims(cli, db_url) -> None:
    result = cli("import", "stix", str(SAMPLE))
    summary = result.stderr
    assert "actors 8 created" in summary and "claims 6 created" in summary
    assert "1 revoked, 1 deprecated, 2 relationships with an end not imported" in summary
    assert "1 relationships without a description" in summary
    assert "not mapped: 1 course-of-action, 1 marking-definition, 1 x-mitre-tactic" in summary

    actors = {a["name"]: a for a in as_json(cli, "actor", "list")}
    assert actors["APT1"]["kind"] == "group"
    # The name is not repeated as an alias; the ATT&CK id is one.
    assert actors["APT1"]["aliases"] == ["Comment Crew", "Comment Group", "Comment Panda", "G0006"]
    assert actors["PLA Unit 61398"]["kind"] == "group"
    assert actors["The MITRE Corporation"]["kind"] == "organization"
    assert (actors["WEBC2"]["kind"], actors["Mimikatz"]["kind"]) == ("malware", "tool")
    # A sub-technique is named as ATT&CK shows it; its own short name stays findable.
    sub = actors["Command and Scripting Interpreter: PowerShell"]
    assert sub["kind"] == "technique" and sub["aliases"] == ["T1059.001", "PowerShell"]
    assert "OldRAT" not in actors and "Old Tool" not in actors  # revoked, deprecated
    shown = as_json(cli, "actor", "show", "T1059")
    assert shown["name"] == "Command and Scripting Interpreter"
    # Markup in a string is text, never interpreted.
    assert as_json(cli, "actor", "show", "S0002")["description"].endswith(
        "<script>alert('x')</script>"
    )

    incident = as_json(cli, "incident", "list")[0]
    assert incident["name"] == "Operation Ghost"
    assert (incident["started"], incident["ended"]) == ("2013-09-01", "2019-10-01")
    assert incident["aliases"] == ["Ghost Campaign", "C0023"]

    found = claims(cli)
    webc2 = found["APT1 has used WEBC2 backdoors."]  # citation and Markdown links taken out
    assert webc2["claimant"] == "The MITRE Corporation"
    assert webc2["about"] == ["APT1", "WEBC2"]
    assert webc2["stated"] == "2017-05-31"
    assert webc2["tags"] == ["uses"]
    assert webc2["first_source_url"].endswith("mandiant-apt1-report.pdf")
    # The citation's full reference is the title; the report listing it is an appearance too.
    assert webc2["sources"] == [
        "Mandiant. (n.d.). APT1 Exposing One of China\u2019s Cyber Espionage Units. Retrieved "
        "July 18, 2016.",
        "APT1: Exposing One of China's Cyber Espionage Units",
    ]
    assert webc2["verdict"] == "true"  # the opinion strongly-agree
    assert len(found["APT1 has used PowerShell for execution."]["sources"]) == 2
    # One reference cited by three relationships is one source.
    sources = as_json(cli, "source", "list")
    assert len(sources) == 5
    report = next(s for s in sources if s["kind"] == "report")
    assert (report["published"], report["claims"]) == ("2013-02-19", 1)

    ghost = shown_claim(cli, found["Operation Ghost was conducted by APT28."])
    assert names(ghost["incidents"]) == ["Operation Ghost"]
    assert names(ghost["blames"]) == ["APT28"] and ghost["confidence"] == "high"
    # An actor attributed to another: a claim about both that blames the target.
    pla = shown_claim(cli, found["APT1 is attributed to PLA Unit 61398"])
    assert names(pla["blames"]) == ["PLA Unit 61398"] and pla["confidence"] == "moderate"
    assert sorted(names(pla["about"])) == ["APT1", "PLA Unit 61398"]
    note = found["Unit 61398: APT1 operates from a building in Shanghai's Pudong district."]
    assert note["stated"] == "2013-03-01" and sorted(note["about"]) == ["APT1", "PLA Unit 61398"]
    # ATT&CK ids work wherever a name does.
    assert {c["text"] for c in as_json(cli, "claim", "list", "--about", "G0006")} >= {
        "APT1 has used WEBC2 backdoors."
    }


def test_same_bundle_again_changes_nothing(cli, db_url) -> None:
    cli("import", "stix", str(SAMPLE))
    before = dump(db_url)
    again = cli("import", "stix", str(SAMPLE)).stderr
    assert "actors 0 created, 0 updated, 8 unchanged" in again
    assert "claims 0 created, 0 updated, 6 unchanged" in again
    assert dump(db_url) == before


def test_a_newer_version_updates_with_history(cli, db_url, tmp_path) -> None:
    cli("import", "stix", str(SAMPLE))
    data = bundle()
    apt1 = by_name(data["objects"], "APT1")
    apt1["modified"] = "2025-01-01T00:00:00.000Z"
    apt1["aliases"].append("Byzantine Candor")
    apt1["description"] = "APT1 is a Chinese threat group. (Citation: Mandiant APT1)"
    uses = by_text(data["objects"], "[APT28](https://attack.mitre.org/groups/G0007) has used")
    uses["modified"] = "2025-01-01T00:00:00.000Z"
    uses["description"] = "APT28 has used Mimikatz to dump credentials.(Citation: New Ref)"
    uses["external_references"].append({"source_name": "New Ref", "url": "https://new.example/"})
    old = by_name(data["objects"], "APT28")
    old["modified"] = "2000-01-01T00:00:00.000Z"  # older than what was imported: no change
    old["description"] = "stale"
    result = cli("import", "stix", str(write(tmp_path / "newer.json", data))).stderr
    assert "actors 0 created, 1 updated, 7 unchanged" in result
    assert "claims 0 created, 1 updated, 5 unchanged" in result

    actor = as_json(cli, "actor", "show", "APT1")
    assert "Byzantine Candor" in actor["aliases"]
    assert actor["description"] == "APT1 is a Chinese threat group."
    assert as_json(cli, "actor", "show", "APT28")["description"] != "stale"
    action, _, changes = history_rows(db_url, "actor", actor["id"])[-1]
    assert action == "edited" and changes["aliases"] == {"added": ["Byzantine Candor"]}
    assert changes["description"]["to"] == "APT1 is a Chinese threat group."

    claim = claims(cli)["APT28 has used Mimikatz to dump credentials."]
    assert "https://new.example/" in json.dumps(as_json(cli, "claim", "show", str(claim["id"])))
    action, _, changes = history_rows(db_url, "claim", claim["id"])[-1]
    assert action == "edited"
    assert changes["text"]["from"] == "APT28 has used Mimikatz to harvest credentials."
    before = dump(db_url)
    assert "0 updated" in cli("import", "stix", str(tmp_path / "newer.json")).stderr
    assert dump(db_url) == before


def test_matched_by_stix_id_before_any_name(cli, db_url) -> None:
    cli("import", "stix", str(SAMPLE))
    cli("actor", "edit", "APT1", "--name", "Comment Crew Renamed")
    before = dump(db_url)
    cli("import", "stix", str(SAMPLE))
    assert dump(db_url) == before  # no new "APT1": the renamed actor is still the object's
    with reopened(db_url) as s:
        linked = s.scalar(
            select(Actor.name)
            .join(ExternalId, ExternalId.actor_id == Actor.id)
            .where(ExternalId.value == by_name(bundle()["objects"], "APT1")["id"])
        )
    assert linked == "Comment Crew Renamed"


def test_the_seed_story_is_joined_not_duplicated(cli, seeded) -> None:
    before = {a["name"]: a["id"] for a in as_json(cli, "actor", "list")}
    cli("import", "stix", str(SAMPLE))
    after = {a["name"]: a["id"] for a in as_json(cli, "actor", "list")}
    # The threat-actor is the user's PLA Unit 61398 (found by name, never made twice) ...
    assert after["PLA Unit 61398"] == before["PLA Unit 61398"]
    assert list(after).count("PLA Unit 61398") == 1
    # ... which the user knew as APT1 too; MITRE's APT1 intrusion set, another STIX object,
    # becomes its own actor, named apart by its ATT&CK id.
    assert "APT1 (G0006)" in after
    about = {c["text"] for c in as_json(cli, "claim", "list", "--about", "PLA Unit 61398")}
    assert "APT1 (G0006) is attributed to PLA Unit 61398" in about
    assert len(about) > 1  # the seed's claims about it are there too


def test_a_new_name_like_a_users_is_reported(cli) -> None:
    cli("actor", "add", "Mimikats", "--kind", "tool")
    out = cli("import", "stix", str(SAMPLE)).stderr
    assert "'Mimikatz' ~ 'Mimikats'" in out


def test_merging_an_imported_actor_keeps_its_stix_id(cli, db_url) -> None:
    cli("import", "stix", str(SAMPLE))
    cli("actor", "add", "Sofacy Group", "--kind", "group", "--new")
    cli("actor", "merge", "Sofacy Group", "APT28", "--yes")
    before = dump(db_url)
    assert "actors 0 created" in cli("import", "stix", str(SAMPLE)).stderr
    assert dump(db_url) == before


def test_folder_in_the_cti_layout_and_stdin_equal_the_bundle(cli, db_url, tmp_path) -> None:
    cli("import", "stix", str(SAMPLE))
    expected = claims(cli)
    actors = as_json(cli, "actor", "list")
    folder = tmp_path / "cti" / "enterprise-attack"
    for n, obj in enumerate(bundle()["objects"]):
        (folder / obj["type"]).mkdir(parents=True, exist_ok=True)
        # cti wraps each object in a bundle of its own; a bare object is read as well.
        content = obj if n % 2 else {"type": "bundle", "id": f"bundle--{n}", "objects": [obj]}
        write(folder / obj["type"] / f"{obj['id']}.json", content)
    for source, stdin in ((str(tmp_path / "cti"), None), ("-", SAMPLE.read_text("utf-8"))):
        second = tmp_path / f"second-{len(source)}.db"
        result = cli("--db", str(second), "import", "stix", source, input=stdin)
        assert "claims 6 created" in result.stderr, result.stderr
        listed = json.loads(cli("--db", str(second), "claim", "list", "-f", "json").stdout)
        assert {c["text"]: c["sources"] for c in listed} == {
            t: c["sources"] for t, c in expected.items()
        }
        names = json.loads(cli("--db", str(second), "actor", "list", "-f", "json").stdout)
        assert [a["aliases"] for a in names] == [a["aliases"] for a in actors]


def test_a_bad_object_imports_nothing(cli, db_url, tmp_path) -> None:
    cli("actor", "add", "Someone")
    data = bundle()
    data["objects"][-1] = {**by_name(data["objects"], "APT28"), "aliases": "Fancy Bear"}
    data["objects"][-1]["id"] = "intrusion-set--00000000-0000-4000-8000-000000000001"
    before = dump(db_url)
    result = cli("import", "stix", str(write(tmp_path / "bad.json", data)), ok=False)
    assert result.exit_code == 65
    assert result.stderr.strip().splitlines() == [
        "Error: intrusion-set--00000000-0000-4000-8000-000000000001, property 'aliases': must "
        "be a list, not text"
    ]
    assert dump(db_url) == before


def _object(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(by_name(bundle()["objects"], "APT28"))
    obj.update(changes)
    return obj


def _nested(depth: int) -> str:
    return '{"type": "bundle", "objects": [{"id": "x--1", "type": "x", "deep": ' + (
        "[" * depth + "]" * depth + "}]}"
    )


HOSTILE = [
    pytest.param(b'{"type": "bundle", "objects": [{"name": "caf\xe9"}]}', "not UTF-8", id="latin1"),
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(b"[1, 2]", "is not a STIX bundle or object", id="array"),
    pytest.param(b'{"type": "bundle", "objects": [1]}', "objects[0] is not an object", id="item"),
    pytest.param(b'{"type": "bundle", "objects": {}}', "'objects' is not a list", id="objects"),
    pytest.param(b'{"type": "bundle", "objects": [', "is not valid JSON", id="truncated"),
    pytest.param(
        json.dumps({"type": "bundle", "objects": [_object(name=["APT28"])]}).encode(),
        "property 'name': must be text, not a list",
        id="name-type",
    ),
    pytest.param(
        json.dumps({"type": "bundle", "objects": [_object(name="A" * 400)]}).encode(),
        "property 'name'",
        id="name-long",
    ),
    pytest.param(
        json.dumps({"type": "bundle", "objects": [_object(modified="yesterday")]}).encode(),
        "property 'modified': 'yesterday' is not a STIX timestamp",
        id="timestamp",
    ),
    pytest.param(
        json.dumps({"type": "bundle", "objects": [_object(id="not-an-id")]}).encode(),
        "an object has no valid 'id'",
        id="id",
    ),
    pytest.param(
        json.dumps({"type": "bundle", "objects": [_object(external_references=[7])]}).encode(),
        "property 'external_references[0]': must be an object, not a number",
        id="reference",
    ),
]


@pytest.fixture
def sqlite_only(backend: str) -> None:
    """Checks of the input itself: nothing of the backend is involved until they pass."""
    if backend != "sqlite":
        pytest.skip("an input check, the same on every backend")


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_input_is_one_line_and_changes_nothing(cli, db_url, tmp_path, content, message):
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    before = dump(db_url)
    result = cli("import", "stix", str(path), ok=False)
    assert result.exit_code == 65, (result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before


@pytest.mark.usefixtures("sqlite_only")
def test_deep_nesting_is_refused(cli, db_url, tmp_path) -> None:
    before = dump(db_url)
    for depth in (5_000, 1_000_000):
        path = write(tmp_path / "deep.json", _nested(depth))
        result = cli("import", "stix", str(path), ok=False)
        assert result.exit_code == 65
        assert "deep.json: is nested too deeply" in result.stderr
    assert dump(db_url) == before
    assert (
        "not mapped: 1 x"
        in cli("import", "stix", str(write(tmp_path / "ok.json", _nested(50)))).stderr
    )


def test_confidence_follows_the_stix_scale(cli, db_url, tmp_path) -> None:
    assert CONFIDENCE_SCALE == ((70, "high"), (30, "moderate"), (0, "low"))
    data = bundle()
    ghost = by_text(data["objects"], "[Operation Ghost]")
    for value, expected in ((0, "low"), (29, "low"), (30, "moderate"), (69, "moderate")):
        ghost["confidence"] = value
        ghost["modified"] = f"2030-01-{value + 1:02d}T00:00:00Z"
        cli("import", "stix", str(write(tmp_path / "c.json", data)))
        found = claims(cli)["Operation Ghost was conducted by APT28."]
        assert shown_claim(cli, found)["confidence"] == expected
    ghost["confidence"] = 101
    ghost["modified"] = "2031-01-01T00:00:00Z"
    result = cli("import", "stix", str(write(tmp_path / "c.json", data)), ok=False)
    assert f"{ghost['id']}, property 'confidence': 101 is not between 0 and 100" in result.stderr


def test_prose_drops_citations_and_links() -> None:
    text = "[APT1](https://attack.mitre.org/groups/G0006) used [x] (Citation: A)(Citation: B)."
    assert prose(text) == "APT1 used [x]."


@pytest.mark.usefixtures("sqlite_only")
def test_stdin_errors_name_stdin(cli, db_url) -> None:
    before = dump(db_url)
    result = cli("import", "stix", "-", input='{"type": "bundle", "objects": [}', ok=False)
    assert result.exit_code == 65
    assert result.stderr.startswith("Error: stdin: is not valid JSON: Expecting value")
    assert dump(db_url) == before


@pytest.mark.usefixtures("sqlite_only")
def test_missing_path_and_empty_folder(cli, tmp_path) -> None:
    result = cli("import", "stix", str(tmp_path / "nope.json"), ok=False)
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    (tmp_path / "empty").mkdir()
    result = cli("import", "stix", str(tmp_path / "empty"), ok=False)
    assert result.exit_code == 65 and "holds no .json files" in result.stderr


def test_claims_without_a_creator_go_to_the_claimant_given(cli, tmp_path) -> None:
    data = bundle()
    for obj in data["objects"]:
        if obj["type"] == "relationship":
            obj.pop("created_by_ref", None)
    path = write(tmp_path / "anonymous.json", data)
    cli("import", "stix", str(path), "--claimant", "Vendor feed")
    assert {c["claimant"] for c in claims(cli).values()} == {
        "Vendor feed",
        "The MITRE Corporation",  # the note keeps its creator
    }


def test_an_alias_that_is_another_actors_name_is_left_out(cli, tmp_path) -> None:
    cli("actor", "add", "Sofacy", "--kind", "organization")
    out = cli("import", "stix", str(SAMPLE)).stderr
    assert "1 aliases that are another record's name" in out
    assert "Sofacy" not in as_json(cli, "actor", "show", "APT28")["aliases"]
    assert as_json(cli, "actor", "show", "Sofacy")["kind"] == "organization"


def test_a_name_shared_by_two_actors_is_refused_naming_the_object(cli, db_url) -> None:
    cli("actor", "add", "Unit Alpha", "--alias", "APT28")
    cli("actor", "add", "Bureau Zeta", "--alias", "APT28")
    before = dump(db_url)
    result = cli("import", "stix", str(SAMPLE), ok=False)
    apt28 = by_name(bundle()["objects"], "APT28")["id"]
    assert result.exit_code == 65 and f"{apt28}, property 'name'" in result.stderr
    assert "Unit Alpha" in result.stderr and "Bureau Zeta" in result.stderr
    assert dump(db_url) == before


def test_stix_ids_survive_a_dump_and_restore(cli, db_url, tmp_path) -> None:
    cli("import", "stix", str(SAMPLE))
    cli("export", "all", str(tmp_path / "dump"))
    second = str(tmp_path / "restored.db")
    cli("--db", second, "import", "all", str(tmp_path / "dump"))
    assert dump(second)["external_id"] == dump(db_url)["external_id"]
    before = dump(second)
    assert "0 created" in cli("--db", second, "import", "stix", str(SAMPLE)).stderr
    assert dump(second) == before
    assert cli("--db", second, "db", "check").exit_code == 0
