"""What only a terminal shows: prompts for a new claim, and shell completion of names."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
from helpers import APT1_REPORT

TRACKER = str(Path(sys.executable).parent / "tracker")


def _env(db: Path | str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": str(db), "TERM": "dumb", "NO_COLOR": "1"}


def test_claim_add_prompts_on_a_terminal(cli, seeded, db_url) -> None:
    child = pexpect.spawn(TRACKER, ["claim", "add"], env=_env(db_url), encoding="utf-8", timeout=20)
    child.expect("Claim text")
    child.sendline("Online attacks have supplanted terrorism as the top security threat")
    child.expect("known: .*Mandiant")  # known names are offered
    child.expect("Claimant")
    child.sendline("")  # required: asked again
    child.expect("Claimant is required")
    child.sendline("US intelligence leaders")
    child.expect("Sources")
    child.sendline(APT1_REPORT)
    child.expect("quote")
    child.sendline("")
    child.expect("About")
    child.sendline("United States")
    child.expect("Date stated")
    child.sendline("2013-03")
    for prompt in ("Tags", "Credibility", "Note"):
        child.expect(prompt)
        child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    shown = json.loads(cli("claim", "show", "4", "-f", "json").stdout)
    assert shown["claimant"]["name"] == "US intelligence leaders"
    assert [a["name"] for a in shown["about"]] == ["United States"]
    assert shown["stated"] == "2013-03"
    assert shown["sources"][0]["title"] == APT1_REPORT


def test_no_prompt_without_a_terminal(cli, db_path) -> None:
    result = subprocess.run(
        [TRACKER, "claim", "add", "--by", "Mandiant"],
        env=_env(db_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "TEXT" in result.stderr
    assert not db_path.exists() or "claims: 0" in cli("db", "status").stdout


def _complete(words: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [TRACKER],
        env={
            **env,
            "_TRACKER_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        },
        capture_output=True,
        text=True,
        timeout=20,
    )
    return result.stdout.split()


def test_completion_offers_names_from_the_database(cli, seeded, backend, db_url) -> None:
    before = Path(db_url).stat().st_mtime_ns if backend == "sqlite" else None
    assert "Mandiant" in _complete("tracker claim add --by Man", _env(db_url))
    assert "Comment" in " ".join(_complete("tracker report actor Com", _env(db_url)))
    assert "APT1:" in " ".join(_complete("tracker source show APT", _env(db_url)))
    if before is not None:
        assert Path(db_url).stat().st_mtime_ns == before  # read, never written


def test_completion_never_creates_a_database(tmp_path) -> None:
    missing = tmp_path / "none.db"
    assert _complete("tracker claim add --by Man", _env(missing)) == []
    assert "claim" in _complete("tracker cl", _env(missing))
    assert not missing.exists()


def test_install_completion_touches_no_database(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    db = tmp_path / "never.db"
    env = {**_env(db), "HOME": str(home), "SHELL": "/bin/bash"}
    result = subprocess.run(
        [TRACKER, "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    assert "_TRACKER_COMPLETE" in "".join(p.read_text() for p in home.rglob("*") if p.is_file())
    assert not db.exists()
