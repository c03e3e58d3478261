"""The chaos soak (bench/soak.py), run briefly so its own logic is tested: under kills nothing
acknowledged is lost, and a loss behind the tracker's back is caught."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).parent.parent / "bench" / "soak.py"


def _soak(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SOAK), *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_short_soak_with_kills_loses_nothing(backend: str) -> None:
    extra = []
    if backend == "postgresql":
        url = os.environ.get("TRACKER_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("PostgreSQL tests need TRACKER_TEST_POSTGRES_URL")
        extra = ["--postgres-url", url]
    result = _soak(
        "--seconds", "5", "--backend", backend, "--kill-every", "0.7", "--seed", "7", *extra
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "losses: 0, unexpected errors: 0" in result.stdout
    kills = next(line for line in result.stdout.splitlines() if line.strip().startswith("kills"))
    assert int(kills.split()[-1]) >= 3, result.stdout
    assert "acknowledged claims checked: 0" not in result.stdout


@pytest.mark.slow
def test_the_soak_notices_a_lost_claim() -> None:
    result = _soak("--seconds", "3", "--backend", "sqlite", "--kill-every", "100", "--inject-loss")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "LOSS: acknowledged claim #" in result.stdout and "is missing" in result.stdout
    assert "losses: 1," in result.stdout
