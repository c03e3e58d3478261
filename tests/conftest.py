"""Shared fixtures: every test gets its own database file (never the user's), a CLI runner that
points at it, and the seed article's claims when asked for."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.db import Database, open_database

SEED = Path(__file__).parent.parent.parent / "shared" / "seed-article.txt"

MANDIANT_CLAIM = (
    "A unit of China's People's Liberation Army stole hundreds of terabytes of data from at "
    "least 141 organizations, mostly in the United States"
)
DONILON_QUOTE = (
    "The international community cannot afford to tolerate such activity from any country"
)
CHINA_DENIAL = "The Chinese state is not behind online espionage; China is also a victim"
APT1_REPORT = "APT1: Exposing One of China's Cyber Espionage Units"
GLOBE_ARTICLE = "Obama raises hacking concerns with China's Xi"
GLOBE_URL = (
    "https://www.theglobeandmail.com/news/world/obama-raises-hacking-concerns/article9745383/"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user data folder and terminal settings."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("TRACKER_USER", "tester")
    monkeypatch.delenv("TRACKER_DEBUG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tracker.db"
    monkeypatch.setenv("TRACKER_DB", str(path))
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(str(db_path))
    yield database
    database.close()


class Run:
    """Invoke the CLI in-process; stdout and stderr are kept apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Any:
        result = self.runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result


@pytest.fixture
def cli(db_path: Path) -> Run:
    return Run()


def record_seed(cli: Callable[..., Any]) -> dict[str, int]:
    """The seed article (../shared/seed-article.txt) recorded as the README's quick start does."""
    ids: dict[str, int] = {}

    def run(*args: str) -> int:
        return int(cli(*args).stdout.strip())

    run("actor", "add", "Mandiant", "--kind", "company")
    run("actor", "add", "China", "--kind", "government")
    run(
        "actor",
        "add",
        "PLA Unit 61398",
        "--kind",
        "group",
        "--alias",
        "APT1",
        "--alias",
        "Comment Crew",
    )
    run(
        "actor",
        "add",
        "Tom Donilon",
        "--kind",
        "person",
        "--description",
        "White House national security adviser",
    )
    ids["report"] = run(
        "source",
        "add",
        APT1_REPORT,
        "--publisher",
        "Mandiant",
        "--kind",
        "report",
        "--date",
        "2013-02-19",
        "--reliability",
        "B",
    )
    ids["article"] = run(
        "source",
        "add",
        GLOBE_ARTICLE,
        "--publisher",
        "The Globe and Mail",
        "--kind",
        "article",
        "--date",
        "2013-03",
        "--url",
        GLOBE_URL,
        "--cites",
        APT1_REPORT,
    )
    ids["mandiant"] = run(
        "claim",
        "add",
        MANDIANT_CLAIM,
        "--by",
        "Mandiant",
        "--source",
        APT1_REPORT,
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "APT1",
        "--date",
        "2013-02-19",
        "--tag",
        "cyber-espionage",
    )
    ids["donilon"] = run(
        "claim",
        "add",
        "The international community cannot tolerate such activity from any country",
        "--by",
        "Tom Donilon",
        "--quote",
        DONILON_QUOTE,
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "China",
        "--date",
        "2013-03",
    )
    ids["denial"] = run(
        "claim",
        "add",
        CHINA_DENIAL,
        "--by",
        "China",
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "PLA Unit 61398",
        "--about",
        "China",
        "--date",
        "2013-03",
    )
    cli("claim", "link", str(ids["denial"]), "disputes", str(ids["mandiant"]))
    return ids


@pytest.fixture
def seeded(cli: Run) -> dict[str, int]:
    return record_seed(cli)


def table_counts(database: Database) -> dict[str, int]:
    """Rows per table: the fingerprint that must not change when a command fails."""
    from sqlalchemy import func, select

    from tracker.models import Base

    with database.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


def dump(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to prove nothing changed at all."""
    from sqlalchemy import select

    from tracker.models import Base

    with database.connect() as conn:
        return {
            name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in Base.metadata.tables.items()
        }
