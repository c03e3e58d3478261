"""writers in parallel: a unique key for a source's identity

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 06:00:00

PostgreSQL writers no longer queue on one lock: each find-or-create relies on a unique key
(`INSERT ... ON CONFLICT`). Actors and incidents have theirs (a primary name is unique);
sources are known by title and URL, but `source add --new` may add a namesake on purpose (the
same title, no URL). `source.twin` marks such a namesake, and the first source of each title
and URL becomes unique. Existing namesakes are marked: every one after the first (lowest id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDENTITY = [sa.text("title_key"), sa.text("coalesce(url, '')")]


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild on SQLite.
    op.add_column(
        "source", sa.Column("twin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(
        "UPDATE source SET twin = true WHERE EXISTS (SELECT 1 FROM source first"
        " WHERE first.title_key = source.title_key"
        " AND coalesce(first.url, '') = coalesce(source.url, '') AND first.id < source.id)"
    )
    op.create_index(
        "uq_source_identity",
        "source",
        IDENTITY,
        unique=True,
        sqlite_where=sa.text("NOT twin"),
        postgresql_where=sa.text("NOT twin"),
    )


def downgrade() -> None:
    op.drop_index("uq_source_identity", table_name="source")
    # DROP COLUMN (SQLite 3.35+), not a batch rebuild.
    op.drop_column("source", "twin")
