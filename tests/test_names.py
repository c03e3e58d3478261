"""Names an analyst can trust: a name that is not exact is never silently a new record, real
names are accepted, the name as given is kept, shared aliases are ambiguous, and merges and
deletes are previewed and can be undone. Through the CLI, checking the database."""

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import dump, history_rows, reopened
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tracker.models import Actor, ActorName, Claim, ClaimSubject, Source
from tracker.text import name_key, split_list

KNOWN = [
    ("Norse Corp", []),
    ("Lazarus Group", ["Guardians of Peace"]),
    ("Barack Obama", []),
    ("Sony Pictures Entertainment", ["Sony Pictures"]),
    ("FBI", []),
    ("US", []),
]


@pytest.fixture
def known(cli, seeded) -> dict[str, int]:
    """The seed story plus the actors of the Sony Pictures hack (2014)."""
    ids = {}
    for name, aliases in KNOWN:
        args = ["actor", "add", name]
        for alias in aliases:
            args += ["--alias", alias]
        ids[name] = int(cli(*args).stdout)
    return ids


def error(result) -> str:
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    return lines[-1]


@pytest.mark.parametrize(
    ("given", "candidate"),
    [
        ("Norse", "Norse Corp"),  # fewer words
        ("Lazarus", "Lazarus Group"),
        ("Obama", "Barack Obama"),
        ("Sony", "Sony Pictures Entertainment"),  # an alias counts as much as a name
        ("Norse Corporation", "Norse Corp"),  # a prefix
        ("F.B.I.", "FBI"),  # punctuation
        ("U.S.", "US"),
        ("\u041c\u0430nd\u0456\u0430nt", "Mandiant"),  # Cyrillic letters that look Latin
        ("Mandaint", "Mandiant"),  # a typo
    ],
)
def test_a_name_like_a_known_one_is_refused_with_the_candidates(
    cli, known, db_url, given, candidate
) -> None:
    before = dump(db_url)
    result = cli("claim", "add", "Sony was hacked", "--by", given, ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = error(result)
    assert line.startswith(f"Error: no actor {given!r}; did you mean {candidate!r} (#")
    assert line.endswith("Give --new if it is a different actor")
    assert dump(db_url) == before
    # Same rule for an explicit add, and for a subject.
    assert cli("actor", "add", given, ok=False).exit_code == 1
    assert cli("claim", "add", "x", "--by", "China", "--about", given, ok=False).exit_code == 1
    assert dump(db_url) == before


def test_new_says_it_is_a_different_actor(cli, known, db_url) -> None:
    claim = int(cli("claim", "add", "Norse saw Iranian traffic", "--by", "Norse", "--new").stdout)
    with reopened(db_url) as s:
        actor = s.get(Claim, claim).claimant
        assert actor.name == "Norse" and actor.id not in known.values()
    assert history_rows(db_url, "actor", actor.id)[0][0] == "created"
    assert cli("actor", "add", "Lazarus", "--new").exit_code == 0


def test_numbers_keep_groups_apart_and_invisible_characters_do_not_count(cli, known, db_url):
    # APT29 is not a typo of APT28; a soft hyphen or zero-width space is not a new name.
    cli("actor", "add", "APT28")
    cli("claim", "add", "Cozy Bear phished", "--by", "APT29")
    cli("claim", "add", "Soft", "--by", "Man\u00addi\u200bant")
    with reopened(db_url) as s:
        names = set(s.scalars(select(Actor.name)))
        claim = s.scalar(select(Claim).where(Claim.text == "Soft"))
        assert claim.claimant.name == "Mandiant" and claim.claimant_as is None
    assert {"APT28", "APT29"} <= names


def test_bidi_controls_are_refused_in_names(cli, seeded, db_url) -> None:
    before = dump(db_url)
    for name in ("\u202etnaidnaM", "Mandiant\u2066x\u2069"):
        result = cli("actor", "add", name, ok=False)
        assert result.exit_code == 65
        assert "bidirectional control character" in error(result)
    assert dump(db_url) == before


def test_any_printable_name_is_accepted(cli, seeded, db_url) -> None:
    joint = "Electricity Information Sharing and Analysis Center; SANS Industrial Control Systems"
    cli(
        "source",
        "add",
        "Analysis of the Cyber Attack on the Ukrainian Power Grid",
        "--publisher",
        joint,
        "--author",
        "Sadowski, J; Hall, R",
    )
    with reopened(db_url) as s:
        source = s.scalar(select(Source).where(Source.title.like("Analysis%")))
        assert source.publisher.name == joint
        assert source.authors == ["Sadowski, J; Hall, R"]


def test_strict_mode_never_creates_names_implicitly(cli, seeded, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_NEW_NAMES", "refuse")
    before = dump(db_url)
    result = cli("claim", "add", "x", "--by", "Someone New", ok=False)
    assert result.exit_code == 1
    assert "new actors are not created implicitly (TRACKER_NEW_NAMES=refuse)" in error(result)
    sheet = tmp_path / "new.csv"
    sheet.write_text("text,claimant\nA claim,Someone New\n", encoding="utf-8")
    assert cli("import", "claims", str(sheet), ok=False).exit_code == 65
    assert dump(db_url) == before
    # Known names still work, and an explicit add is not implicit.
    cli("claim", "add", "y", "--by", "Mandiant")
    cli("actor", "add", "Someone New")
    monkeypatch.setenv("TRACKER_NEW_NAMES", "sometimes")
    assert cli("claim", "add", "z", "--by", "Mandiant", ok=False).exit_code == 65


def test_a_shared_alias_is_ambiguous_never_picked(cli, seeded, db_url) -> None:
    salt = int(cli("actor", "add", "Salt Typhoon", "--alias", "FamousSparrow").stdout)
    result = cli("actor", "add", "Earth Estries", "--alias", "FamousSparrow")
    estries = int(result.stdout)
    assert "also one of actor" in result.stderr
    before = dump(db_url)
    for args in (
        ["claim", "add", "x", "--by", "FamousSparrow"],
        ["actor", "show", "famoussparrow"],
        ["claim", "list", "--about", "FamousSparrow"],
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == 1
        assert error(result) == (
            "Error: actor name 'FamousSparrow' is ambiguous: it matches "
            f"#{salt} 'Salt Typhoon'; #{estries} 'Earth Estries'. Use the id."
        ).replace("'FamousSparrow' is", f"{args[-1]!r} is")
    assert dump(db_url) == before
    # A primary name is never shared.
    assert cli("actor", "add", "Other", "--alias", "Salt Typhoon", ok=False).exit_code == 1


def test_the_name_as_given_is_kept(cli, known, db_url, tmp_path) -> None:
    claim = int(
        cli(
            "claim",
            "add",
            "We have obtained all your internal data",
            "--by",
            "Guardians of Peace",
            "--about",
            "sony pictures",
            "--date",
            "2014-11-24",
        ).stdout
    )
    with reopened(db_url) as s:
        row = s.get(Claim, claim)
        assert (row.claimant.name, row.claimant_as) == ("Lazarus Group", "Guardians of Peace")
        subject = s.scalar(select(ClaimSubject).where(ClaimSubject.claim_id == claim))
        assert subject.as_name == "Sony Pictures"
    shown = cli("claim", "show", str(claim)).stdout
    lazarus = known["Lazarus Group"]
    assert f'claimant: Lazarus Group (as "Guardians of Peace") (#{lazarus})' in shown
    dossier = json.loads(cli("claim", "show", str(claim), "-f", "json").stdout)
    assert dossier["claimant"] == {
        "id": lazarus,
        "name": "Lazarus Group",
        "as": "Guardians of Peace",
    }
    assert dossier["about"][0]["as"] == "Sony Pictures"
    report = list(
        csv.DictReader(
            io.StringIO(cli("export", "claims", "--raw", "--by", "Lazarus Group").stdout)
        )
    )
    assert (report[0]["claimant"], report[0]["claimant_as"]) == (
        "Lazarus Group",
        "Guardians of Peace",
    )
    assert report[0]["about_as"] == "Sony Pictures"
    flat = list(
        csv.DictReader(
            io.StringIO(cli("export", "claims", "--flat", "--by", "Lazarus Group").stdout)
        )
    )
    assert flat[0]["claimant_as"] == "Guardians of Peace"


def test_bulk_import_lists_new_names_like_known_ones(cli, seeded, db_url, tmp_path) -> None:
    sheet = tmp_path / "feed.csv"
    sheet.write_text(
        "text,claimant,about,source,source_publisher\n"
        "Unit 61398 is PLA,Mandaint,PLA Unit 61398,Mandiant blog,Mandiant\n"
        "China denies,China,,Xinhua statement,Xinhua\n",
        encoding="utf-8",
    )
    before = dump(db_url)
    strict = cli("import", "claims", str(sheet), "--strict-names", ok=False)
    assert strict.exit_code == 65
    assert "1 new name resembles an existing one: 'Mandaint' ~ 'Mandiant' (#1)" in strict.stderr
    assert dump(db_url) == before
    report = tmp_path / "names.csv"
    result = cli("import", "claims", str(sheet), "--report-names", str(report))
    assert (
        "check: 1 new name resembles an existing one: 'Mandaint' ~ 'Mandiant' (#1)" in result.stderr
    )
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["name"], r["resembles_id"], r["resembles"]) for r in rows] == [
        ("Mandaint", "1", "Mandiant")
    ]
    with reopened(db_url) as s:
        created = {a.name: a.id for a in s.scalars(select(Actor).where(Actor.id > 5))}
        sources = {t: i for t, i in s.execute(select(Source.title, Source.id).where(Source.id > 2))}
    assert set(created) == {"Mandaint", "Xinhua"}
    # Every actor and source the import created has its history entry.
    for ident in created.values():
        assert history_rows(db_url, "actor", ident)[0][0] == "created"
    for ident in sources.values():
        action, _, changes = history_rows(db_url, "source", ident)[0]
        assert action == "created" and changes["title"] in {"Mandiant blog", "Xinhua statement"}


def test_an_ambiguous_alias_in_a_file_is_a_bad_row(cli, seeded, db_url, tmp_path) -> None:
    cli("actor", "add", "Salt Typhoon", "--alias", "GhostEmperor")
    cli("actor", "add", "Earth Estries", "--alias", "GhostEmperor")
    sheet = tmp_path / "feed.csv"
    sheet.write_text("text,claimant\nIt was them,GhostEmperor\n", encoding="utf-8")
    before = dump(db_url)
    result = cli("import", "claims", str(sheet), ok=False)
    assert result.exit_code == 65
    assert "line 2, column 'claimant': actor name 'GhostEmperor' is ambiguous" in result.stderr
    assert dump(db_url) == before


def test_a_second_source_with_a_title_needs_a_url_or_new(cli, seeded, db_url) -> None:
    title = "Obama raises hacking concerns with China's Xi"
    before = dump(db_url)
    result = cli("source", "add", title, ok=False)
    assert result.exit_code == 65
    assert "exists already" in error(result) and "--url" in error(result)
    assert dump(db_url) == before
    cli("source", "add", title, "--url", "https://www.reuters.com/obama-xi")
    cli("source", "add", title, "--new")
    listed = json.loads(cli("source", "list", "-f", "json").stdout)
    assert sum(1 for s in listed if s["title"] == title) == 3
    # Errors tell namesakes apart by publisher and date.
    ambiguous = error(cli("source", "show", title, ok=False))
    assert "(The Globe and Mail, 2013-03)" in ambiguous and "(no publisher, undated)" in ambiguous


def _without_history(db_url: str) -> dict[str, list[tuple]]:
    """Every table but the history (and its chain's head), without the updated_at times a
    merge touches."""
    from tracker.models import Base

    rows = dump(db_url)
    out = {}
    for name, table in Base.metadata.tables.items():
        if name in ("history", "history_head"):
            continue
        keep = [i for i, c in enumerate(table.columns) if c.name != "updated_at"]
        out[name] = [tuple(r[i] for i in keep) for r in rows[name]]
    return out


def test_merge_then_unmerge_restores_everything(cli, seeded, db_url) -> None:
    crew = int(cli("actor", "add", "Comment Panda", "--alias", "Byzantine Candor").stdout)
    cli("claim", "add", "Panda hacked a newspaper", "--by", "Comment Panda", "--about", "China")
    cli(
        "claim",
        "add",
        "Both of them",
        "--by",
        "China",
        "--about",
        "Comment Panda",
        "--about",
        "APT1",
    )
    before = _without_history(db_url)
    result = cli("actor", "merge", "APT1", "Comment Panda", ok=False)
    assert result.exit_code == 2 and "--yes" in result.stderr  # off a terminal
    assert _without_history(db_url) == before
    cli("actor", "merge", "APT1", "Comment Panda", "--yes")
    with reopened(db_url) as s:
        assert s.get(Actor, crew) is None
        claim = s.scalar(select(Claim).where(Claim.text == "Panda hacked a newspaper"))
        assert claim.claimant_as == "Comment Panda"  # the name it was attributed under stays
    history = cli("actor", "history", str(crew)).stdout
    assert "merged-into" in history
    restored = cli("actor", "unmerge", str(crew))
    assert f"restored actor 'Comment Panda' (#{crew})" in restored.stderr
    assert _without_history(db_url) == before
    assert "unmerged" in cli("actor", "history", "APT1").stdout


def test_source_merge_then_unmerge_restores_everything(cli, seeded, db_url) -> None:
    copy = int(cli("source", "add", "Globe copy", "--cites", "1").stdout)
    cli("claim", "edit", str(seeded["donilon"]), "--source", "Globe copy")
    cli("claim", "edit", str(seeded["mandiant"]), "--source", "Globe copy")
    before = _without_history(db_url)
    result = cli("source", "merge", str(seeded["article"]), str(copy), "--yes")
    assert "citations that would repeat or loop" in result.stderr or "citations" in result.stderr
    with reopened(db_url) as s:
        assert s.get(Source, copy) is None
    cli("source", "unmerge", str(copy))
    assert _without_history(db_url) == before


def test_delete_is_refused_while_referred_to(cli, seeded, db_url) -> None:
    before = dump(db_url)
    result = cli("actor", "delete", "Mandiant", "--yes", ok=False)
    assert result.exit_code == 1
    assert "refer to it; merge it into another actor instead" in error(result)
    assert cli("source", "delete", "1", "--yes", ok=False).exit_code == 1
    lonely = int(cli("actor", "add", "Typo Corp", "--alias", "TC").stdout)
    assert cli("actor", "delete", "Typo Corp", ok=False).exit_code == 2  # needs --yes off a tty
    with reopened(db_url) as s:
        assert s.get(Actor, lonely) is not None
    cli("actor", "delete", "Typo Corp", "--yes")
    with reopened(db_url) as s:
        assert s.get(Actor, lonely) is None
        assert s.scalars(select(ActorName).where(ActorName.actor_id == lonely)).all() == []
    action, _, snapshot = history_rows(db_url, "actor", lonely)[-1]
    assert action == "deleted" and snapshot["name"] == "Typo Corp"
    assert dump(db_url)["claim"] == before["claim"]


def test_lists_in_cells_split_exactly(cli, seeded, db_url) -> None:
    cli(
        "claim",
        "add",
        "Joint advisory",
        "--by",
        "CISA",
        "--about",
        "A; B",
        "--about",
        "C\\D",
        "--tag",
        "x;y",
    )
    report = list(csv.DictReader(io.StringIO(cli("export", "claims", "--raw").stdout)))
    row = next(r for r in report if r["text"] == "Joint advisory")
    assert sorted(split_list(row["about"])) == ["A; B", "C\\D"]
    assert split_list(row["tags"]) == ["x;y"]


def test_name_checks_read_like_the_readme(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for phrase in (
        "--new",
        "TRACKER_NEW_NAMES=refuse",
        "--strict-names",
        "--report-names",
        "claimant_as",
        "unmerge",
    ):
        assert phrase in readme, phrase


_NAME_CHARS = st.sampled_from([*"ab Z;,\"'\\é\n", "\\;", ";;", "\\\\"])
_NAMES = st.lists(_NAME_CHARS, min_size=1, max_size=8).map("".join)


def _flat_export(url: str) -> bytes:
    from tracker.db import open_database
    from tracker.services import flat
    from tracker.services.export import write_csv

    database = open_database(url)
    out = io.StringIO()
    with database.session(write=False) as s:
        write_csv(flat.flat_rows(s), out, flat.COLUMNS, safe=False)
    database.close()
    return out.getvalue().encode("utf-8")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claimant=_NAMES, subjects=st.lists(_NAMES, min_size=1, max_size=3), tag=_NAMES)
def test_names_with_separators_survive_a_flat_round_trip(tmp_path_factory, claimant, subjects, tag):
    """export --flat -> import -> export --flat gives the same bytes, whatever the names hold;
    a name with a line break is refused whole (a name is one line), never half-stored."""
    from tracker.db import open_database
    from tracker.errors import InvalidInput
    from tracker.services.claims import add_claim
    from tracker.services.flat import Reader
    from tracker.services.identity import allow_new
    from tracker.services.importer import import_flat

    folder = tmp_path_factory.mktemp("names")
    first, second = str(folder / "a.db"), str(folder / "b.db")
    database = open_database(first)
    try:
        with database.session() as s:
            allow_new(s)
            add_claim(
                s,
                'Line one\nline two; with, "quotes"',
                by=claimant,
                about=subjects,
                tags=[tag],
                quote="a\\b;c",
            )
    except InvalidInput as exc:
        names = [claimant, *subjects, tag]
        assert any("\n" in n or not n.strip() for n in names), exc
        return
    finally:
        database.close()
    exported = _flat_export(first)
    database = open_database(second)
    with database.session() as s:
        allow_new(s)
        import_flat(s, Reader(io.BytesIO(exported), "flat.csv", "csv"), name="flat.csv")
    database.close()
    assert _flat_export(second) == exported
    row = next(csv.DictReader(io.StringIO(exported.decode("utf-8"))))
    assert {name_key(n) for n in split_list(row["about"])} == {name_key(n) for n in subjects}
    assert split_list(row["tags"]) == [" ".join(tag.split()).casefold().replace(" ", "-")]


def test_an_actor_or_source_edit_that_changes_nothing_says_so(cli, seeded, db_url) -> None:
    before = dump(db_url)
    assert cli("actor", "edit", "China", "--kind", "government").stderr == (
        "actor #2: nothing to change\n"
    )
    assert cli("source", "edit", "1", "--reliability", "b").stderr == (
        "source #1: nothing to change\n"
    )
    assert dump(db_url) == before
