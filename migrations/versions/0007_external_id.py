"""external ids: the STIX id of every record a STIX import mapped

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:00:00

`external_id` keeps, for each actor, incident, source or claim made from a STIX object, the
object's id and the `modified` timestamp last imported, so a re-import matches by id (never by
name) and updates only what a newer version changed. Citation names (`stix-citation`) let an
ATT&CK description's `(Citation: X)` find its source again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDS = ("actor", "incident", "source", "claim")
ONE_RECORD = " + ".join(f"(CASE WHEN {r}_id IS NULL THEN 0 ELSE 1 END)" for r in RECORDS) + " = 1"


def upgrade() -> None:
    op.create_table(
        "external_id",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("modified", sa.String(length=40), nullable=True),
        *(sa.Column(f"{r}_id", sa.Integer(), nullable=True) for r in RECORDS),
        sa.CheckConstraint(ONE_RECORD, name=op.f("ck_external_id_one_record")),
        *(
            sa.ForeignKeyConstraint(
                [f"{r}_id"],
                [f"{r}.id"],
                name=op.f(f"fk_external_id_{r}_id_{r}"),
                ondelete="CASCADE",
            )
            for r in RECORDS
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_id")),
        sa.UniqueConstraint("scheme", "value", name=op.f("uq_external_id_scheme_value")),
    )
    for r in RECORDS:
        op.create_index(op.f(f"ix_external_id_{r}_id"), "external_id", [f"{r}_id"], unique=False)


def downgrade() -> None:
    op.drop_table("external_id")
