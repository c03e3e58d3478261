"""Data entry as people do it: claim text from stdin or a file, edits that change nothing,
history in sentences, link notes, the reviewer's name, filters that combine either way, and
`--db` after the command. Each checked through the CLI and in the reopened database."""

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import author, dump, history_rows, reopened
from sqlalchemy import select
from typer.main import get_command

from tracker.cli import app
from tracker.models import Claim, ClaimTag, Link, VerdictEntry


def refused(cli: Any, db_url: str, *args: str, code: int, input: Any = None) -> str:
    """Run a command that must fail and change nothing; returns its one `Error: ...` line."""
    before = dump(db_url)
    result = cli(*args, input=input, ok=False)
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if code != 2:  # Click prints usage lines before its own errors
        assert result.stderr.splitlines() == errors
    assert dump(db_url) == before
    return errors[0]


def listed(cli: Any, *filters: str) -> list[int]:
    return [row["id"] for row in json.loads(cli("claim", "list", *filters, "-f", "json").stdout)]


def claim_text(db_url: str, claim_id: int) -> str:
    with reopened(db_url) as s:
        return s.get(Claim, claim_id).text


def last_line(cli: Any, claim_id: int) -> str:
    return cli("claim", "history", str(claim_id)).stdout.splitlines()[-1]


# --- claim text from stdin or a file -------------------------------------------------------------


def test_add_reads_the_text_from_stdin(cli, seeded, db_url) -> None:
    result = cli("claim", "add", "-", "--by", "China", input="  Unit 61398 is a fiction\n")
    ident = int(result.stdout)
    assert claim_text(db_url, ident) == "Unit 61398 is a fiction"
    assert history_rows(db_url, "claim", ident)[0][2]["text"] == "Unit 61398 is a fiction"
    # Only a lone `-` means stdin: text that merely starts with one is the claim itself.
    dashed = int(cli("claim", "add", "--by", "China", "--", "- not stdin").stdout)
    assert claim_text(db_url, dashed) == "- not stdin"


def test_add_reads_the_text_from_a_file(cli, seeded, db_url, tmp_path: Path) -> None:
    path = tmp_path / "claim.txt"
    path.write_text("Première ligne\nsecond line\n", encoding="utf-8-sig")  # with a BOM
    ident = int(cli("claim", "add", "--text-file", str(path), "--by", "China").stdout)
    assert claim_text(db_url, ident) == "Première ligne\nsecond line"
    piped = cli("claim", "add", "--text-file", "-", "--by", "Mandiant", input="Piped words")
    assert claim_text(db_url, int(piped.stdout)) == "Piped words"


def test_claim_text_errors_name_the_file(cli, seeded, db_url, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    line = refused(cli, db_url, "claim", "add", "--text-file", missing, "--by", "China", code=74)
    assert line == f"Error: cannot read {missing!r}: No such file or directory"
    line = refused(
        cli, db_url, "claim", "add", "--text-file", str(tmp_path), "-b", "China", code=74
    )
    assert line == f"Error: cannot read {str(tmp_path)!r}: Is a directory"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café".encode("latin-1"))
    line = refused(cli, db_url, "claim", "add", "--text-file", str(latin1), "-b", "China", code=65)
    assert line == f"Error: {str(latin1)!r} is not UTF-8 text (byte 4)"
    line = refused(cli, db_url, "claim", "add", "-", "-b", "China", input=b"\xff\xfe", code=65)
    assert line == "Error: stdin is not UTF-8 text (byte 1)"
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * 40_004)
    line = refused(cli, db_url, "claim", "add", "--text-file", str(huge), "-b", "China", code=65)
    assert line == (
        f"Error: {str(huge)!r} is over 40,003 bytes: a claim's text is at most 10,000 characters"
    )
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"\n")
    line = refused(cli, db_url, "claim", "add", "--text-file", str(empty), "-b", "China", code=65)
    assert line == "Error: claim text is empty"


def test_text_and_text_file_together_is_a_usage_error(cli, seeded, db_url, tmp_path) -> None:
    path = tmp_path / "claim.txt"
    path.write_text("words", encoding="utf-8")
    line = refused(
        cli, db_url, "claim", "add", "Words", "--text-file", str(path), "-b", "China", code=2
    )
    assert line == "Error: Invalid value for TEXT: give TEXT or --text-file, not both"
    line = refused(
        cli, db_url, "claim", "edit", "1", "--text", "W", "--text-file", str(path), code=2
    )
    assert line == "Error: Invalid value for '--text': give '--text' or --text-file, not both"


def test_edit_reads_new_text_from_stdin_or_a_file(cli, seeded, db_url, tmp_path) -> None:
    cli("claim", "edit", "2", "--text", "-", input="Read from a pipe\n")
    assert claim_text(db_url, 2) == "Read from a pipe"
    path = tmp_path / "new.txt"
    path.write_text("Read from a file", encoding="utf-8")
    cli("claim", "edit", "2", "--text-file", str(path))
    assert claim_text(db_url, 2) == "Read from a file"
    assert last_line(cli, 2).endswith(
        f"edited by {author(db_url)}: text: Read from a pipe -> Read from a file"
    )


# --- edits: nothing to change, sentences -----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--status", "unreviewed", "--date", "2013-02-19"],
        ["--tag", "Cyber Espionage", "--source", "#1", "--about", "APT1", "--by", "Mandiant"],
        ["--quote", "", "--note", " "],  # clearing what is already empty
    ],
    ids=["no-options", "same-values", "already-there", "clear-empty"],
)
def test_an_edit_that_changes_nothing_says_so(cli, seeded, db_url, args) -> None:
    before = dump(db_url)
    result = cli("claim", "edit", "1", *args)
    assert (result.stdout, result.stderr) == ("", "claim #1: nothing to change\n")
    assert dump(db_url) == before  # no history entry, no updated_at


def test_removing_two_tags_reads_as_one_sentence(cli, seeded, db_url) -> None:
    cli("claim", "edit", "1", "--tag", "alpha", "--tag", "beta")
    result = cli("claim", "edit", "1", "--remove-tag", "alpha", "--remove-tag", "beta")
    assert result.stderr == "updated claim #1\n"
    assert last_line(cli, 1).endswith(f"edited by {author(db_url)}: tags: -alpha, -beta")
    assert history_rows(db_url, "claim", 1)[-1] == (
        "edited",
        "tester",
        {"tags": {"removed": ["alpha", "beta"]}},
    )
    with reopened(db_url) as s:
        tags = s.scalars(select(ClaimTag.tag).where(ClaimTag.claim_id == 1)).all()
    assert tags == ["cyber-espionage"]


def test_every_kind_of_edit_reads_as_words(cli, seeded, db_url) -> None:
    cli(
        "claim", "edit", "1", "--by", "China", "--quote", "stole data", "--credibility", "2",
        "--about", "China", "--remove-source", "1", "--tag", "us-policy",
    )  # fmt: skip
    assert last_line(cli, 1).endswith(
        f"edited by {author(db_url)}: claimant: Mandiant -> China; quote: none -> stole data; "
        "credibility: none -> 2; sources: -APT1: Exposing One of China's Cyber Espionage Units; "
        "about: +China; tags: +us-policy"
    )
    with reopened(db_url) as s:
        claim = s.get(Claim, 1)
        assert (claim.claimant.name, claim.quote, claim.credibility) == ("China", "stole data", 2)
        assert [a.source_id for a in claim.appearances] == [2]


def test_an_edit_by_uid_names_the_claim_by_its_id(cli, seeded, db_url) -> None:
    with reopened(db_url) as s:
        uid = s.get(Claim, 2).uid
    assert cli("claim", "edit", uid, "--note", "n").stderr == "updated claim #2\n"
    assert cli("claim", "edit", uid, "--note", "n").stderr == "claim #2: nothing to change\n"


# --- ratings and the reviewer ----------------------------------------------------------------


def test_a_rating_reads_as_a_sentence(cli, seeded, db_url) -> None:
    cli("claim", "rate", "2", "mostly-true", "--note", "Checked the video")
    assert last_line(cli, 2).endswith(
        f"rated by {author(db_url)}: verdict: none -> mostly-true; status: unreviewed -> reviewed; "
        "reason: Checked the video; reviewer: tester"
    )
    cli("claim", "rate", "2", "false")
    assert last_line(cli, 2).endswith(
        f"rated by {author(db_url)}: verdict: mostly-true -> false; reviewer: tester"
    )


@pytest.mark.parametrize("source", ["--by", "TRACKER_USER", "login"])
def test_the_reviewer_is_by_else_tracker_user_else_login(
    cli, seeded, db_url, monkeypatch, source
) -> None:
    args = ["claim", "rate", "1", "true"]
    if source == "--by":
        args += ["--by", "  Desk   A "]
        expected = "Desk A"
    elif source == "TRACKER_USER":
        monkeypatch.setenv("TRACKER_USER", "Night desk")
        expected = "Night desk"
    else:
        monkeypatch.setenv("TRACKER_USER", "")
        expected = getpass.getuser()
    cli(*args)
    with reopened(db_url) as s:
        assert s.scalars(select(VerdictEntry.reviewer)).all() == [expected]
    assert history_rows(db_url, "claim", 1)[-1][1] == expected
    assert history_rows(db_url, "claim", 1)[-1][2]["reviewer"] == expected


@pytest.mark.parametrize(
    ("user", "by", "message"),
    [
        ("bad\x07name", None, "TRACKER_USER contains a control character (U+0007) at position 4"),
        ("x" * 301, None, "TRACKER_USER is 301 characters long; the limit is 300"),
        ("tester", "x" * 301, "reviewer is 301 characters long; the limit is 300"),
        ("tester", "Desk\nA", "reviewer contains a control character (U+000A) at position 5"),
        ("tester", " ", "reviewer is empty"),
    ],
    ids=["tracker-user-control", "tracker-user-long", "by-long", "by-newline", "by-empty"],
)
def test_bad_reviewer_names_are_refused(cli, seeded, db_url, monkeypatch, user, by, message):
    monkeypatch.setenv("TRACKER_USER", user)
    args = ["claim", "rate", "1", "true", *(["--by", by] if by is not None else [])]
    assert refused(cli, db_url, *args, code=65) == f"Error: {message}"


def test_a_bad_tracker_user_fails_every_write_the_same_way(cli, seeded, db_url, monkeypatch):
    monkeypatch.setenv("TRACKER_USER", "y" * 301)
    line = refused(cli, db_url, "claim", "add", "New claim", "--by", "China", code=65)
    assert line == "Error: TRACKER_USER is 301 characters long; the limit is 300"
    refused(cli, db_url, "claim", "edit", "1", "--note", "n", code=65)
    assert cli("claim", "list").exit_code == 0  # reading needs no name
    monkeypatch.setenv("TRACKER_USER", "z" * 300)  # the limit itself is fine, on both backends
    cli("claim", "edit", "1", "--note", "n")
    assert history_rows(db_url, "claim", 1)[-1][1] == "z" * 300


# --- links carry their notes -----------------------------------------------------------------


def test_link_notes_show_in_the_dossier_and_the_history(cli, seeded, db_url) -> None:
    cli("claim", "link", "2", "supports", "1", "--note", "same week, same target")
    with reopened(db_url) as s:
        link = s.scalar(select(Link).where(Link.from_id == 2))
        assert link.note == "same week, same target"
    shown = cli("claim", "show", "1").stdout.splitlines()
    assert (
        "  #2 (Tom Donilon) supports this: The international community cannot tolerate such "
        "activity from any country — note: same week, same target"
    ) in shown
    assert any(
        line.startswith("  this supports #1 (Mandiant): ")
        and line.endswith(" — note: same week, same target")
        for line in cli("claim", "show", "2").stdout.splitlines()
    )
    assert last_line(cli, 1).endswith(
        f"linked by {author(db_url)}: #2 supports #1 — note: same week, same target"
    )
    cli("claim", "unlink", "2", "supports", "1")
    assert last_line(cli, 2).endswith(
        f"unlinked by {author(db_url)}: #2 supports #1 — note: same week, same target"
    )


# --- filters: none, AND and OR -----------------------------------------------------------------


def test_verdict_none_lists_unrated_claims(cli, seeded, db_url) -> None:
    cli("claim", "rate", "2", "true")
    with reopened(db_url) as s:
        unrated = s.scalars(
            select(Claim.id).where(Claim.verdict.is_(None)).order_by(Claim.id)
        ).all()
    assert unrated == [1, 3]
    assert listed(cli, "--verdict", "none") == [1, 3]
    assert listed(cli, "--verdict", "none", "--verdict", "true") == [1, 2, 3]
    assert listed(cli, "--verdict", "true") == [2]
    exported = json.loads(cli("export", "claims", "--verdict", "none", "-f", "json").stdout)
    assert [row["id"] for row in exported] == [1, 3]
    flat = json.loads(cli("export", "claims", "--flat", "--verdict", "none", "-f", "json").stdout)
    assert {row["text"] for row in flat} == {claim_text(db_url, 1), claim_text(db_url, 3)}


def test_repeated_filters_all_or_any(cli, seeded, db_url) -> None:
    cli("claim", "edit", "2", "--tag", "x")
    cli("claim", "edit", "3", "--tag", "y")
    with reopened(db_url) as s:
        tagged = s.execute(select(ClaimTag.claim_id, ClaimTag.tag).order_by(ClaimTag.claim_id))
        assert [tuple(r) for r in tagged] == [(1, "cyber-espionage"), (2, "x"), (3, "y")]
    assert listed(cli, "--tag", "x", "--tag", "y") == []
    assert listed(cli, "--any-tag", "x", "--any-tag", "Y") == [2, 3]
    assert listed(cli, "--about", "China", "--about", "APT1") == [3]
    assert listed(cli, "--any-about", "China", "--any-about", "APT1") == [1, 2, 3]
    assert listed(cli, "--source", "1", "--source", "2") == [1]
    assert listed(cli, "--any-source", "1", "--any-source", "2") == [1, 2, 3]
    # Different filters still combine with AND.
    assert listed(cli, "--any-tag", "x", "--any-tag", "y", "--about", "APT1") == [3]
    assert listed(cli, "--any-tag", "x", "--any-tag", "y", "--tag", "y", "--by", "China") == [3]
    exported = json.loads(
        cli("export", "claims", "--any-tag", "x", "--any-tag", "y", "-f", "json").stdout
    )
    assert [row["id"] for row in exported] == [2, 3]
    line = refused(cli, db_url, "claim", "list", "--any-about", "Nobody", code=1)
    assert line.startswith("Error: no actor 'Nobody'")


def test_the_help_says_how_filters_combine(cli, seeded) -> None:
    for command in (["claim", "list"], ["export", "claims"]):
        # Compared without whitespace: the help wraps lines, also after a hyphen.
        text = "".join(cli(*command, "--help").stdout.split())
        for said in (
            "Different filters combine with AND.",
            "A repeated --about, --source or --tag keeps claims matching all of its values",
            "--any-about, --any-source and --any-tag keep claims matching at least one",
            "a repeated --by, --verdict or --status keeps claims matching any of its values",
            "Current verdict, or none for claims not rated yet",
        ):
            assert "".join(said.split()) in text, said


# --- --db after the command ------------------------------------------------------------------


def test_db_after_the_command(cli, seeded, db_url, monkeypatch, tmp_path) -> None:
    decoy = tmp_path / "decoy.db"
    monkeypatch.setenv("TRACKER_DB", str(decoy))
    assert listed(cli, "--db", db_url) == [1, 2, 3]
    ident = int(cli("claim", "add", "Added elsewhere", "--by", "China", "--db", db_url).stdout)
    assert claim_text(db_url, ident) == "Added elsewhere"
    status = cli("db", "status", "--db", db_url).stdout
    assert "claims: 4" in status
    found = json.loads(cli("search", "terabytes", "-f", "json", "--db", db_url).stdout)
    assert [hit["id"] for hit in found] == [1]
    # After the command wins over before it.
    both = cli("--db", str(decoy), "claim", "show", "1", "-f", "json", "--db", db_url).stdout
    assert json.loads(both)["id"] == 1
    assert not decoy.exists()  # never opened, so never created


def test_every_command_takes_db() -> None:
    def leaves(command: Any, path: list[str]) -> Any:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield path, command
            return
        for name, sub in subcommands.items():
            yield from leaves(sub, [*path, name])

    found = list(leaves(get_command(app), []))
    assert len(found) >= 25
    missing = [" ".join(p) for p, c in found if not any("--db" in x.opts for x in c.params)]
    assert missing == []
