"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 15:37:40.214241
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Full-text search. SQLite: an FTS5 index over claim text, quote and note, kept in step by
# triggers (external content, so the text is stored once). remove_diacritics folds accents.
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE claim_fts USING fts5(
        text, quote, note, content='claim', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
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
# PostgreSQL: a generated tsvector column with a GIN index.
POSTGRES_SEARCH = """ALTER TABLE claim ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(quote, '') || ' '
    || coalesce(note, ''))) STORED"""


def upgrade() -> None:
    op.create_table(
        "actor",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor")),
        sa.UniqueConstraint("uid", name=op.f("uq_actor_uid")),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("by", sa.String(length=300), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
        sa.UniqueConstraint("uid", name=op.f("uq_history_uid")),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index("ix_history_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "actor_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_name_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_name")),
        sa.UniqueConstraint("key", name=op.f("uq_actor_name_key")),
    )
    with op.batch_alter_table("actor_name", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actor_name_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "claim",
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("claimant_id", sa.Integer(), nullable=False),
        sa.Column("stated", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("credibility", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("credibility BETWEEN 1 AND 6", name=op.f("ck_claim_credibility_range")),
        sa.ForeignKeyConstraint(
            ["claimant_id"], ["actor.id"], name=op.f("fk_claim_claimant_id_actor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
        sa.UniqueConstraint(
            "claimant_id", "text_hash", name=op.f("uq_claim_claimant_id_text_hash")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_claim_uid")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_claimant_id"), ["claimant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_stated"), ["stated"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_verdict"), ["verdict"], unique=False)

    op.create_table(
        "source",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.Column("retrieved", sa.String(length=10), nullable=True),
        sa.Column("reliability", sa.String(length=1), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["publisher_id"], ["actor.id"], name=op.f("fk_source_publisher_id_actor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("uid", name=op.f("uq_source_uid")),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_publisher_id"), ["publisher_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_source_title_key"), ["title_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_source_url"), ["url"], unique=False)

    op.create_table(
        "appearance",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_appearance_claim_id_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_appearance_source_id_source")
        ),
        sa.PrimaryKeyConstraint("claim_id", "source_id", name=op.f("pk_appearance")),
    )
    with op.batch_alter_table("appearance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appearance_source_id"), ["source_id"], unique=False)

    op.create_table(
        "claim_subject",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_claim_subject_actor_id_actor")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_claim_subject_claim_id_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("claim_id", "actor_id", name=op.f("pk_claim_subject")),
    )
    with op.batch_alter_table("claim_subject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_subject_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "claim_tag",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_tag_claim_id_claim"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("claim_id", "tag", name=op.f("pk_claim_tag")),
    )
    with op.batch_alter_table("claim_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_tag_tag"), ["tag"], unique=False)

    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("from_id <> to_id", name=op.f("ck_link_not_self")),
        sa.ForeignKeyConstraint(
            ["from_id"], ["claim.id"], name=op.f("fk_link_from_id_claim"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["claim.id"], name=op.f("fk_link_to_id_claim"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
        sa.UniqueConstraint(
            "from_id", "relation", "to_id", name=op.f("uq_link_from_id_relation_to_id")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_link_uid")),
    )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_to_id"), ["to_id"], unique=False)

    op.create_table(
        "source_citation",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("cited_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("source_id <> cited_id", name=op.f("ck_source_citation_not_self")),
        sa.ForeignKeyConstraint(
            ["cited_id"],
            ["source.id"],
            name=op.f("fk_source_citation_cited_id_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_source_citation_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "cited_id", name=op.f("pk_source_citation")),
    )
    with op.batch_alter_table("source_citation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_citation_cited_id"), ["cited_id"], unique=False)

    op.create_table(
        "verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reviewer", sa.String(length=300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_verdict_claim_id_claim"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdict")),
        sa.UniqueConstraint("uid", name=op.f("uq_verdict_uid")),
    )
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verdict_claim_id"), ["claim_id"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        op.execute(POSTGRES_SEARCH)
        op.execute("CREATE INDEX ix_claim_search ON claim USING GIN (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE claim_fts")
    else:
        op.execute("DROP INDEX ix_claim_search")
        op.execute("ALTER TABLE claim DROP COLUMN search")
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdict_claim_id"))

    op.drop_table("verdict")
    with op.batch_alter_table("source_citation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_citation_cited_id"))

    op.drop_table("source_citation")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_to_id"))

    op.drop_table("link")
    with op.batch_alter_table("claim_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_tag_tag"))

    op.drop_table("claim_tag")
    with op.batch_alter_table("claim_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_subject_actor_id"))

    op.drop_table("claim_subject")
    with op.batch_alter_table("appearance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appearance_source_id"))

    op.drop_table("appearance")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_url"))
        batch_op.drop_index(batch_op.f("ix_source_title_key"))
        batch_op.drop_index(batch_op.f("ix_source_publisher_id"))

    op.drop_table("source")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_verdict"))
        batch_op.drop_index(batch_op.f("ix_claim_status"))
        batch_op.drop_index(batch_op.f("ix_claim_stated"))
        batch_op.drop_index(batch_op.f("ix_claim_claimant_id"))

    op.drop_table("claim")
    with op.batch_alter_table("actor_name", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_name_actor_id"))

    op.drop_table("actor_name")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index("ix_history_entity")

    op.drop_table("history")
    op.drop_table("actor")
