"""Who may do what on a PostgreSQL database: readers, editors and admins (`tracker db grant`).

Each level is a group role of this database, `<database>_reader`, `<database>_editor` and
`<database>_admin` (NOLOGIN), created on first use; a person's role is made a member of one.
Privileges are granted to the groups, so changing someone's level is one membership:

- readers SELECT every table;
- editors also write records, but may only INSERT into the history (and set the seal of an
  entry their own transaction wrote: seq, prev_hash, hash, once, as the trigger allows);
- admins own every tracker table, sequence, function and search configuration, so they
  migrate the schema (and grant); ownership moves to the admin group on the first grant.

A migration that creates tables is followed by `refresh`, which gives the groups their
privileges on them, so no grant is lost to an upgrade.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, text

from tracker.errors import UsageError

# The most bytes PostgreSQL keeps of an identifier (it would silently cut a longer one).
MAX_IDENTIFIER = 63
# Only the seal of an entry may ever be written after its INSERT (see the history trigger).
_SEAL_COLUMNS = "seq, prev_hash, hash"
_GUARDED = ("history", "history_head", "alembic_version")


class Level(StrEnum):
    reader = "reader"
    editor = "editor"
    admin = "admin"


@dataclass(frozen=True)
class Granted:
    role: str
    level: Level | None  # None: every tracker level revoked
    created: bool  # the role did not exist and was created (LOGIN, no password)
    group: str | None


def group_name(conn: Connection, level: Level) -> str:
    database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    name = f"{database}_{level.value}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise UsageError(
            f"the group role {name!r} would be longer than PostgreSQL's {MAX_IDENTIFIER} bytes"
        )
    return name


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _role_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    return found.first() is not None


def _check_name(conn: Connection, role: str) -> None:
    if not role.strip() or "\x00" in role or role != role.strip():
        raise UsageError(f"not a role name: {role!r}")
    if len(role.encode()) > MAX_IDENTIFIER:
        raise UsageError(f"role name {role!r} is longer than {MAX_IDENTIFIER} bytes")
    groups = {group_name(conn, level) for level in Level}
    if role in groups or role.lower() == "public" or role.startswith("pg_"):
        raise UsageError(f"{role!r} is a group or reserved role; name a person's role")


def grant(conn: Connection, role: str, level: Level | None) -> Granted:
    """Make `role` a member of the `level` group (and of no other tracker group), creating
    the role (LOGIN) and the groups if missing; `level` None revokes every level. Idempotent."""
    if conn.dialect.name != "postgresql":
        raise UsageError("roles are PostgreSQL's: a SQLite file is guarded by file permissions")
    _check_name(conn, role)
    for each in Level:
        name = group_name(conn, each)
        if not _role_exists(conn, name):
            conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, name)} NOLOGIN")
    refresh(conn)
    created = not _role_exists(conn, role)
    if created:
        conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, role)} LOGIN")
    for each in Level:
        group = _quote(conn, group_name(conn, each))
        if each is level:
            conn.exec_driver_sql(f"GRANT {group} TO {_quote(conn, role)}")
        else:
            conn.exec_driver_sql(f"REVOKE {group} FROM {_quote(conn, role)}")
    return Granted(role, level, created, group_name(conn, level) if level else None)


def refresh(conn: Connection) -> None:
    """Give the existing level groups their privileges on every tracker object (after a
    migration, and on each grant); objects owned elsewhere move to the admin group."""
    schema = _quote(conn, conn.exec_driver_sql("SELECT current_schema()").scalar_one())
    names = {level: group_name(conn, level) for level in Level}
    present = {level: _quote(conn, n) for level, n in names.items() if _role_exists(conn, n)}
    if Level.admin in present:
        _give_to_admins(conn, names[Level.admin], present[Level.admin])
        conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {present[Level.admin]}")
    if reader := present.get(Level.reader):
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {reader}")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {reader}")
    if editor := present.get(Level.editor):
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {editor}")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {editor}")
        tables = _tables(conn)
        records = [t for t in tables if t not in _GUARDED]
        if records:
            listed = ", ".join(_quote(conn, t) for t in records)
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {listed} TO {editor}")
        # Before revision 0009 (a partial upgrade) there is no chain to guard yet.
        if "history_head" in tables:
            conn.exec_driver_sql(
                "REVOKE UPDATE, DELETE, TRUNCATE ON history, history_head, alembic_version "
                f"FROM {editor}"
            )
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE ({_SEAL_COLUMNS}) ON history TO {editor}")
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE ON history_head TO {editor}")
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {editor}")


def _tables(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
        " AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    return [name for (name,) in rows]


def _give_to_admins(conn: Connection, name: str, quoted: str) -> None:
    """Objects of the schema owned by a role this session may act for move to the admin group
    (extension members stay with their extension)."""
    owned_elsewhere = """
        SELECT kind, name FROM (
            SELECT 'TABLE' AS kind, c.relname AS name, c.relowner AS owner, c.oid AS oid,
                   'pg_class'::regclass AS catalog
            FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace
              AND c.relkind IN ('r', 'p', 'v', 'm')
            UNION ALL
            SELECT 'FUNCTION', p.oid::regprocedure::text, p.proowner, p.oid, 'pg_proc'::regclass
            FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'TEXT SEARCH CONFIGURATION', t.cfgname, t.cfgowner, t.oid,
                   'pg_ts_config'::regclass
            FROM pg_ts_config t WHERE t.cfgnamespace = current_schema()::regnamespace
        ) o
        WHERE o.owner <> (SELECT oid FROM pg_roles WHERE rolname = :admin)
          AND pg_has_role(session_user, o.owner, 'USAGE')
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e')
        ORDER BY kind, name
    """
    rows = conn.execute(text(owned_elsewhere), {"admin": name}).all()
    for kind, obj in rows:
        # Functions come signed by regprocedure (already quoted); the rest are bare names.
        target = obj if kind == "FUNCTION" else _quote(conn, obj)
        conn.exec_driver_sql(f"ALTER {kind} {target} OWNER TO {quoted}")
