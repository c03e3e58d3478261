"""Tables for people: they fit the terminal, lists stop at a screenful, pipes get plain lines."""

import csv
import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

TRACKER = str(Path(sys.executable).parent / "tracker")
LONG_WORD = "Supercalifragilisticexpialidocious-circumstantial-evidence-of-everything"
LONG_CLAIM = (
    "The circumstantial evidence gathered across several reports suggests an organised "
    "campaign " + LONG_WORD + " " + " ".join(["proportionate"] * 600)
)


def terminal(db_url: str, *args: str, width: int = 80) -> str:
    """What `tracker ARGS` shows on a terminal `width` columns wide (stdout and stderr)."""
    env = {
        **os.environ,
        "TRACKER_DB": str(db_url),
        "COLUMNS": str(width),
        "LINES": "40",
        "NO_COLOR": "1",
        "TERM": "xterm",
    }
    child = pexpect.spawn(
        TRACKER, list(args), env=env, encoding="utf-8", timeout=30, dimensions=(40, width)
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before.replace("\r\n", "\n")


def _words(*values: object) -> set[str]:
    found: set[str] = set()
    for value in values:
        if isinstance(value, dict):
            found |= _words(*value.keys(), *value.values())
        elif isinstance(value, list):
            # A table shows a list as its items joined with ", ".
            found |= _words(*value, ", ".join(str(v) for v in value))
        elif value is not None:
            found |= set(str(value).split())
    return found


def assert_fits(screen: str, width: int, words: set[str]) -> None:
    """No line is wider than the terminal, and every word shown is whole, or cut with `…`."""
    assert screen.strip()
    for line in screen.splitlines():
        assert len(line) <= width, line
    # What was left out is said on stderr, in words of its own.
    shown = re.sub(r"note: .*?\(--columns chooses\)", "", screen, flags=re.S)
    for line in shown.splitlines():
        for token in line.split():
            if token in words or token == "…" or re.fullmatch(r"[\d,]+", token):
                continue
            assert token.endswith("…"), f"{token!r} is split in {line!r}"
            assert any(w.startswith(token[:-1]) for w in words), f"{token!r} in {line!r}"


@pytest.fixture
def long_claim(cli, seeded) -> int:
    return int(
        cli(
            "claim",
            "add",
            LONG_CLAIM,
            "--by",
            "Tom Donilon",
            "--source",
            "A source with a title long enough to need wrapping in any table at all",
            "--date",
            "2014-11-25",
        ).stdout
    )


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    "command",
    [
        ["claim", "list"],
        ["source", "list"],
        ["actor", "list"],
        ["search", "china"],
        ["search", "chin", "--in", "all"],
        ["claim", "list", "--columns", "id,uid,created_at,updated_at,stated,claimant,text"],
    ],
)
def test_tables_fit_the_terminal_and_split_no_word(cli, long_claim, db_url, width, command) -> None:
    everything = [
        json.loads(cli(kind, "list", "-f", "json").stdout) for kind in ("claim", "actor", "source")
    ]
    searched = json.loads(cli("search", "chin", "--in", "all", "-f", "json").stdout)
    words = _words(everything, searched) | {"Claims", "Actors", "Sources"}
    words |= {f"({n})" for n in range(10)} | {"name", "title"}
    screen = terminal(db_url, *command, width=width)
    assert_fits(screen, width, words)
    # Headers, ids and dates are whole.
    assert any(line.split()[:1] == ["id"] for line in screen.splitlines())
    if command == ["claim", "list"]:
        assert "2014-11-25" in screen and "2013-02-19" in screen
        assert LONG_WORD not in screen  # cut with …, not wrapped across lines
        assert len(screen.splitlines()) < 25  # a 20,000-character claim takes a few lines


def test_no_box_drawing_on_a_terminal(cli, seeded, db_url) -> None:
    screen = terminal(db_url, "claim", "list", width=120)
    assert not set(screen) & set("│┃─━┏┓┗┛╭╮╰╯┼┡┩")
    assert screen.splitlines()[0].split() == [
        "id",
        "claimant",
        "text",
        "stated",
        "verdict",
        "status",
        "sources",
    ]


def test_a_narrow_terminal_leaves_out_columns_and_says_which(cli, seeded, db_url) -> None:
    screen = terminal(db_url, "source", "list", width=80)
    assert "left out to fit 80 columns" in screen
    assert any(line.startswith("2   Obama") for line in screen.splitlines())
    assert "2013-02-19" in screen  # dates whole, never `2014-11-`/`25`
    assert "publisher" in screen  # headers whole, never `publishe`/`r`


def test_piped_tables_are_tab_separated_unpadded_and_escaped(cli, seeded) -> None:
    odd = "first line\nsecond\tcolumn \\ backslash"
    cli("claim", "add", odd, "--by", "China")
    cli("claim", "add", "x" * 10_000, "--by", "China")
    lines = cli("claim", "list", "--columns", "id,claimant,text").stdout.splitlines()
    assert lines[0] == "id\tclaimant\ttext"
    assert (
        lines[1]
        == f"1\tMandiant\t{json.loads(cli('claim', 'show', '1', '-f', 'json').stdout)['text']}"
    )
    assert lines[4] == "4\tChina\tfirst line\\nsecond\\tcolumn \\\\ backslash"
    assert len(lines[3]) < 100  # one long claim pads nothing else
    assert all(line.count("\t") == 2 for line in lines)


def test_piped_lists_are_complete(cli, many) -> None:
    assert len(cli("claim", "list").stdout.splitlines()) == 1 + 63
    assert cli("claim", "list").stderr == ""


@pytest.fixture
def many(cli, seeded, tmp_path) -> int:
    """60 claims more than the seed's 3, imported at once."""
    path = tmp_path / "many.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "claimant", "stated"])
        for n in range(60):
            writer.writerow([f"Claim number {n} about the circumstantial", "Mandiant", "2015"])
    cli("import", "claims", str(path))
    return 63


def test_lists_stop_at_a_screenful_on_a_terminal(cli, many, db_url) -> None:
    screen = terminal(db_url, "claim", "list", "--columns", "id,stated", width=80)
    lines = screen.splitlines()
    assert lines[-1] == "… 13 more: --limit N or --all"
    assert len(lines) == 1 + 50 + 1
    assert lines[50].split() == ["50", "2015"]
    every = terminal(db_url, "claim", "list", "--all", "--columns", "id", width=80)
    assert every.split() == ["id", *map(str, range(1, 64))]
    some = terminal(db_url, "actor", "list", "--limit", "2", width=80)
    assert some.splitlines()[-1] == "… 3 more: --limit N or --all"


def test_limit_is_kept_and_the_rest_counted(cli, many) -> None:
    result = cli("claim", "list", "--limit", "5", "--columns", "id")
    assert result.stdout.split() == ["id", "1", "2", "3", "4", "5"]
    assert result.stderr.strip() == "… 58 more: --limit N or --all"
    as_json = json.loads(cli("claim", "list", "--limit", "5", "-f", "json").stdout)
    assert [c["id"] for c in as_json] == [1, 2, 3, 4, 5]


def test_columns_choose_and_order_what_is_shown(cli, seeded) -> None:
    result = cli("claim", "list", "--columns", "verdict, id,tags", "-f", "csv")
    assert result.stdout.splitlines()[0].lstrip("\ufeff") == "verdict,id,tags"
    rows = json.loads(cli("source", "list", "--columns", "title,id", "-f", "json").stdout)
    assert list(rows[0]) == ["title", "id"]
    assert cli("actor", "list", "--columns", "name").stdout.split("\n")[1] == "China"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["claim", "list", "--columns", "id,nope"], "'nope'"),
        (["claim", "list", "--columns", ","], "no column"),
        (["actor", "list", "--sort", "height"], "'height'"),
        (["source", "list", "--limit", "3", "--all"], "--all"),
        (["claim", "list", "--limit", "0"], "--limit"),
        (["search", "china", "--in", "all", "--sort", "id"], "--in"),
    ],
)
def test_bad_list_options_are_one_line_usage_errors(cli, seeded, db_url, args, named) -> None:
    from helpers import dump

    before = dump(db_url)
    result = cli(*args, ok=False)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and named in result.stderr
    assert dump(db_url) == before


def test_sort_orders_by_any_field(cli, seeded, many) -> None:
    def ids(*args: str) -> list[int]:
        return [r["id"] for r in json.loads(cli(*args, "-f", "json").stdout)]

    assert ids("claim", "list", "--sort", "-id", "--limit", "3") == [63, 62, 61]
    assert ids("claim", "list", "--sort", "stated", "--limit", "3") == [1, 2, 3]
    assert ids("claim", "list", "--sort", "-stated", "--limit", "2") == [4, 5]
    actors = json.loads(cli("actor", "list", "--sort", "-claims_made", "-f", "json").stdout)
    assert actors[0]["name"] == "Mandiant"
    titles = json.loads(cli("source", "list", "--sort", "-published", "-f", "json").stdout)
    assert [t["id"] for t in titles] == [2, 1]  # 2013-03 after 2013-02-19
    table = cli("claim", "list", "--sort", "-id", "--limit", "2", "--columns", "id").stdout
    assert table.split() == ["id", "63", "62"]


def test_a_search_without_match_prints_nothing(cli, seeded) -> None:
    result = cli("search", "zebra")
    assert result.stdout == ""
    assert result.stderr.strip() == "no claims match 'zebra'"
    assert cli("search", "zebra", "--in", "actors").stderr.strip() == "no actors match 'zebra'"
    assert json.loads(cli("search", "zebra", "-f", "json").stdout) == []
