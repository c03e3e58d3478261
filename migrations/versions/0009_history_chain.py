"""history: append-only, hash-chained, and written by a database role

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 06:00:00

- `history` gains `role` (on PostgreSQL the session_user that wrote the entry, set by a
  trigger), and the chain: `seq`, `prev_hash`, `hash` (tracker.chain). Existing entries are
  sealed here, in id order.
- `history_head`: the chain's last (seq, hash), so a history cut short at its end is noticed.
- Triggers on both backends refuse any UPDATE or DELETE of history (TRUNCATE too on
  PostgreSQL), except the one step that seals a new entry, and keep the head moving forward.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sealing may set seq, prev_hash and hash once, on an entry that has none; nothing else.
_CONTENT = ("id", "uid", "entity", "entity_id", "action", "by", "role", "at")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER history_append_only_update BEFORE UPDATE ON history
    WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.changes IS NOT OLD.changes OR {changed}
    BEGIN SELECT RAISE(ABORT, 'history is append-only: an entry cannot be changed'); END""".format(
        changed=" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)
    ),
    """CREATE TRIGGER history_append_only_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only: an entry cannot be deleted'); END""",
    """CREATE TRIGGER history_head_forward BEFORE UPDATE ON history_head
    WHEN NEW.seq < OLD.seq OR NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'the history chain head only moves forward'); END""",
    """CREATE TRIGGER history_head_kept BEFORE DELETE ON history_head
    BEGIN SELECT RAISE(ABORT, 'the history chain head cannot be deleted'); END""",
]
SQLITE_TRIGGER_NAMES = [
    "history_append_only_update",
    "history_append_only_delete",
    "history_head_forward",
    "history_head_kept",
]

# On PostgreSQL the function also sets the author: `role` is session_user, whatever the client
# sent. Only a member of the table's owner role (an admin, who could drop the trigger anyway)
# may keep a role given, or an empty one while restoring a dump (`tracker.restoring`), so a
# restored or merged chain keeps its hashes. The fast path (no role, no seq given) skips the
# ownership look-up for every ordinary insert.
PG_HISTORY_GUARD = """
CREATE FUNCTION tracker_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.role IS NULL AND NEW.seq IS NULL
                AND current_setting('tracker.restoring', true) IS DISTINCT FROM 'on' THEN
            NEW.role := session_user;
        ELSIF NOT pg_has_role(session_user,
                (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
            NEW.role := session_user;
            NEW.seq := NULL;
            NEW.prev_hash := NULL;
            NEW.hash := NULL;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
            AND NEW.changes::text = OLD.changes::text
            AND ({new}) IS NOT DISTINCT FROM ({old}) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'history is append-only: it cannot be truncated'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'history is append-only: entry #% cannot be %', OLD.id,
        CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END
        USING ERRCODE = 'insufficient_privilege';
END $$""".format(
    # Quoted: `by` is a reserved word there.
    new=", ".join(f'NEW."{c}"' for c in _CONTENT),
    old=", ".join(f'OLD."{c}"' for c in _CONTENT),
)
PG_HEAD_GUARD = """
CREATE FUNCTION tracker_history_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq >= OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the history chain head only moves forward'
        USING ERRCODE = 'insufficient_privilege';
END $$"""
PG_TRIGGERS = [
    "CREATE TRIGGER history_guard BEFORE INSERT OR UPDATE OR DELETE ON history"
    " FOR EACH ROW EXECUTE FUNCTION tracker_history_guard()",
    "CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history"
    " FOR EACH STATEMENT EXECUTE FUNCTION tracker_history_guard()",
    "CREATE TRIGGER history_head_guard BEFORE UPDATE OR DELETE ON history_head"
    " FOR EACH ROW EXECUTE FUNCTION tracker_history_head_guard()",
    "CREATE TRIGGER history_head_no_truncate BEFORE TRUNCATE ON history_head"
    " FOR EACH STATEMENT EXECUTE FUNCTION tracker_history_head_guard()",
]


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild, as in 0005.
    op.add_column("history", sa.Column("role", sa.String(length=63), nullable=True))
    op.add_column("history", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("history", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("history", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_index("ix_history_seq", "history", ["seq"], unique=True)
    op.create_index(
        "ix_history_unsealed",
        "history",
        ["id"],
        sqlite_where=sa.text("seq IS NULL"),
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.create_table(
        "history_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_history_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_head")),
    )
    from tracker.chain import seal

    seal(op.get_bind())
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(PG_HISTORY_GUARD)
        op.execute(PG_HEAD_GUARD)
        for statement in PG_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TABLE history_head")  # its triggers with it
        op.execute("DROP TRIGGER history_guard ON history")
        op.execute("DROP TRIGGER history_no_truncate ON history")
        op.execute("DROP FUNCTION tracker_history_guard()")
        op.execute("DROP FUNCTION tracker_history_head_guard()")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE history_head")
    op.drop_index("ix_history_unsealed", table_name="history")
    op.drop_index("ix_history_seq", table_name="history")
    with op.batch_alter_table("history") as batch:
        for column in ("hash", "prev_hash", "seq", "role"):
            batch.drop_column(column)
