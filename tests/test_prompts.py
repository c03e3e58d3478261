"""Interactive entry that forgives, and progress that shows only on a terminal."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

TRACKER = str(Path(sys.executable).parent / "tracker")


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": str(db_url), "TERM": "dumb", "NO_COLOR": "1"}


def _interruptible() -> None:
    # A run started in the background (nohup, `&`, some CI runners) ignores SIGINT, and children
    # inherit that: a person's terminal delivers Ctrl-C, so the child must take it as one would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(db_url: str, *args: str, term: str = "dumb") -> pexpect.spawn:
    return pexpect.spawn(
        TRACKER,
        list(args),
        env={**_env(db_url), "TERM": term},
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
        preexec_fn=_interruptible,
    )


def _answer(child: pexpect.spawn, *steps: tuple[str, str | None]) -> None:
    for expected, answer in steps:
        child.expect(expected)
        if answer is not None:
            child.sendline(answer)


def _finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return child.before


FIRST = [("Claim text", "North Korea was behind the attack on Sony"), ("Claimant", "Mandiant")]
LAST = [("Sources", ""), ("quote", ""), ("About", "")]


def test_a_bad_answer_is_asked_again_with_the_reason(cli, seeded, db_url) -> None:
    child = _spawn(db_url, "claim", "add")
    _answer(
        child,
        *FIRST,
        *LAST,
        ("Date stated", "2014-13-01"),
        ("no month 13; try again", None),
        ("Date stated", "2014-12-19"),
        ("Tags", "cyber; " + "x" * 150),
        ("the limit is 100; try again", None),
        ("Tags", "cyber; Sony Hack"),
        ("Credibility", "7"),
        ("not a grade.*try again", None),
        ("Credibility", "2"),
        ("Note", "Checked against the FBI statement"),
    )
    _finish(child)
    assert child.exitstatus == 0, child.before
    shown = json.loads(cli("claim", "show", "4", "-f", "json").stdout)
    assert shown["text"] == "North Korea was behind the attack on Sony"
    assert shown["stated"] == "2014-12-19"
    assert shown["tags"] == ["cyber", "sony-hack"]
    assert shown["credibility"] == 2
    assert shown["note"] == "Checked against the FBI statement"


def test_a_name_the_database_refuses_is_asked_for_again(cli, seeded, db_url) -> None:
    child = _spawn(db_url, "claim", "add")
    _answer(
        child,
        ("Claim text", "North Korea was behind the attack on Sony"),
        ("Claimant", "Mandiant Corp"),
        *LAST,
        ("Date stated", "2014-12"),
        ("Tags", ""),
        ("Credibility", ""),
        ("Note", ""),
        ("did you mean 'Mandiant'", None),
        ("Claimant", "Mandiant"),
    )
    _finish(child)
    assert child.exitstatus == 0, child.before
    shown = json.loads(cli("claim", "show", "4", "-f", "json").stdout)
    assert shown["claimant"]["name"] == "Mandiant"
    assert shown["stated"] == "2014-12"  # everything typed before is kept


def test_the_same_name_again_records_a_new_actor(cli, seeded, db_url) -> None:
    child = _spawn(db_url, "claim", "add")
    _answer(
        child,
        ("Claim text", "North Korea was behind the attack on Sony"),
        ("Claimant", "Mandiant Corp"),
        *LAST,
        ("Date stated", ""),
        ("Tags", ""),
        ("Credibility", ""),
        ("Note", ""),
        ("the same name again", None),
        ("Claimant", "Mandiant Corp"),
    )
    _finish(child)
    assert child.exitstatus == 0, child.before
    shown = json.loads(cli("claim", "show", "4", "-f", "json").stdout)
    assert shown["claimant"]["name"] == "Mandiant Corp"


def test_options_given_are_not_asked(cli, seeded, db_url) -> None:
    child = _spawn(db_url, "claim", "add", "--by", "China", "--tag", "denial", "--date", "2013")
    _answer(child, ("Claim text", "China denies it"), *LAST, ("Credibility", ""), ("Note", ""))
    output = _finish(child)
    assert child.exitstatus == 0, output
    assert "Claimant" not in output and "Tags" not in output and "Date stated" not in output
    shown = json.loads(cli("claim", "show", "4", "-f", "json").stdout)
    assert (shown["claimant"]["name"], shown["tags"], shown["stated"]) == (
        "China",
        ["denial"],
        "2013",
    )


@pytest.mark.parametrize(("key", "code"), [("c", 130), ("d", 1)])
@pytest.mark.parametrize("at", ["Claimant", "Note"])
def test_ctrl_c_or_ctrl_d_at_any_prompt_writes_nothing(cli, seeded, db_url, key, code, at) -> None:
    from helpers import dump

    before = dump(db_url)
    child = _spawn(db_url, "claim", "add")
    steps = [
        *FIRST,
        *LAST,
        ("Date stated", "2014"),
        ("Tags", "cyber"),
        ("Credibility", "3"),
        ("Note", None),
    ]
    for expected, answer in steps:
        child.expect(expected)
        if expected == at:
            break
        child.sendline(answer)
    child.sendcontrol(key)
    output = _finish(child)
    assert child.exitstatus == code, output
    messages = [line for line in output.splitlines() if "cancelled" in line]
    assert messages == ["cancelled: nothing was recorded"]
    assert "Traceback" not in output and "Aborted" not in output
    assert dump(db_url) == before


def test_prompts_go_to_stderr_so_stdout_is_the_id(cli, seeded, db_url, tmp_path) -> None:
    out = tmp_path / "id.txt"
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", f"'{TRACKER}' claim add > '{out}'"],
        env=_env(db_url),
        encoding="utf-8",
        timeout=20,
    )
    _answer(
        child, *FIRST, *LAST, ("Date stated", ""), ("Tags", ""), ("Credibility", ""), ("Note", "")
    )
    _finish(child)
    assert child.exitstatus == 0
    assert out.read_text() == "4\n"


# --- progress: on a terminal, and nothing when piped ------------------------------------------


def _claims_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.csv"
    rows = "\n".join(f"Claim {n} on the record,Mandiant" for n in range(3000))
    path.write_text(f"text,claimant\n{rows}\n", encoding="utf-8")
    return path


def _commands(tmp_path: Path) -> list[list[str]]:
    return [
        ["import", "claims", str(_claims_file(tmp_path))],
        ["export", "claims", "-o", str(tmp_path / "out.csv")],
        ["export", "all", str(tmp_path / "dump")],
        ["db", "reindex"],
    ]


def test_long_commands_show_progress_on_a_terminal(backend, db_url, tmp_path) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough for what the terminal shows")
    for args in _commands(tmp_path):
        child = _spawn(db_url, *args, term="xterm")
        output = _finish(child)
        assert child.exitstatus == 0, output
        shown = "search index" if args[0] == "db" else "rows/s"
        assert shown in output and "━" in output, (args, output)
    restored = tmp_path / "restored.db"
    child = _spawn(str(restored), "import", "all", str(tmp_path / "dump"), term="xterm")
    output = _finish(child)
    assert child.exitstatus == 0, output
    assert "rows/s" in output


def test_no_progress_when_piped(backend, db_url, tmp_path) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough for what a pipe gets")
    for args in [
        *_commands(tmp_path),
        ["--db", str(tmp_path / "r.db"), "import", "all", str(tmp_path / "dump")],
    ]:
        result = subprocess.run(
            [TRACKER, *args], env=_env(db_url), capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (args, result.stderr)
        assert "rows/s" not in result.stderr and "\x1b" not in result.stderr, args
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
