"""accent-insensitive search on PostgreSQL, as FTS5 already is on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:20:00

A text search configuration `tracker_search` (the `simple` parser and dictionary, with the
`unaccent` dictionary first) indexes and queries claims, so `societe` finds `Société` on both
backends. `unaccent` ships with PostgreSQL's contrib modules and is a trusted extension: the
database owner may create it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN = """ALTER TABLE claim ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('{config}', coalesce(text, '') || ' ' || coalesce(quote, '') || ' '
    || coalesce(note, ''))) STORED"""


def _rebuild(config: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_claim_search")
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS search")
    op.execute(COLUMN.format(config=config))
    op.execute("CREATE INDEX ix_claim_search ON claim USING GIN (search)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION tracker_search (COPY = simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION tracker_search "
        "ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, "
        "hword_asciipart, hword_part, hword_numpart WITH unaccent, simple"
    )
    _rebuild("tracker_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuild("simple")
    op.execute("DROP TEXT SEARCH CONFIGURATION tracker_search")
