"""Bad input to every command: one `Error: ...` line on stderr naming the bad value, the exit code
the error class carries (2 usage, 65 bad data, 1 unknown or conflicting, 74 unusable database),
nothing on stdout, and the database exactly as it was before."""

import pytest
from helpers import APT1_REPORT, MANDIANT_CLAIM, Run, dump
from sqlalchemy import select

from tracker.db import open_database
from tracker.models import Actor, ActorName, Source

RELIABILITY_ERROR = (
    "is not a grade: use A (completely reliable) .. E (unreliable) or F (cannot be judged)"
)
CREDIBILITY_ERROR = "is not a grade: use 1 (confirmed) .. 5 (improbable) or 6 (cannot be judged)"
DATE_FORMS = "is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"
NEAR_MANDIANT = "no actor 'Mandaint'; did you mean 'Mandiant' (#1)?"
# Where a command would create the name, it says how to insist.
NEW_MANDIANT = NEAR_MANDIANT + " Give --new if it is a different actor"


def refused(cli: Run, db_url: str, *args: str, code: int, input: str | None = None) -> str:
    """Run a command that must fail and change nothing; returns its `Error: ...` line."""
    before = dump(db_url)
    result = cli(*args, input=input, ok=False)
    assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if code != 2:  # our own errors are one line; Click prints usage lines before its error
        assert lines == errors, result.stderr
    assert dump(db_url) == before
    return errors[0]


# Our own errors: the exact message after "Error: ".
DATA_ERRORS = [
    # dates (claims, sources, filters), each form refused
    (
        ["claim", "add", "X", "--by", "China", "--date", "2013-13-01"],
        "date stated '2013-13-01': there is no month 13",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "2013-02-30"],
        "date stated '2013-02-30': February 2013 has no day 30",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "20130219"],
        f"date stated '20130219' {DATE_FORMS}",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "2013-W07"],
        f"date stated '2013-W07' {DATE_FORMS}",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "2013-2-19"],
        f"date stated '2013-2-19' {DATE_FORMS}",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "19 Feb 2013"],
        f"date stated '19 Feb 2013' {DATE_FORMS}",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--date", "0999"],
        "date stated '0999': the year must be between 1000 and 2999",
    ),
    (
        ["claim", "edit", "1", "--date", "2013-02-30"],
        "date stated '2013-02-30': February 2013 has no day 30",
    ),
    (
        ["claim", "edit", "1", "--date", "2012-02-30"],
        "date stated '2012-02-30': February 2012 has no day 30",
    ),
    (
        ["source", "add", "T", "--date", "2013-13-01"],
        "publication date '2013-13-01': there is no month 13",
    ),
    (
        ["source", "add", "T", "--retrieved", "2013-02-30"],
        "retrieved date '2013-02-30': February 2013 has no day 30",
    ),
    (["source", "edit", "1", "--date", "20130219"], f"publication date '20130219' {DATE_FORMS}"),
    (["source", "edit", "1", "--retrieved", "2013-W07"], f"retrieved date '2013-W07' {DATE_FORMS}"),
    (["claim", "list", "--since", "2013-W07"], f"--since '2013-W07' {DATE_FORMS}"),
    (
        ["claim", "list", "--until", "2013-02-30"],
        "--until '2013-02-30': February 2013 has no day 30",
    ),
    (["claim", "list", "--since", "2013-13"], "--since '2013-13': there is no month 13"),
    # empty text and names
    (["claim", "add", "", "--by", "China"], "claim text is empty"),
    (["claim", "add", "   ", "--by", "China"], "claim text is empty"),
    (["claim", "edit", "1", "--text", ""], "claim text is empty"),
    (["claim", "add", "X", "--by", "China", "--tag", " "], "tag is empty"),
    (["actor", "add", ""], "actor name is empty"),
    (["actor", "add", "X", "--alias", "  "], "alias is empty"),
    (["actor", "edit", "China", "--name", " "], "actor name is empty"),
    (["source", "add", ""], "source title is empty"),
    (["source", "add", "T", "--author", ""], "author is empty"),
    (["source", "edit", "1", "--title", "  "], "source title is empty"),
    # control characters and lengths
    (
        ["claim", "add", "a\x00b", "--by", "China"],
        "claim text contains a control character (U+0000) at position 2",
    ),
    (
        ["actor", "add", "Foo\nBar"],
        "actor name contains a control character (U+000A) at position 4",
    ),
    (
        ["claim", "rate", "1", "true", "--by", "Desk\tA"],
        "reviewer contains a control character (U+0009) at position 5",
    ),
    (["actor", "add", "x" * 301], "actor name is 301 characters long; the limit is 300"),
    # grades
    (["source", "add", "T", "--reliability", "Z"], f"reliability 'Z' {RELIABILITY_ERROR}"),
    (["source", "add", "T", "--reliability", "AB"], f"reliability 'AB' {RELIABILITY_ERROR}"),
    (["source", "edit", "1", "--reliability", "Z"], f"reliability 'Z' {RELIABILITY_ERROR}"),
    (
        ["claim", "add", "X", "--by", "China", "--credibility", "7"],
        f"credibility '7' {CREDIBILITY_ERROR}",
    ),
    (
        ["claim", "add", "X", "--by", "China", "--credibility", "0"],
        f"credibility '0' {CREDIBILITY_ERROR}",
    ),
    (["claim", "edit", "1", "--credibility", "7"], f"credibility '7' {CREDIBILITY_ERROR}"),
    (["claim", "edit", "1", "--credibility", "-1"], f"credibility '-1' {CREDIBILITY_ERROR}"),
    (
        ["claim", "add", "X", "--by", "China", "--credibility", "high"],
        f"credibility 'high' {CREDIBILITY_ERROR}",
    ),
    # URLs
    (
        ["source", "add", "T", "--url", "javascript:alert(1)"],
        "URL 'javascript:alert(1)' must start with http:// or https://",
    ),
    (
        ["source", "add", "T", "--url", "file:///etc/passwd"],
        "URL 'file:///etc/passwd' must start with http:// or https://",
    ),
    (
        ["source", "edit", "2", "--url", "JavaScript:alert(1)"],
        "URL 'JavaScript:alert(1)' must start with http:// or https://",
    ),
    (
        ["source", "edit", "2", "--url", "file:///etc/passwd"],
        "URL 'file:///etc/passwd' must start with http:// or https://",
    ),
    (
        ["source", "add", "T", "--url", "//example.com/x"],
        "URL '//example.com/x' must start with http:// or https://",
    ),
    (["source", "add", "T", "--url", "http://"], "URL 'http://' has no host"),
    (
        ["source", "add", "T", "--url", "http://exa mple.com"],
        "URL 'http://exa mple.com' contains whitespace or a control character",
    ),
    (
        ["source", "add", "T", "--url", "https://example.com:99999"],
        "URL 'https://example.com:99999' is malformed: Port out of range 0-65535",
    ),
    # search: no word at all, or a bad limit
    (["search", "%"], "nothing to search for in '%': give at least one word"),
    (["search", ""], "nothing to search for in '': give at least one word"),
    (["search", "*"], "nothing to search for in '*': give at least one word"),
    (["search", '"()"'], "nothing to search for in '\"()\"': give at least one word"),
    (["search", "--", "-"], "nothing to search for in '-': give at least one word"),
    (["search", "___"], "nothing to search for in '___': give at least one word"),
    (["search", "--limit", "0", "terabytes"], "--limit must be at least 1, not 0"),
]


@pytest.mark.parametrize(
    ("args", "message"), DATA_ERRORS, ids=[" ".join(a)[:60] for a, _ in DATA_ERRORS]
)
def test_bad_data_exits_65(cli, seeded, db_url, args, message) -> None:
    assert refused(cli, db_url, *args, code=65) == f"Error: {message}"


LOOKUP_ERRORS = [
    # unknown ids and names
    (["actor", "show", "99"], "no actor with id 99"),
    (["actor", "show", "#99"], "no actor with id #99"),
    (["actor", "show", "Nobody"], "no actor 'Nobody'"),
    (["actor", "edit", "99", "--kind", "person"], "no actor with id 99"),
    (["actor", "merge", "China", "99"], "no actor with id 99"),
    (["actor", "merge", "Nobody", "China"], "no actor 'Nobody'"),
    (["source", "show", "99"], "no source with id 99"),
    (["source", "show", "Nowhere"], "no source 'Nowhere'"),
    (["source", "edit", "99", "--kind", "report"], "no source with id 99"),
    (["source", "add", "T", "--cites", "Nowhere"], "no source 'Nowhere'"),
    (["source", "add", "T", "--cites", "99"], "no source with id 99"),
    (["claim", "show", "99"], "claim '99' does not exist"),
    (["claim", "show", "abc"], "claim 'abc' does not exist"),
    (["claim", "edit", "99", "--text", "X"], "claim '99' does not exist"),
    (["claim", "delete", "99"], "claim '99' does not exist"),
    (["claim", "history", "99"], "claim '99' does not exist"),
    (["claim", "rate", "99", "true"], "claim '99' does not exist"),
    (["claim", "link", "1", "disputes", "99"], "claim '99' does not exist"),
    (["claim", "link", "99", "disputes", "1"], "claim '99' does not exist"),
    (["claim", "unlink", "99", "disputes", "1"], "claim '99' does not exist"),
    (["claim", "list", "--by", "Nobody"], "no actor 'Nobody'"),
    (["claim", "list", "--source", "99"], "no source with id 99"),
    (["report", "actor", "Mandaint"], "no actor 'Mandaint'; did you mean 'Mandiant' (#1)?"),
    (["report", "source", "99"], "no source with id 99"),
    # near misses are refused with a suggestion, never created
    (["claim", "add", "X", "--by", "Mandaint"], NEW_MANDIANT),
    (["claim", "add", "X", "--by", "China", "--about", "Mandaint"], NEW_MANDIANT),
    (["claim", "edit", "1", "--by", "Mandaint"], NEW_MANDIANT),
    (["claim", "edit", "2", "--about", "Mandaint"], NEW_MANDIANT),
    (["source", "add", "T", "--publisher", "Mandaint"], NEW_MANDIANT),
    (["claim", "list", "--by", "Mandaint"], NEAR_MANDIANT),
    (["actor", "show", "Mandaint"], NEAR_MANDIANT),
    (
        [
            "claim",
            "add",
            "X",
            "--by",
            "China",
            "--source",
            "APT1: Exposing One of Chinas Cyber Espionage Units",
        ],
        "no source 'APT1: Exposing One of Chinas Cyber Espionage Units'; did you mean "
        f'"{APT1_REPORT}" (#1)? Give --new if it is a different source',
    ),
    # self-links, duplicate links, missing links
    (
        ["claim", "link", "1", "disputes", "1"],
        "a claim cannot be linked to itself (#1 disputes #1)",
    ),
    (
        ["claim", "link", "2", "supports", "#2"],
        "a claim cannot be linked to itself (#2 supports #2)",
    ),
    (["claim", "link", "3", "disputes", "1"], "claim #3 already disputes #1"),
    (["claim", "link", "#3", "disputes", "#1"], "claim #3 already disputes #1"),
    (["source", "edit", "1", "--cites", "1"], "source #1 cannot cite itself"),
    (
        ["source", "edit", "1", "--cites", "2"],
        "source #2 already rests on #1: that would be a loop",
    ),
    (["source", "edit", "1", "--uncites", "2"], "source #1 does not cite #2"),
    # duplicates and names already taken
    (
        ["claim", "add", MANDIANT_CLAIM, "--by", "Mandiant"],
        "this claimant already made this claim: #1",
    ),
    (
        ["claim", "add", "  " + MANDIANT_CLAIM.upper().replace(" ", "  "), "--by", "mandiant"],
        "this claimant already made this claim: #1",
    ),
    (["actor", "add", "Mandiant"], "the name 'Mandiant' already belongs to actor 'Mandiant' (#1)"),
    (["actor", "add", "MANDIANT"], "the name 'MANDIANT' already belongs to actor 'Mandiant' (#1)"),
    # An alias may be shared, but never be another actor's own name.
    (
        ["actor", "add", "Unit X", "--alias", "mandiant"],
        "the name 'mandiant' already belongs to actor 'Mandiant' (#1)",
    ),
    (
        ["actor", "edit", "China", "--alias", "Tom Donilon"],
        "the name 'Tom Donilon' already belongs to actor 'Tom Donilon' (#4)",
    ),
    (
        ["actor", "edit", "China", "--name", "Tom Donilon"],
        "the name 'Tom Donilon' already belongs to actor 'Tom Donilon' (#4)",
    ),
    (["actor", "merge", "China", "China"], "cannot merge actor 'China' (#2) into itself"),
    (
        ["actor", "merge", "APT1", "Comment Crew"],
        "cannot merge actor 'PLA Unit 61398' (#3) into itself",
    ),
    # removing what is not there
    (["actor", "edit", "China", "--remove-alias", "Nope"], "actor 'China' has no alias 'Nope'"),
    (["actor", "edit", "China", "--remove-alias", "China"], "actor 'China' has no alias 'China'"),
    (["claim", "edit", "1", "--remove-tag", "nope"], "claim #1 has no tag 'nope'"),
    (["claim", "edit", "1", "--remove-about", "China"], "claim #1 is not about 'China'"),
    (["claim", "edit", "2", "--remove-source", "1"], "claim #2 does not appear in source #1"),
    # refused while linked
    (
        ["claim", "delete", "1"],
        "claim #1 is linked from other claims (#3 disputes); unlink them or use --force",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), LOOKUP_ERRORS, ids=[" ".join(a)[:60] for a, _ in LOOKUP_ERRORS]
)
def test_unknown_ambiguous_or_conflicting_exits_1(cli, seeded, db_url, args, message) -> None:
    assert refused(cli, db_url, *args, code=1) == f"Error: {message}"


def test_a_near_miss_never_becomes_an_actor(cli, seeded, db_url) -> None:
    line = refused(cli, db_url, "claim", "add", "Typo", "--by", "Mandaint", code=1)
    assert line.endswith("did you mean 'Mandiant' (#1)? Give --new if it is a different actor")
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.scalar(select(ActorName).where(ActorName.key == "mandaint")) is None
        assert len(s.scalars(select(Actor)).all()) == 5
    database.close()
    # A name that is not close to any other is created on the fly, as documented.
    cli("claim", "add", "Typo", "--by", "Someone New")
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.scalar(select(Actor.name).where(Actor.name == "Someone New")) == "Someone New"
    database.close()


AMBIGUOUS = (
    "Error: source 'Duplicate title' is ambiguous: it matches #3 'Duplicate title' (no "
    "publisher, 2012); #4 'duplicate Title' (no publisher, undated). Use the id."
)


@pytest.mark.parametrize(
    "args",
    [
        ["source", "show", "Duplicate title"],
        ["source", "edit", "Duplicate title", "--kind", "report"],
        ["source", "add", "Another", "--cites", "Duplicate title"],
        ["source", "edit", "1", "--uncites", "Duplicate title"],
        ["claim", "add", "X", "--by", "China", "--source", "Duplicate title"],
        ["claim", "edit", "1", "--source", "Duplicate title"],
        ["claim", "list", "--source", "Duplicate title"],
        ["export", "claims", "--source", "Duplicate title", "-o", "out.csv"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_ambiguous_source_titles_list_the_candidates(
    cli, seeded, db_url, tmp_path, monkeypatch, args
) -> None:
    monkeypatch.chdir(tmp_path)
    cli("source", "add", "Duplicate title", "--date", "2012")
    # The same title once case and spacing are ignored: a second one needs --new (or a URL).
    cli("source", "add", "duplicate  Title", "--new")
    assert refused(cli, db_url, *args, code=1) == AMBIGUOUS
    # The id always works.
    assert "#3 Duplicate title" in cli("source", "show", "3").stdout


USAGE_ERRORS = [
    (["claim", "rate", "1", "bogus"], "invalid value for 'verdict': 'bogus' is not one of"),
    (["claim", "rate", "1"], "missing argument 'verdict'"),
    (["claim", "list", "--verdict", "bogus"], "invalid value for '--verdict': 'bogus'"),
    (["claim", "list", "--status", "done"], "invalid value for '--status': 'done'"),
    (["claim", "edit", "1", "--status", "done"], "invalid value for '--status': 'done'"),
    (["export", "claims", "--verdict", "wrong"], "invalid value for '--verdict': 'wrong'"),
    (["claim", "link", "1", "contradicts", "3"], "invalid value for 'relation': 'contradicts'"),
    (["claim", "unlink", "3", "contradicts", "1"], "invalid value for 'relation': 'contradicts'"),
    (["claim", "link", "1", "disputes"], "missing argument 'other'"),
    (["claim", "show"], "missing argument 'claim'"),
    (["claim", "add", "X"], "invalid value for '--by': say who made the claim"),
    (["claim", "list", "--format", "xml"], "invalid value for '--format'"),
    (["actor", "add", "X", "--kind", "alien"], "invalid value for '--kind': 'alien'"),
    (["actor", "show"], "missing argument 'actor'"),
    (["actor", "merge", "China"], "missing argument 'other'"),
    (["source", "add", "T", "--kind", "blog"], "invalid value for '--kind': 'blog'"),
    (["source", "add"], "missing argument 'title'"),
    (["search"], "missing argument 'text'"),
    (["export", "claims", "--format", "ods"], "invalid value for '--format'"),
    (["actor", "list", "-f", "xml"], "invalid value for '--format' / '-f': 'xml'"),
    (["actor", "show", "China", "-f", "xml"], "invalid value for '--format' / '-f': 'xml'"),
    (["source", "list", "--format", "yaml"], "invalid value for '--format' / '-f': 'yaml'"),
    (["source", "show", "1", "--format", "yaml"], "invalid value for '--format' / '-f': 'yaml'"),
    (["claim", "show", "1", "-f", "yaml"], "invalid value for '--format' / '-f': 'yaml'"),
    (["claim", "history", "1", "-f", "tsv"], "invalid value for '--format' / '-f': 'tsv'"),
    (["search", "china", "-f", "xml"], "invalid value for '--format' / '-f': 'xml'"),
    (["search", "china", "--limit", "many"], "'many' is not a valid"),
    (["claim", "list", "--limit", "all"], "'all' is not a valid"),
    (["claim", "frobnicate"], "no such command 'frobnicate'"),
]


_LEAKS = "BUG: rows are written before the filters are checked, so a failing command prints"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ["claim", "list", "--since", "2013-13", "-f", "csv"],
            65,
            "--since '2013-13': there is no month 13",
        ),
        pytest.param(
            ["claim", "list", "--by", "Nobody", "-f", "json"],
            1,
            "no actor 'Nobody'",
        ),
        pytest.param(
            ["export", "claims", "--since", "20130219"],
            65,
            f"--since '20130219' {DATE_FORMS}",
        ),
        pytest.param(
            ["export", "claims", "--about", "Nobody", "-f", "json"],
            1,
            "no actor 'Nobody'",
        ),
        (
            ["claim", "list", "--until", "2013-02-30", "-f", "jsonl"],
            65,
            "--until '2013-02-30': February 2013 has no day 30",
        ),
        (["claim", "list", "--by", "Nobody", "-f", "table"], 1, "no actor 'Nobody'"),
        (["export", "claims", "--by", "Mandaint", "-o", "out.csv"], 1, NEAR_MANDIANT),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_bad_filter_prints_no_data(
    cli, seeded, db_url, tmp_path, monkeypatch, args, code, message
) -> None:
    monkeypatch.chdir(tmp_path)
    assert refused(cli, db_url, *args, code=code) == f"Error: {message}"
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize(
    "args",
    [
        ["claim", "edit", "2", "--text", MANDIANT_CLAIM, "--by", "Mandiant"],
        ["claim", "edit", "4", "--text", MANDIANT_CLAIM.lower()],
        ["claim", "edit", "5", "--by", "Mandiant"],
    ],
    ids=["text-and-claimant", "text", "claimant"],
)
def test_editing_into_a_duplicate_claim(cli, seeded, db_url, args) -> None:
    cli("claim", "add", "Another claim", "--by", "Mandiant")  # #4
    cli("claim", "add", MANDIANT_CLAIM, "--by", "China")  # #5: same words, another claimant
    line = refused(cli, db_url, *args, code=1)
    assert line == "Error: this claimant already made this claim: #1"


@pytest.mark.parametrize(
    ("args", "fragment"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS]
)
def test_usage_errors_exit_2(cli, seeded, db_url, args, fragment) -> None:
    line = refused(cli, db_url, *args, code=2)
    assert fragment in line.lower(), line


@pytest.mark.parametrize("stdin", [None, "", "The text typed into a pipe\n"])
def test_claim_add_without_text_off_a_terminal_is_a_usage_error(cli, seeded, db_url, stdin) -> None:
    line = refused(cli, db_url, "claim", "add", "--by", "Mandiant", code=2, input=stdin)
    assert line == "Error: Invalid value for TEXT: give the claim TEXT (prompts only on a terminal)"


def test_a_failure_late_in_a_command_rolls_back_what_it_created(cli, seeded, db_url) -> None:
    # The new source and the new actor are created before the tag is found bad: all undone.
    refused(
        cli,
        db_url,
        "claim",
        "add",
        "Fresh claim",
        "--by",
        "Brand New Claimant",
        "--source",
        "Brand New Source",
        "--about",
        "Brand New Subject",
        "--tag",
        "",
        code=65,
    )
    refused(
        cli,
        db_url,
        "source",
        "add",
        "Citing",
        "--publisher",
        "New House",
        "--cites",
        "Nope",
        code=1,
    )
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert s.scalar(select(Source).where(Source.title == "Brand New Source")) is None
        assert s.scalar(select(Actor).where(Actor.name.like("Brand New%"))) is None
        assert s.scalar(select(Actor).where(Actor.name == "New House")) is None
    database.close()


def test_errors_on_an_empty_database_change_nothing(cli, db_url) -> None:
    refused(cli, db_url, "claim", "add", "X", "--by", "China", "--date", "2013-02-30", code=65)
    refused(cli, db_url, "claim", "show", "1", code=1)
    refused(cli, db_url, "claim", "add", "--by", "China", code=2)
    assert all(rows == [] for rows in dump(db_url).values())


# --- an unusable database: exit 74, nothing created or changed -------------------------------
# Database files given by path are SQLite's: these run once, on the SQLite parameter.
sqlite_file = pytest.mark.usefixtures("db_path")


@sqlite_file
def test_database_in_a_missing_folder(cli, tmp_path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "tracker.db"
    result = cli("--db", str(target), "claim", "add", "X", "--by", "China", ok=False)
    assert result.exit_code == 74
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: cannot open database {str(target)!r}: folder {str(target.parent)!r} "
        "does not exist\n"
    )
    assert not (tmp_path / "no").exists()


@sqlite_file
def test_database_path_under_a_file(cli, tmp_path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder\n")
    target = plain / "tracker.db"
    result = cli("--db", str(target), "actor", "list", ok=False)
    assert result.exit_code == 74
    assert result.stderr.startswith(f"Error: cannot open database {str(target)!r}")
    assert len(result.stderr.splitlines()) == 1
    assert plain.read_text() == "not a folder\n"


@sqlite_file
def test_database_path_is_a_folder(cli, tmp_path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    result = cli("--db", str(folder), "actor", "add", "X", ok=False)
    assert result.exit_code == 74
    assert result.stdout == ""
    assert result.stderr == f"Error: cannot open database {str(folder)!r}: it is a folder\n"
    assert list(folder.iterdir()) == []


@sqlite_file
def test_database_file_is_not_a_database(cli, tmp_path, monkeypatch) -> None:
    garbage = tmp_path / "notes.db"
    content = b"These are my notes, not a database. " * 20
    garbage.write_bytes(content)
    monkeypatch.setenv("TRACKER_DB", str(garbage))  # the environment variable, not --db
    result = cli("claim", "add", "X", "--by", "China", ok=False)
    assert result.exit_code == 74
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: cannot open database {str(garbage)!r}: it is not a SQLite database "
        "(file is not a database)\n"
    )
    assert garbage.read_bytes() == content
    assert not [p for p in tmp_path.glob("notes.db-*") if p.stat().st_size]


def test_database_url_without_a_driver(cli) -> None:
    result = cli("--db", "nosuchdb://host/base", "actor", "list", ok=False)
    assert result.exit_code == 74
    assert result.stderr.startswith("Error: unsupported database 'nosuchdb'")
