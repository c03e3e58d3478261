"""names as given and shared aliases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 03:00:00

- `claim.claimant_as` and `claim_subject.as_name`: the name a claim was attributed under when it
  is an alias ("Guardians of Peace" for Lazarus Group), kept as evidence.
- `actor_name.key` is no longer unique: an alias may belong to several actors (vendors name
  different groups alike). A primary name stays unique (a partial unique index), and one actor
  holds a name once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: rebuilding `claim` on SQLite would drop the
    # triggers that keep its search index in step.
    op.add_column("claim", sa.Column("claimant_as", sa.String(length=300), nullable=True))
    op.add_column("claim_subject", sa.Column("as_name", sa.String(length=300), nullable=True))
    with op.batch_alter_table("actor_name", schema=None) as batch_op:
        batch_op.drop_constraint("uq_actor_name_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_actor_name_actor_id_key"), ["actor_id", "key"]
        )
        batch_op.create_index(batch_op.f("ix_actor_name_key"), ["key"], unique=False)
        batch_op.create_index(
            "uq_actor_name_primary_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )


def downgrade() -> None:
    with op.batch_alter_table("actor_name", schema=None) as batch_op:
        batch_op.drop_index("uq_actor_name_primary_key")
        batch_op.drop_index(batch_op.f("ix_actor_name_key"))
        batch_op.drop_constraint(batch_op.f("uq_actor_name_actor_id_key"), type_="unique")
        batch_op.create_unique_constraint("uq_actor_name_key", ["key"])
    with op.batch_alter_table("claim_subject", schema=None) as batch_op:
        batch_op.drop_column("as_name")
    # SQLite cannot drop a column of a table with triggers in place without a rebuild, and a
    # rebuild would lose them: DROP COLUMN (SQLite 3.35+) keeps them.
    op.drop_column("claim", "claimant_as")
