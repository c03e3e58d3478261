"""Hostile input and hostile conditions: nothing harmful gets in, nothing is lost or half-done."""

import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import MANDIANT_CLAIM, Run, dump, record_seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.db import open_database

TRACKER = str(Path(sys.executable).parent / "tracker")

HOSTILE = [
    "'; DROP TABLE claim; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM actor;--",
    "NEAR(espionage terabytes)",
    "terabytes*",
    "-china",
    "text:china",
    "100%",
    "a_b",
    '"unbalanced',
    "(parenthesis",
    "AND OR NOT",
    "{curly} [square] ^caret",
]


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_text_is_stored_and_searched_literally(cli, seeded, evil) -> None:
    name = evil.replace(";", ",")  # `;` separates lists in the flat format: refused in names
    # Options first, then `--`: a value may start with "-", as "-china" does.
    claim = cli(
        "claim",
        "add",
        "--by",
        f"Actor {name}",
        "--source",
        f"Source {evil}",
        "--about",
        f"Subject {name}",
        "--tag",
        "tag" + name,
        f"--note={evil}",
        f"--quote={evil}",
        "--new",  # "Actor -china" resembles "China": a different actor
        "--",
        f"{evil} stands here",
    ).stdout.strip()
    shown = json.loads(cli("claim", "show", claim, "-f", "json").stdout)
    assert shown["text"] == f"{evil} stands here"
    assert shown["claimant"]["name"] == f"Actor {name}"
    assert shown["quote"] == evil
    assert (
        json.loads(cli("actor", "show", f"Actor {name}", "-f", "json").stdout)["name"]
        == f"Actor {name}"
    )
    listed = json.loads(cli("claim", "list", "--by", f"Actor {name}", "-f", "json").stdout)
    assert [c["id"] for c in listed] == [int(claim)]
    result = cli("search", "-f", "json", "--", evil, ok=False)
    if any(ch.isalnum() for ch in evil):
        assert result.exit_code == 0, result.stderr
        hits = {h["id"] for h in json.loads(result.stdout)}
        # Literal AND of the words, each matching as a prefix: exactly the claims holding a
        # word starting with each of them, never "all".
        words = re.findall(r"[^\W_]+", evil.lower())
        everything = json.loads(cli("claim", "list", "-f", "json").stdout)
        expected = {
            c["id"]
            for c in everything
            if all(
                re.search(
                    rf"(?<![^\W_]){re.escape(w)}",
                    " ".join(str(c[k] or "") for k in ("text", "quote", "note"))
                    .lower()
                    .replace("_", " "),
                )
                for w in words
            )
        }
        assert hits == expected
    else:
        assert result.exit_code == 65
    # every table is still there, and the seed is intact
    assert (
        json.loads(cli("claim", "show", str(seeded["mandiant"]), "-f", "json").stdout)["text"]
        == MANDIANT_CLAIM
    )
    assert cli("db", "check").stdout.strip() == "ok"


def test_csv_export_neutralizes_formulas_everywhere(cli, tmp_path) -> None:
    for evil in ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]:
        cli("claim", "add", "--by", "Mandiant", f"--note={evil}", "--", f"{evil} claim")
    out = tmp_path / "report.csv"
    cli("export", "claims", "-o", str(out))

    with open(out, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            for key in ("text", "note"):
                assert not row[key].startswith(("=", "+", "-", "@", "\t", "\r")), row[key]
    raw = tmp_path / "raw.csv"
    cli("export", "claims", "-o", str(raw), "--raw")
    assert raw.read_bytes().split(b"\r\n")[1].startswith(b'1,"=HYPERLINK')


def test_read_only_database(cli, seeded, db_path, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_DB", f"sqlite:///file:{db_path}?mode=ro&uri=true")
    before = dump(open_database(str(db_path)))
    assert "Mandiant" in cli("claim", "list").stdout  # reading works
    result = cli("claim", "add", "Blocked", "--by", "China", ok=False)
    assert result.exit_code == 74
    assert result.stderr.startswith("Error: ") and "the database is read-only" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert dump(open_database(str(db_path))) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file(cli, seeded, db_path) -> None:
    db_path.chmod(0o444)
    try:
        result = cli("claim", "add", "Blocked", "--by", "China", ok=False)
        assert result.exit_code == 74
    finally:
        db_path.chmod(0o644)


def test_full_disk(cli, seeded) -> None:
    result = cli("export", "claims", "-o", "/dev/full", ok=False)
    assert result.exit_code == 74
    assert result.stderr == "Error: cannot read or write '/dev/full': No space left on device\n"


def test_closed_pipe_is_quiet(cli, seeded, db_url) -> None:
    for n in range(40):
        cli("claim", "add", f"Filler claim number {n}", "--by", "Mandiant")
    for command in ("claim list", "export claims -f jsonl", "claim list -f csv"):
        result = subprocess.run(
            f"{TRACKER} {command} | head -c 20",
            shell=True,
            capture_output=True,
            text=True,
            env={**os.environ, "TRACKER_DB": db_url},
            timeout=60,
        )
        assert result.returncode == 0
        assert result.stderr == "", result.stderr
        assert len(result.stdout) == 20


@pytest.mark.slow
def test_kill_during_a_large_import_leaves_the_database_as_it_was(
    cli, seeded, db_path, tmp_path
) -> None:
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8") as f:
        f.write("text,claimant,about,source\n")
        for i in range(150_000):
            f.write(
                f"Claim number {i} about things,Claimant {i % 50},Subject {i % 7},Source {i % 30}\n"
            )
    before = dump(open_database(str(db_path)))
    child = subprocess.Popen(
        [TRACKER, "import", "claims", str(big)],
        env={**os.environ, "TRACKER_DB": str(db_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wal = Path(f"{db_path}-wal")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 1_000_000):
        assert child.poll() is None, "the import ended before it could be interrupted"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert dump(open_database(str(db_path))) == before
    assert cli("db", "check").stdout.strip() == "ok"


_SEED_FILE = (
    b"text,claimant,quote,stated,about,tags,verdict,note,credibility,source,source_url\r\n"
    b'PLA hacked firms,Mandiant,"a ""quote""",2013-02,APT1;China,cyber,false,n,2,APT1 report,https://x.test/a\r\n'
    b"China denies it,China,,2013,PLA Unit 61398,,,,,Globe,\r\n"
)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        action = rng.choice(["flip", "insert", "delete", "truncate", "swap", "dup"])
        at = rng.randrange(len(out) or 1)
        if action == "flip" and out:
            out[at] = rng.randrange(256)
        elif action == "insert":
            out[at:at] = bytes(
                rng.choice([0, 10, 13, 34, 44, 59, 0xC3, 0xFF, 0xEF, 0x22])
                for _ in range(rng.randint(1, 3))
            )
        elif action == "delete" and out:
            del out[at : at + rng.randint(1, 5)]
        elif action == "truncate":
            del out[at:]
        elif action == "swap":
            lines = bytes(out).split(b"\r\n")
            head = lines[0].split(b",")
            rng.shuffle(head)
            out = bytearray(b"\r\n".join([b",".join(head), *lines[1:]]))
        elif action == "dup":
            out += out[at : at + 40]
    return bytes(out)


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed recorded once; each fuzz example starts from a copy."""
    path = tmp_path_factory.mktemp("template") / "seed.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACKER_DB", str(path))
        record_seed(Run())
    return path


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_fuzzed_files_import_whole_or_not_at_all(
    tmp_path_factory, monkeypatch, seeded_template, seed
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "f.db"
    shutil.copy(seeded_template, db)
    monkeypatch.setenv("TRACKER_DB", str(db))
    cli = Run()
    before = dump(open_database(str(db)))
    path = folder / "mutated.csv"
    path.write_bytes(_mutate(_SEED_FILE, random.Random(seed)))
    result = cli("import", "claims", str(path), ok=False)
    assert result.exit_code in (0, 1, 2, 65), (result.exception, result.stderr)
    if result.exit_code != 0:
        assert result.stderr.startswith("Error: "), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert dump(open_database(str(db))) == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
