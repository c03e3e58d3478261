"""`export stix` -> `import stix` into an empty database (issue 13 §2): what docs/formats.md
("Round trip") says survives does, exporting the imported database again gives the same
objects (modulo ids and record times), and importing the bundle twice changes nothing."""

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    APT1_REPORT,
    CHINA_DENIAL,
    DONILON_QUOTE,
    GLOBE_ARTICLE,
    GLOBE_URL,
    MANDIANT_CLAIM,
    dump,
    empty_postgres,
)

from tracker.db import open_database

INCIDENT = "APT1 intrusions"
DONILON = "The international community cannot tolerate such activity from any country"
ASIDE = "Attribution of intrusions is hard"


def story(cli: Any) -> None:
    """The seed article with everything the round trip keeps: an incident with a victim and an
    alias, blame with confidence, a denial, two verdicts, tags, a quote, a link, a claimant
    named by an alias, a claim about no one. (No part-of tree: it is not exported.)"""

    def run(line: str) -> str:
        return str(cli(*shlex.split(line)).stdout.strip())

    run("actor add Mandiant --kind company --reliability B")
    run("actor add China --kind government")
    run('actor add "PLA Unit 61398" --kind group --alias APT1 --alias "Comment Crew"')
    run(
        'actor add "Tom Donilon" --kind person --alias "Thomas Donilon" '
        '--description "White House national security adviser"'
    )
    run('actor add "Lockheed Martin" --kind company')
    run(
        f'incident add "{INCIDENT}" --kind data-theft --date 2006 --until 2013-02 '
        '--alias "Comment Crew campaign" --victim "Lockheed Martin"'
    )
    run(
        f'source add "{APT1_REPORT}" --publisher Mandiant --kind report --date 2013-02-19 '
        "--reliability B"
    )
    run(
        f'source add "{GLOBE_ARTICLE}" --publisher "The Globe and Mail" --kind article '
        f'--date 2013-03 --url {GLOBE_URL} --cites "{APT1_REPORT}"'
    )
    run('source add "Undated blog post" --kind post')
    mandiant = run(
        f'claim add "{MANDIANT_CLAIM}" --by Mandiant --incident "{INCIDENT}" --blames APT1 '
        "--confidence high --date 2013-02-19 --tag cyber-espionage --tag apt1 --credibility 2 "
        f'--source "{APT1_REPORT}" --source "{GLOBE_ARTICLE}"'
    )
    run(
        f'claim add "{DONILON}" --by "Thomas Donilon" --incident "{INCIDENT}" --blames China '
        f'--confidence moderate --date 2013-03 --quote "{DONILON_QUOTE}" '
        f'--source "{GLOBE_ARTICLE}"'
    )
    denial = run(
        f'claim add "{CHINA_DENIAL}" --by China --incident "{INCIDENT}" '
        '--clears "PLA Unit 61398" --clears China --date 2013-03 '
        f'--source "{GLOBE_ARTICLE}" --note "Reported by AFP"'
    )
    run(f'claim add "{ASIDE}" --by "Tom Donilon" --source "Undated blog post"')
    run(f'claim link {denial} disputes {mandiant} --note "China\'s reply"')
    run(f'claim rate {denial} false --by "Desk B"')
    run(f'claim rate {denial} unverifiable --note "No evidence offered either way" --by "Desk A"')


def as_json(cli: Any, *args: str) -> Any:
    return json.loads(cli(*args, "--format", "json").stdout)


def claims(cli: Any) -> dict[str, dict[str, Any]]:
    """`export claims` by text, record ids and times left out, claim ids as texts."""
    rows = as_json(cli, "export", "claims")
    text = {c["id"]: c["text"] for c in rows}
    return {
        c["text"]: {
            **{k: v for k, v in c.items() if k not in ("id", "uid", "created_at", "updated_at")},
            "supported_by": sorted(text[i] for i in c["supported_by"]),
            "disputed_by": sorted(text[i] for i in c["disputed_by"]),
        }
        for c in rows
    }


def attribution(cli: Any) -> list[dict[str, Any]]:
    """`report attribution` of the incident, claims named by their text instead of ids."""
    text = {c["id"]: c["text"] for c in as_json(cli, "export", "claims")}

    def named(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: text[v] if k == "claim_id" else named(v)
                for k, v in value.items()
                if k not in ("id", "actor_id", "claimant_id")
            }
        return [named(v) for v in value] if isinstance(value, list) else value

    rows: list[dict[str, Any]] = named(as_json(cli, "report", "attribution", INCIDENT)["rows"])
    return rows


def records(cli: Any) -> dict[str, Any]:
    """Actors, sources and incidents as `list` and `show` give them, without ids."""

    def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "id"} for r in rows]

    incidents = []
    for incident in as_json(cli, "incident", "list"):
        shown = as_json(cli, "incident", "show", str(incident["id"]))
        incidents.append({k: shown[k] for k in ("name", "kind", "aliases", "started", "ended")})
        incidents[-1]["victims"] = [v["name"] for v in shown["victims"]]
    return {
        "actors": sorted(plain(as_json(cli, "actor", "list")), key=lambda a: a["name"]),
        "sources": sorted(plain(as_json(cli, "source", "list")), key=lambda s: s["title"]),
        "incidents": incidents,
    }


def emptied(backend: str, db_url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(db_url + suffix).unlink(missing_ok=True)
        open_database(db_url).close()
    else:
        empty_postgres(db_url)


def comparable(text: str) -> dict[str, dict[str, Any]]:
    """A bundle's objects keyed and cross-referenced by what they are (type and name, a
    note's text, a relationship's ends), without ids, record times and uids: what must
    survive a round trip."""
    objects = {o["id"]: o for o in json.loads(text)["objects"]}
    labels: dict[str, str] = {}

    def label(ident: str) -> str:
        if ident not in labels:
            o = objects[ident]
            if o["type"] == "relationship":
                ends = f"{label(o['source_ref'])} -> {label(o['target_ref'])}"
                labels[ident] = f"{o['relationship_type']}: {ends}"
            elif o["type"] == "opinion":
                about = sorted(label(r) for r in o["object_refs"])
                labels[ident] = f"opinion {o['opinion']} {o.get('x_tracker_verdict')} {about}"
            else:
                labels[ident] = f"{o['type']} {o.get('name') or o.get('content')}"
        return labels[ident]

    def same(value: Any) -> Any:
        if isinstance(value, str):
            return label(value) if value in objects else value
        if isinstance(value, list):
            return sorted((same(v) for v in value), key=str)
        if isinstance(value, dict):
            return {same(k): same(v) for k, v in value.items()}
        return value

    out = {}
    for ident, obj in objects.items():
        kept = {k: v for k, v in obj.items() if k not in ("id", "created", "modified")}
        kept.pop("x_tracker_uid", None)
        if obj.get("x_tracker_date_precision") == "none":  # the time the source was recorded
            kept.pop("published")
        out[label(ident)] = same(kept)
    return out


@pytest.mark.usefixtures("db_url")
def test_export_import_keeps_claims_sources_blame_and_verdicts(
    cli, backend, db_url, tmp_path
) -> None:
    story(cli)
    before = (claims(cli), attribution(cli), records(cli))
    bundle = tmp_path / "story.json"
    cli("export", "stix", "-o", str(bundle))

    emptied(backend, db_url)
    result = cli("import", "stix", str(bundle))
    assert "claims 4 created" in result.stderr and "links 1 created" in result.stderr
    assert "4 blames and denials held by their claims' notes" in result.stderr

    after = (claims(cli), attribution(cli), records(cli))
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]
    # What the comparison rests on, spelt out.
    denial = after[0][CHINA_DENIAL]
    assert (denial["verdict"], denial["disputed_by"], denial["note"]) == (
        "unverifiable",
        [],
        "Reported by AFP",
    )
    assert after[0][MANDIANT_CLAIM]["disputed_by"] == [CHINA_DENIAL]
    assert after[0][DONILON]["claimant_as"] == "Thomas Donilon"
    assert after[0][ASIDE]["about"] == [] and after[0][ASIDE]["stated"] is None
    (unit,) = [row for row in after[1] if row["actor"] == "PLA Unit 61398"]
    assert unit["blamed_by"][0]["confidence"] == "high"
    assert [c["claim_id"] for c in unit["cleared_by"]] == [CHINA_DENIAL]
    ids = {c["text"]: c["id"] for c in as_json(cli, "export", "claims")}
    shown = as_json(cli, "claim", "show", str(ids[CHINA_DENIAL]))
    assert [(v["verdict"], v["reviewer"], v["note"]) for v in shown["verdicts"]] == [
        ("false", "Desk B", None),
        ("unverifiable", "Desk A", "No evidence offered either way"),
    ]

    again = tmp_path / "again.json"
    cli("export", "stix", "-o", str(again))
    assert comparable(again.read_text("utf-8")) == comparable(bundle.read_text("utf-8"))

    # Importing the same bundle again changes nothing at all.
    rows = dump(db_url)
    result = cli("import", "stix", str(bundle))
    assert "0 created, 0 updated" in result.stderr and " created," not in result.stderr.replace(
        "0 created,", ""
    )
    assert dump(db_url) == rows


BAD = [
    ("note", "x_tracker_stated", "2013-13", "x_tracker_stated'"),
    ("note", "x_tracker_credibility", "2", "must be a whole number from 1 to 6, not text"),
    ("note", "x_tracker_blames_refs", ["identity--0b5c7b8e-0000-4000-8000-000000000000"], "is no"),
    ("opinion", "x_tracker_verdict", "pants-on-fire", "x_tracker_verdict'"),
    ("campaign", "x_tracker_first_seen_precision", "week", "is not one of: year, month"),
]


@pytest.mark.parametrize(("kind", "prop", "value", "message"), BAD)
def test_a_bad_tracker_property_is_one_line_and_imports_nothing(
    cli, backend, db_url, tmp_path, kind, prop, value, message
) -> None:
    if backend != "sqlite":
        pytest.skip("an input check, the same on every backend")
    cli("actor", "add", "Mandiant", "--kind", "company")
    cli("incident", "add", INCIDENT, "--date", "2006")
    claim = cli("claim", "add", MANDIANT_CLAIM, "--by", "Mandiant", "--incident", INCIDENT)
    cli("claim", "rate", claim.stdout.strip(), "true")
    data = json.loads(cli("export", "stix").stdout)
    emptied(backend, db_url)
    (target,) = [o for o in data["objects"] if o["type"] == kind]
    target[prop] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = dump(db_url)
    result = cli("import", "stix", str(path), ok=False)
    assert result.exit_code == 65, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"Error: {target['id']}, property '{prop}'"), result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before


def test_importing_back_into_the_exported_database_adds_nothing(cli, db_url, tmp_path) -> None:
    story(cli)
    before = (claims(cli), attribution(cli), records(cli))
    rows = dump(db_url)
    bundle = tmp_path / "story.json"
    cli("export", "stix", "-o", str(bundle))
    result = cli("import", "stix", str(bundle))
    assert "matched by name" in result.stderr and "links 0 created" in result.stderr
    assert (claims(cli), attribution(cli), records(cli)) == before
    after = dump(db_url)
    # Only the STIX ids are new (what each object was matched to): no record, no history.
    assert {t: r for t, r in after.items() if t != "external_id"} == {
        t: r for t, r in rows.items() if t != "external_id"
    }
