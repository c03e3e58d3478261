"""The reference loader for the bulk-import benchmark: the flat claim CSV into a normalized SQLite
database with nothing but the standard library (csv, sqlite3, hashlib, unicodedata).

It is what a competent programmer would write in an afternoon to load the file once, and the
floor `tracker import claims` is measured against. It builds the same tables, keys, indexes,
foreign keys and full-text index (external-content FTS5 kept by triggers, as in
migrations/versions/0001_initial_schema.py) and fills them with the same rows:

- actors (claimants, subjects, publishers) and their names, deduplicated by a normalized key
  (case, accents and spacing folded), with a unique index on the key as in `actor_name`;
- sources, deduplicated by (normalized title, URL), their publishers as actors;
- claims, deduplicated by (claimant, normalized text) through a SHA-256 `text_hash` under the
  same unique (claimant_id, text_hash) constraint; a claim's fields come from its first row;
- appearances in row order (each source once per claim), subjects and tags.

Deduplication is the simple way: Python dicts, ids assigned in Python, rows written with
`executemany` in batches, all in one transaction, with foreign keys enforced and the journal
mode and durability SQLite gives any new database (no `synchronous = OFF` or similar).

What it does not do, and the tracker does: validate each field (dates, verdicts, URLs, lengths,
control characters) and say which line and column is wrong, merge into a database that already
holds claims, log an audit-history entry per claim and a verdict entry per rated claim.

Usage: python bench/reference_load.py FILE.csv NEW.db
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sqlite3
import sys
import time
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BATCH = 10_000  # claims between flushes

SCHEMA = [
    """CREATE TABLE actor (
        id INTEGER PRIMARY KEY,
        uid VARCHAR(36) NOT NULL UNIQUE,
        name VARCHAR(300) NOT NULL,
        kind VARCHAR(20) NOT NULL,
        description TEXT,
        reliability VARCHAR(1),
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL)""",
    """CREATE TABLE actor_name (
        id INTEGER PRIMARY KEY,
        actor_id INTEGER NOT NULL REFERENCES actor (id) ON DELETE CASCADE,
        name VARCHAR(300) NOT NULL,
        "key" VARCHAR(300) NOT NULL UNIQUE,
        is_primary BOOLEAN NOT NULL)""",
    "CREATE INDEX ix_actor_name_actor_id ON actor_name (actor_id)",
    """CREATE TABLE claim (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid VARCHAR(36) NOT NULL UNIQUE,
        text TEXT NOT NULL,
        text_hash VARCHAR(64) NOT NULL,
        quote TEXT,
        claimant_id INTEGER NOT NULL REFERENCES actor (id),
        stated VARCHAR(10),
        note TEXT,
        credibility SMALLINT CHECK (credibility BETWEEN 1 AND 6),
        status VARCHAR(20) NOT NULL,
        verdict VARCHAR(20),
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL,
        UNIQUE (claimant_id, text_hash))""",
    "CREATE INDEX ix_claim_claimant_id ON claim (claimant_id)",
    "CREATE INDEX ix_claim_stated ON claim (stated)",
    "CREATE INDEX ix_claim_status ON claim (status)",
    "CREATE INDEX ix_claim_verdict ON claim (verdict)",
    """CREATE TABLE source (
        id INTEGER PRIMARY KEY,
        uid VARCHAR(36) NOT NULL UNIQUE,
        title VARCHAR(300) NOT NULL,
        title_key VARCHAR(300) NOT NULL,
        kind VARCHAR(20) NOT NULL,
        publisher_id INTEGER REFERENCES actor (id),
        authors JSON NOT NULL,
        url VARCHAR(2000),
        published VARCHAR(10),
        retrieved VARCHAR(10),
        reliability VARCHAR(1),
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL)""",
    "CREATE INDEX ix_source_publisher_id ON source (publisher_id)",
    "CREATE INDEX ix_source_title_key ON source (title_key)",
    "CREATE INDEX ix_source_url ON source (url)",
    """CREATE TABLE appearance (
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        source_id INTEGER NOT NULL REFERENCES source (id),
        position INTEGER NOT NULL,
        PRIMARY KEY (claim_id, source_id))""",
    "CREATE INDEX ix_appearance_source_id ON appearance (source_id)",
    """CREATE TABLE claim_subject (
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        actor_id INTEGER NOT NULL REFERENCES actor (id),
        PRIMARY KEY (claim_id, actor_id))""",
    "CREATE INDEX ix_claim_subject_actor_id ON claim_subject (actor_id)",
    """CREATE TABLE claim_tag (
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        tag VARCHAR(100) NOT NULL,
        PRIMARY KEY (claim_id, tag))""",
    "CREATE INDEX ix_claim_tag_tag ON claim_tag (tag)",
    # The full-text index exactly as the tracker's migrations make it (0006: prefix indexes).
    """CREATE VIRTUAL TABLE claim_fts USING fts5(
        text, quote, note, content='claim', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')""",
    """CREATE TRIGGER claim_fts_insert AFTER INSERT ON claim BEGIN
        INSERT INTO claim_fts(rowid, text, quote, note)
        VALUES (new.id, new.text, new.quote, new.note);
    END""",
    """CREATE TRIGGER claim_fts_delete AFTER DELETE ON claim BEGIN
        INSERT INTO claim_fts(claim_fts, rowid, text, quote, note)
        VALUES ('delete', old.id, old.text, old.quote, old.note);
    END""",
    """CREATE TRIGGER claim_fts_update AFTER UPDATE OF text, quote, note ON claim BEGIN
        INSERT INTO claim_fts(claim_fts, rowid, text, quote, note)
        VALUES ('delete', old.id, old.text, old.quote, old.note);
        INSERT INTO claim_fts(rowid, text, quote, note)
        VALUES (new.id, new.text, new.quote, new.note);
    END""",
]

INSERT = {
    "actor": "INSERT INTO actor (id, uid, name, kind, created_at, updated_at)"
    " VALUES (?, ?, ?, 'other', ?, ?)",
    "actor_name": 'INSERT INTO actor_name (actor_id, name, "key", is_primary) VALUES (?, ?, ?, 1)',
    "source": "INSERT INTO source (id, uid, title, title_key, kind, publisher_id, authors, url,"
    " published, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?)",
    "claim": "INSERT INTO claim (id, uid, text, text_hash, quote, claimant_id, stated, note,"
    " credibility, status, verdict, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "appearance": "INSERT INTO appearance (claim_id, source_id, position) VALUES (?, ?, ?)",
    "claim_subject": "INSERT OR IGNORE INTO claim_subject (claim_id, actor_id) VALUES (?, ?)",
    "claim_tag": "INSERT OR IGNORE INTO claim_tag (claim_id, tag) VALUES (?, ?)",
}

_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """Case, accents and spacing folded: what names and titles are matched by."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", folded)).strip()


def text_hash(text: str) -> str:
    """What makes two claim texts the same claim: Unicode form, case and spacing aside."""
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(key.encode()).hexdigest()


def split_list(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()] if cell else []


@dataclass
class LoadStats:
    rows: int = 0
    claims: int = 0
    actors: int = 0
    sources: int = 0
    appearances: int = 0
    seconds: float = 0.0


class Loader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.at = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        self.pending: dict[str, list[tuple[Any, ...]]] = {table: [] for table in INSERT}
        # spelling -> id, then normalized key -> id: most look-ups hit the first dict.
        self.actor_by_spelling: dict[str, int] = {}
        self.actor_by_key: dict[str, int] = {}
        self.source_by_spelling: dict[tuple[str, str], int] = {}
        self.source_by_key: dict[tuple[str, str], int] = {}
        self.claims: dict[tuple[int, str], int] = {}
        self.next_position: list[int] = [0]  # by claim id
        self.appearances: set[int] = set()  # claim_id << 32 | source_id
        self.stats = LoadStats()

    def actor(self, name: str) -> int:
        found = self.actor_by_spelling.get(name)
        if found is not None:
            return found
        key = name_key(name)
        found = self.actor_by_key.get(key)
        if found is None:
            found = self.actor_by_key[key] = len(self.actor_by_key) + 1
            self.pending["actor"].append((found, str(uuid.uuid4()), name, self.at, self.at))
            self.pending["actor_name"].append((found, name, key))
        self.actor_by_spelling[name] = found
        return found

    def source(self, title: str, url: str, publisher: str, date: str, kind: str) -> int:
        spelling = (title, url)
        found = self.source_by_spelling.get(spelling)
        if found is not None:
            return found
        key = (name_key(title), url)
        found = self.source_by_key.get(key)
        if found is None:
            found = self.source_by_key[key] = len(self.source_by_key) + 1
            self.pending["source"].append(
                (
                    found,
                    str(uuid.uuid4()),
                    title,
                    key[0],
                    kind or "other",
                    self.actor(publisher) if publisher else None,
                    url or None,
                    date or None,
                    self.at,
                    self.at,
                )
            )
        self.source_by_spelling[spelling] = found
        return found

    def row(self, r: list[str]) -> None:
        (text, claimant, quote, stated, about, tags, verdict, note, credibility) = r[:9]
        (source, url, publisher, date, kind) = r[9:14]
        claimant_id = self.actor(claimant)
        digest = text_hash(text)
        claim_id = self.claims.get((claimant_id, digest))
        if claim_id is None:
            claim_id = self.claims[(claimant_id, digest)] = len(self.claims) + 1
            self.next_position.append(0)
            self.pending["claim"].append(
                (
                    claim_id,
                    str(uuid.uuid4()),
                    text,
                    digest,
                    quote or None,
                    claimant_id,
                    stated or None,
                    note or None,
                    int(credibility) if credibility else None,
                    "reviewed" if verdict else "unreviewed",
                    verdict or None,
                    self.at,
                    self.at,
                )
            )
            if len(self.pending["claim"]) >= BATCH:
                self.flush()
        if source or url:
            source_id = self.source(source or url, url, publisher, date, kind)
            pair = claim_id << 32 | source_id
            if pair not in self.appearances:
                self.appearances.add(pair)
                position = self.next_position[claim_id]
                self.next_position[claim_id] = position + 1
                self.pending["appearance"].append((claim_id, source_id, position))
        subjects = self.pending["claim_subject"]
        for name in split_list(about):
            subjects.append((claim_id, self.actor(name)))
        labels = self.pending["claim_tag"]
        for tag in split_list(tags):
            labels.append((claim_id, _SPACES.sub("-", tag.casefold())))

    def flush(self) -> None:
        # Parents before children: the foreign keys are checked row by row.
        for table, sql in INSERT.items():
            rows = self.pending[table]
            if rows:
                self.conn.executemany(sql, rows)
                rows.clear()


def load(
    csv_path: Path, db_path: Path, schema: Sequence[str] = SCHEMA, *, foreign_keys: bool = True
) -> LoadStats:
    """Load the CSV into a new database made by `schema` (lean_load.py gives a leaner one)."""
    started = time.perf_counter()
    if db_path.exists():
        raise FileExistsError(f"{db_path} already exists")
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        conn.execute("BEGIN")
        for statement in schema:
            conn.execute(statement)
        loader = Loader(conn)
        with open(csv_path, encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream)
            header = next(reader)
            if header[:14] != FLAT_COLUMNS:
                raise SystemExit(f"{csv_path}: unexpected header {header}")
            for record in reader:
                loader.row(record)
                loader.stats.rows += 1
        loader.flush()
        conn.execute("COMMIT")
    finally:
        conn.close()
    stats = loader.stats
    stats.claims = len(loader.claims)
    stats.actors = len(loader.actor_by_key)
    stats.sources = len(loader.source_by_key)
    stats.appearances = len(loader.appearances)
    stats.seconds = time.perf_counter() - started
    return stats


FLAT_COLUMNS = [
    "text",
    "claimant",
    "quote",
    "stated",
    "about",
    "tags",
    "verdict",
    "note",
    "credibility",
    "source",
    "source_url",
    "source_publisher",
    "source_date",
    "source_kind",
]


def main(
    argv: Sequence[str] | None = None,
    schema: Sequence[str] = SCHEMA,
    *,
    foreign_keys: bool = True,
    description: str = "Load a flat claim CSV with sqlite3 alone.",
) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("csv", type=Path)
    parser.add_argument("db", type=Path, help="a new database file")
    args = parser.parse_args(argv)
    stats = load(args.csv, args.db, schema, foreign_keys=foreign_keys)
    print(
        f"loaded {stats.rows:,} rows: {stats.claims:,} claims, {stats.actors:,} actors, "
        f"{stats.sources:,} sources, {stats.appearances:,} appearances in {stats.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
