"""The documentation tells the truth: the reference is current, the README's quick start runs."""

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MANDIANT_CLAIM

ROOT = Path(__file__).parent.parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "reference", ROOT / "docs" / "generate_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    generated = _generator().reference()
    on_disk = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert on_disk == generated, "docs/cli.md is stale: run python docs/generate_reference.py"


def test_every_command_has_an_example() -> None:
    sections = re.split(r"^## ", _generator().reference(), flags=re.M)[1:]
    leaves = [s for s in sections if "Commands:" not in s]
    assert len(leaves) >= 25
    missing = [s.splitlines()[0] for s in leaves if "Example:" not in s]
    assert not missing


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    assert "docs/quickstart.sh" in blocks[0] and "pip install" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip().split("&& ")[-1] in ci  # CI runs the README's test command


def test_readme_quick_start_matches_the_script() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = (ROOT / "docs" / "quickstart.sh").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", "set "))]
    for line in commands:
        assert line in readme, f"README quick start lacks: {line}"


@pytest.mark.slow
def test_quick_start_script_runs(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TRACKER_DB": str(tmp_path / "quick.db"),
    }
    result = subprocess.run(
        ["bash", str(ROOT / "docs" / "quickstart.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "disputes this: The Chinese state is not behind online espionage" in result.stdout
    assert "<- rests on #1 APT1" in result.stdout
    with open(tmp_path / "claims.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["text"] == MANDIANT_CLAIM
    assert rows[0]["disputed_by"] == "3"
    assert rows[2]["verdict"] == "unverifiable"
