"""prefix indexes for search as people type (SQLite)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:00:00

Search words match as prefixes (`korea` finds "North Korean"). FTS5 answers a prefix query from
the full index by merging the doclists of every term that starts with it, which for a two- or
three-letter prefix is thousands of terms at a million claims; prefix indexes for 2, 3 and 4
characters keep those queries as fast as whole words. The option is fixed when the virtual table
is created, so `claim_fts` is built again (its triggers stay: they name the table, not its
options). PostgreSQL needs nothing: its GIN index answers `word:*` queries as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = """CREATE VIRTUAL TABLE claim_fts USING fts5(
    text, quote, note, content='claim', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'{prefix})"""


def _rebuild(prefix: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS claim_fts")
    op.execute(TABLE.format(prefix=prefix))
    op.execute("INSERT INTO claim_fts(claim_fts) VALUES ('rebuild')")


def upgrade() -> None:
    _rebuild(", prefix='2 3 4'")


def downgrade() -> None:
    _rebuild("")
