"""The lean loader: the flat claim CSV into the fewest structures that still answer the tracker's
questions, with the standard library alone. What the richer schema costs is the distance between
this loader and `reference_load.py`, which it shares its code with.

It writes the same rows as the reference loader (actors and their names, sources, claims,
appearances, subjects, tags) and the same full-text index (FTS5 with the same tokenizer and
prefix indexes, filled by an insert trigger), but keeps only each table's primary key: no unique
uid index, no unique (claimant, text_hash) key (the dedupe happens in Python dicts anyway), no
secondary indexes, no foreign keys, no CHECK constraint, no update and delete triggers.

Usage: python bench/lean_load.py FILE.csv NEW.db
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import reference_load

SCHEMA = [
    """CREATE TABLE actor (
        id INTEGER PRIMARY KEY, uid VARCHAR(36) NOT NULL, name VARCHAR(300) NOT NULL,
        kind VARCHAR(20) NOT NULL, description TEXT, reliability VARCHAR(1),
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)""",
    """CREATE TABLE actor_name (
        id INTEGER PRIMARY KEY, actor_id INTEGER NOT NULL, name VARCHAR(300) NOT NULL,
        "key" VARCHAR(300) NOT NULL, is_primary BOOLEAN NOT NULL)""",
    """CREATE TABLE claim (
        id INTEGER PRIMARY KEY, uid VARCHAR(36) NOT NULL, text TEXT NOT NULL,
        text_hash VARCHAR(64) NOT NULL, quote TEXT, claimant_id INTEGER NOT NULL,
        stated VARCHAR(10), note TEXT, credibility SMALLINT, status VARCHAR(20) NOT NULL,
        verdict VARCHAR(20), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)""",
    """CREATE TABLE source (
        id INTEGER PRIMARY KEY, uid VARCHAR(36) NOT NULL, title VARCHAR(300) NOT NULL,
        title_key VARCHAR(300) NOT NULL, kind VARCHAR(20) NOT NULL, publisher_id INTEGER,
        authors JSON NOT NULL, url VARCHAR(2000), published VARCHAR(10), retrieved VARCHAR(10),
        reliability VARCHAR(1), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)""",
    """CREATE TABLE appearance (
        claim_id INTEGER NOT NULL, source_id INTEGER NOT NULL, position INTEGER NOT NULL,
        PRIMARY KEY (claim_id, source_id))""",
    """CREATE TABLE claim_subject (
        claim_id INTEGER NOT NULL, actor_id INTEGER NOT NULL, PRIMARY KEY (claim_id, actor_id))""",
    """CREATE TABLE claim_tag (
        claim_id INTEGER NOT NULL, tag VARCHAR(100) NOT NULL, PRIMARY KEY (claim_id, tag))""",
    """CREATE VIRTUAL TABLE claim_fts USING fts5(
        text, quote, note, content='claim', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')""",
    """CREATE TRIGGER claim_fts_insert AFTER INSERT ON claim BEGIN
        INSERT INTO claim_fts(rowid, text, quote, note)
        VALUES (new.id, new.text, new.quote, new.note);
    END""",
]


def main(argv: Sequence[str] | None = None) -> int:
    return reference_load.main(
        argv, SCHEMA, foreign_keys=False, description="Load a flat claim CSV into a lean schema."
    )


if __name__ == "__main__":
    sys.exit(main())
