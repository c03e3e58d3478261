"""tracker db merge OTHER: two notebooks that grew apart from one dump, brought together by uid.

The base is the seed article, dumped with `export all` and restored into a laptop's SQLite file;
then each side changes it differently. The team's side is the test's database (SQLite or
PostgreSQL); the laptop is merged in as a SQLite file, or as its own `export all` folder."""

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import APT1_REPORT, GLOBE_ARTICLE, Run, Templates, dump, record_seed, reopened
from sqlalchemy import select

from tracker.models import Actor, Claim, HistoryEntry, Link, VerdictEntry


def _laptop(cli: Run, base: Path, seeded: dict[str, int]) -> None:
    cli("import", "all", str(base))
    cli("actor", "add", "Sandworm", "--kind", "group")
    cli("actor", "add", "Lazarus Group", "--kind", "group")
    cli(
        "claim",
        "add",
        "Sandworm hit the grid",
        "--by",
        "Sandworm",
        "--source",
        APT1_REPORT,
        "--tag",
        "ics",
    )
    cli("claim", "edit", str(seeded["mandiant"]), "--tag", "checked-on-laptop")
    cli("claim", "edit", str(seeded["donilon"]), "--note", "note from the laptop")
    cli("claim", "rate", str(seeded["denial"]), "false", "--note", "see the indictment")
    cli("claim", "link", str(seeded["denial"]), "refutes", str(seeded["mandiant"]))


def _desk(cli: Run, base: Path, seeded: dict[str, int]) -> None:
    cli("import", "all", str(base))
    cli("actor", "add", "Fancy Bear", "--kind", "group")
    cli("actor", "add", "Lazarus Group", "--kind", "group", "--description", "DPRK")
    cli(
        "claim", "add", "Fancy Bear hit the agency", "--by", "Fancy Bear", "--source", GLOBE_ARTICLE
    )
    cli("claim", "edit", str(seeded["donilon"]), "--note", "note from the desk")


@pytest.fixture
def diverged(
    templates: Templates, backend: str, db_url: str, tmp_path: Path
) -> tuple[dict[str, int], Path]:
    """The seed ids, and the laptop's notebook (a SQLite file); the test's database is the
    desk's. Both are restored from one dump of the seed article, then changed apart (built once
    per session)."""
    seeded = templates.load("seed", record_seed, "sqlite", str(tmp_path / "seed.db"))
    base = templates.folder / "seed-dump"
    templates.load("merge-desk", lambda cli: _desk(cli, base, seeded), backend, db_url)
    laptop = tmp_path / "laptop.db"
    templates.load("merge-laptop", lambda cli: _laptop(cli, base, seeded), "sqlite", str(laptop))
    return seeded, laptop


def _other(kind: str, cli: Run, laptop: Path, tmp_path: Path) -> str:
    if kind == "file":
        return str(laptop)
    folder = tmp_path / "laptop-dump"
    cli("--db", str(laptop), "export", "all", str(folder))
    return str(folder)


def _claim(url: str, uid: str) -> Claim:
    from sqlalchemy.orm import selectinload

    with reopened(url) as s:
        claim = s.scalars(
            select(Claim)
            .where(Claim.uid == uid)
            .options(selectinload(Claim.tags), selectinload(Claim.claimant))
        ).one()
        s.expunge_all()
        return claim


def _uids(url: str, model: Any) -> dict[str, Any]:
    with reopened(url) as s:
        return {row.uid: row for row in s.scalars(select(model))}


def _summary(cli: Run, *args: str) -> dict[str, Any]:
    out = json.loads(cli("db", "merge", *args, "--format", "json").stdout)
    out["by_kind"] = {row["kind"]: row for row in out["kinds"]}
    return out


@pytest.mark.parametrize("source", ["file", "dump"])
def test_merge_brings_the_laptop_in(
    request: pytest.FixtureRequest, cli: Run, backend: str, tmp_path: Path, source: str
) -> None:
    if backend == "postgresql" and source == "dump":
        pytest.skip("PostgreSQL <- SQLite file and SQLite <- dump folder cover both readers")
    seeded, laptop = request.getfixturevalue("diverged")
    db_url = request.getfixturevalue("db_url")
    other = _other(source, cli, laptop, tmp_path)
    theirs_claims = _uids(str(laptop), Claim)
    theirs_actors = _uids(str(laptop), Actor)
    theirs_history = _uids(str(laptop), HistoryEntry)
    ours_before = _uids(db_url, Claim)
    our_history = _uids(db_url, HistoryEntry)

    result = _summary(cli, other)
    kinds = result["by_kind"]
    assert kinds["claim"]["added"] == 1
    assert kinds["claim"]["updated"] == 2  # the tag edit and the rating, made there only
    assert kinds["claim"]["conflicts"] == 1  # the note, made on both sides
    assert kinds["actor"]["added"] == 1  # Sandworm; Lazarus Group is the one here already
    assert kinds["actor"]["conflicts"] == 1  # ...whose description differs
    assert kinds["verdict"]["added"] == 1

    after = _uids(db_url, Claim)
    new_uid = next(u for u, c in theirs_claims.items() if c.text == "Sandworm hit the grid")
    added = _claim(db_url, new_uid)
    assert added.id not in {c.id for c in ours_before.values()}
    assert added.claimant.name == "Sandworm"
    assert added.claimant.uid == next(u for u, a in theirs_actors.items() if a.name == "Sandworm")
    assert [t.tag for t in added.tags] == ["ics"]

    mandiant = _claim(db_url, ours_before_uid(ours_before, seeded["mandiant"]))
    assert "checked-on-laptop" in [t.tag for t in mandiant.tags]
    donilon = after[ours_before_uid(ours_before, seeded["donilon"])]
    assert donilon.note == "note from the desk"  # a conflict is left alone
    denial = after[ours_before_uid(ours_before, seeded["denial"])]
    assert (denial.verdict, denial.status) == ("false", "reviewed")
    with reopened(db_url) as s:
        links = s.execute(select(Link.from_id, Link.relation, Link.to_id)).all()
    assert set(links) == {
        (denial.id, "disputes", mandiant.id),
        (denial.id, "refutes", mandiant.id),  # made on the laptop
    }
    assert set(_uids(db_url, VerdictEntry)) == set(_uids(str(laptop), VerdictEntry))
    assert any(
        "donilon" not in n and f"claim #{seeded['donilon']}" in n and "note" in n
        for n in result["notes"]
    ), result["notes"]

    with reopened(db_url) as s:
        lazarus = s.scalars(select(Actor).where(Actor.name == "Lazarus Group")).all()
        assert [a.description for a in lazarus] == ["DPRK"]
        history = {e.uid: e for e in s.scalars(select(HistoryEntry))}
    # Their history is here, as written there, about the records here; a conflicting record's
    # (the Donilon note, Lazarus Group) waits there until the conflict is settled.
    lazarus_there = next(a for a in theirs_actors.values() if a.name == "Lazarus Group")
    held = {
        u
        for u, e in theirs_history.items()
        if (e.entity, e.entity_id) in {("claim", seeded["donilon"]), ("actor", lazarus_there.id)}
        and u not in history
    }
    assert len(held) == result["history_held"] == 2
    assert set(theirs_history) - held <= set(history)
    assert set(our_history) <= set(history)
    for uid, entry in theirs_history.items():
        if uid in held:
            continue
        copied = history[uid]
        assert (copied.by, copied.at, copied.action) == (entry.by, entry.at, entry.action)
    tagged = [
        e
        for e in theirs_history.values()
        if e.entity == "claim" and "tags" in e.changes and e.action == "edited"
    ]
    assert [history[e.uid].entity_id for e in tagged] == [mandiant.id]
    created = next(e for e in theirs_history.values() if e.changes.get("text") == added.text)
    assert history[created.uid].entity_id == added.id
    merged = [e for e in history.values() if e.changes.get("via") == "merge"]
    assert {(e.entity, e.entity_id, e.action) for e in merged} >= {
        ("claim", mandiant.id, "edited"),
        ("claim", added.id, "created"),
    }
    assert all(e.changes["from"] == other for e in merged)

    # Merging twice changes nothing.
    before = dump(db_url)
    again = _summary(cli, other)
    for row in again["kinds"]:
        assert (row["kind"], row["added"], row["updated"]) == (row["kind"], 0, 0)
    assert dump(db_url) == before
    cli("db", "check")


def ours_before_uid(claims: dict[str, Claim], ident: int) -> str:
    return next(u for u, c in claims.items() if c.id == ident)


def test_dry_run_changes_nothing_and_prefer_theirs_takes_theirs(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    seeded, laptop = diverged
    before = dump(db_url)
    shown = cli("db", "merge", str(laptop), "--dry-run").stdout
    assert "claim\t1\t2\t1\t" in shown  # piped: tab-separated kind, added, updated, conflicts
    assert "nothing was changed" in shown
    assert dump(db_url) == before

    result = _summary(cli, str(laptop), "--prefer", "theirs")
    assert result["by_kind"]["claim"]["conflicts"] == 1
    assert result["history_held"] == 0
    assert set(_uids(str(laptop), HistoryEntry)) <= set(_uids(db_url, HistoryEntry))
    with reopened(db_url) as s:
        donilon = s.get(Claim, seeded["donilon"])
        lazarus = s.scalars(select(Actor).where(Actor.name == "Lazarus Group")).one()
        assert donilon is not None and donilon.note == "note from the laptop"
        assert lazarus.description is None
    assert any("took theirs" in n for n in result["notes"])


def test_later_changes_there_come_in_after_an_earlier_merge(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    """The entries a merge writes are not changes of their own: a record taken from the laptop
    and edited there again is updated, not a conflict."""
    seeded, laptop = diverged
    cli("db", "merge", str(laptop))
    cli("claim", "edit", str(seeded["mandiant"]), "--credibility", "2", "--db", str(laptop))
    result = _summary(cli, str(laptop))
    assert result["by_kind"]["claim"]["updated"] == 1
    assert result["by_kind"]["claim"]["conflicts"] == 1  # still only the note
    with reopened(db_url) as s:
        claim = s.get(Claim, seeded["mandiant"])
        assert claim is not None and claim.credibility == 2


def test_refusals_name_the_problem_and_change_nothing(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str, backend: str, tmp_path: Path
) -> None:
    before = dump(db_url)
    missing = cli("db", "merge", str(tmp_path / "nowhere.db"), ok=False)
    assert missing.exit_code == 74 and "nowhere.db" in missing.stderr
    if backend == "sqlite":
        same = cli("db", "merge", db_url, ok=False)
        assert same.exit_code == 2 and "is this database" in same.stderr
    folder = tmp_path / "bad"
    cli("export", "all", str(folder))
    lines = (folder / "claim.jsonl").read_text().splitlines()
    row = json.loads(lines[0]) | {"credibility": 9}
    (folder / "claim.jsonl").write_text("\n".join([json.dumps(row), *lines[1:]]) + "\n")
    bad = cli("db", "merge", str(folder), ok=False)
    assert bad.exit_code == 65
    assert "claim.jsonl, line 1, column 'credibility'" in bad.stderr
    assert dump(db_url) == before


def test_deletions_are_listed_not_carried_over(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    seeded, laptop = diverged
    with reopened(str(laptop)) as s:
        sandworm = s.scalars(select(Claim).where(Claim.text == "Sandworm hit the grid")).one().id
    cli("claim", "delete", str(sandworm), "--yes", "--db", str(laptop))
    cli("claim", "delete", str(seeded["mandiant"]), "--force", "--yes", "--db", str(laptop))
    cli("claim", "delete", str(seeded["donilon"]), "--yes")
    donilon_history = _uids(str(laptop), HistoryEntry)

    result = _summary(cli, str(laptop))
    notes = "\n".join(result["notes"])
    assert f"claim #{seeded['mandiant']} (uid " in notes and "deleted there, kept here" in notes
    assert "deleted here, not brought back" in notes
    assert result["by_kind"]["claim"]["added"] == 0  # Sandworm's claim: made and deleted there
    assert result["history_skipped"] == 2  # ...its creation and deletion
    with reopened(db_url) as s:
        assert s.get(Claim, seeded["mandiant"]) is not None
        assert s.get(Claim, seeded["donilon"]) is None
        # The laptop's note on the claim deleted here is kept, about the claim it was about.
        about = {
            e.uid: e.entity_id for e in s.scalars(select(HistoryEntry)) if e.uid in donilon_history
        }
    noted = [
        u
        for u, e in donilon_history.items()
        if e.entity == "claim"
        and e.changes.get("note") == {"from": None, "to": "note from the laptop"}
    ]
    assert [about[u] for u in noted] == [seeded["donilon"]]


def test_schema_of_another_tracker_is_refused(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    import sqlite3
    from contextlib import closing

    _, laptop = diverged
    before = dump(db_url)
    for revision, says in (("0099", "newer tracker"), ("0005", "upgrade it first")):
        with closing(sqlite3.connect(laptop)) as conn, conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        result = cli("db", "merge", str(laptop), ok=False)
        assert result.exit_code == 74 and says in result.stderr, result.stderr
        assert str(laptop) in result.stderr
    assert dump(db_url) == before


def test_their_links_to_a_claim_deleted_here_are_left_out(
    cli: Run, diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    seeded, laptop = diverged
    cli("claim", "delete", str(seeded["mandiant"]), "--force", "--yes")
    # The deletion took the denial's link here, the laptop added one: a conflict, taken.
    result = _summary(cli, str(laptop), "--prefer", "theirs")
    assert any("(refutes)" in n and "deleted here: left out" in n for n in result["notes"])
    with reopened(db_url) as s:
        denial = s.get(Claim, seeded["denial"])
        assert denial is not None and denial.verdict == "false"
        assert s.scalars(select(Link)).all() == []


def test_reading_only_the_related_rows_plans_the_same(
    diverged: tuple[dict[str, int], Path], db_url: str
) -> None:
    """A small notebook merged into a large database reads only the rows it concerns; the plan
    must be the one a whole read gives."""
    from tracker.db import open_database
    from tracker.services import notebook_merge as merge

    seeded, laptop = diverged
    cli = Run()
    cli("claim", "delete", str(seeded["mandiant"]), "--force", "--yes", "--db", str(laptop))
    database = open_database(db_url)
    try:
        tables, label = merge.read_other(str(laptop), database)
        theirs = merge.Side(tables)
        with database.session(write=False) as s:
            whole = merge.Side(merge.read_tables(s.connection()))
            related = merge.Side(merge.read_related(s.connection(), theirs))
    finally:
        database.close()
    assert (
        len(related.tables["claim"]) < len(whole.tables["claim"]) or len(whole.tables["claim"]) <= 4
    )
    for prefer in (None, "theirs"):
        planned = [merge.plan_merge(side, theirs, label, prefer) for side in (whole, related)]
        assert planned[0].summary() == planned[1].summary()
        assert planned[0].summary()["notes"]  # conflicts and the deletion there are seen by both


def test_merge_from_a_postgresql_url_into_an_empty_file(
    postgres_url: str, templates: Templates, tmp_path: Path
) -> None:
    """OTHER as a URL: the team's PostgreSQL database copied whole into a new laptop file."""
    from helpers import empty_postgres

    empty_postgres(postgres_url)
    seeded = templates.load("seed", record_seed, "postgresql", postgres_url)
    laptop = str(tmp_path / "new-laptop.db")
    cli = Run()
    first = json.loads(cli("--db", laptop, "db", "merge", postgres_url, "--format", "json").stdout)
    assert {r["kind"]: r["added"] for r in first["kinds"]}["claim"] == len(
        [k for k in seeded if k in ("mandiant", "donilon", "denial")]
    )
    assert first["notes"] == []
    with reopened(laptop) as s, reopened(postgres_url) as team:
        for model in (Actor, Claim, VerdictEntry, Link):
            assert {r.uid for r in s.scalars(select(model))} == {
                r.uid for r in team.scalars(select(model))
            }
        # The team's history, and one `merged from` entry per record added.
        history = {r.uid: r for r in s.scalars(select(HistoryEntry))}
        team_history = {r.uid for r in team.scalars(select(HistoryEntry))}
        assert team_history <= history.keys()
        extra = [history[u].changes for u in history.keys() - team_history]
        assert extra and all(c.get("via") == "merge" for c in extra)
    again = json.loads(cli("--db", laptop, "db", "merge", postgres_url, "--format", "json").stdout)
    assert all(r["added"] == r["updated"] == 0 for r in again["kinds"])
