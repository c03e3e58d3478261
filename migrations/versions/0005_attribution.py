"""attribution: incidents, stance toward responsibility, the actor tree

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:00:00

- `incident` with its names (`incident_name`, shaped like `actor_name`) and victims;
- `claim_incident`: the incidents a claim concerns; `claim_stance`: the actors it blames or
  clears (or equates); `claim.confidence`: the confidence the claimant states;
- `actor_part`: the organisational tree (a unit is part of an agency).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: rebuilding `claim` on SQLite would drop the
    # triggers that keep its search index in step.
    op.add_column("claim", sa.Column("confidence", sa.String(length=10), nullable=True))
    op.create_table(
        "actor_part",
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("whole_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("part_id <> whole_id", name=op.f("ck_actor_part_not_self")),
        sa.ForeignKeyConstraint(
            ["part_id"], ["actor.id"], name=op.f("fk_actor_part_part_id_actor"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["whole_id"],
            ["actor.id"],
            name=op.f("fk_actor_part_whole_id_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("part_id", "whole_id", name=op.f("pk_actor_part")),
    )
    op.create_index(op.f("ix_actor_part_whole_id"), "actor_part", ["whole_id"], unique=False)
    op.create_table(
        "incident",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("started", sa.String(length=10), nullable=True),
        sa.Column("ended", sa.String(length=10), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("uid", name=op.f("uq_incident_uid")),
    )
    op.create_table(
        "incident_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_name_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_name")),
        sa.UniqueConstraint("incident_id", "key", name=op.f("uq_incident_name_incident_id_key")),
    )
    op.create_index(
        op.f("ix_incident_name_incident_id"), "incident_name", ["incident_id"], unique=False
    )
    op.create_index(op.f("ix_incident_name_key"), "incident_name", ["key"], unique=False)
    op.create_index(
        "uq_incident_name_primary_key",
        "incident_name",
        ["key"],
        unique=True,
        sqlite_where=sa.text("is_primary"),
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "incident_victim",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_incident_victim_actor_id_actor")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_victim_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "actor_id", name=op.f("pk_incident_victim")),
    )
    op.create_index(
        op.f("ix_incident_victim_actor_id"), "incident_victim", ["actor_id"], unique=False
    )
    op.create_table(
        "claim_incident",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_claim_incident_claim_id_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_claim_incident_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("claim_id", "incident_id", name=op.f("pk_claim_incident")),
    )
    op.create_index(
        op.f("ix_claim_incident_incident_id"), "claim_incident", ["incident_id"], unique=False
    )
    op.create_table(
        "claim_stance",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("stance", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_claim_stance_actor_id_actor")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_claim_stance_claim_id_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("claim_id", "actor_id", name=op.f("pk_claim_stance")),
    )
    op.create_index(op.f("ix_claim_stance_actor_id"), "claim_stance", ["actor_id"], unique=False)
    op.create_index(op.f("ix_claim_stance_stance"), "claim_stance", ["stance"], unique=False)


def downgrade() -> None:
    op.drop_table("claim_stance")
    op.drop_table("claim_incident")
    op.drop_table("incident_victim")
    op.drop_table("incident_name")
    op.drop_table("incident")
    op.drop_table("actor_part")
    # DROP COLUMN (SQLite 3.35+) keeps the claim table's triggers, unlike a batch rebuild.
    op.drop_column("claim", "confidence")
