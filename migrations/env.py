"""Alembic environment: runs on the connection the tracker hands over (tracker.db.upgrade), or
on one it opens from TRACKER_DB when Alembic's own command line is used by developers."""

from alembic import context

from tracker.models import Base

config = context.config
target_metadata = Base.metadata


# Search structures live outside the ORM model (FTS5 table and its shadow tables on SQLite, a
# generated tsvector column on PostgreSQL); the model comparison must not try to drop them.
def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    if type_ == "table":
        return not (name or "").startswith("claim_fts")
    if type_ == "index":
        return name != "ix_claim_search"
    return not (type_ == "column" and name == "search")


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from tracker.db import open_database

    database = open_database(migrate=False)
    with database.engine.connect() as conn:
        conn.execution_options(tracker_seal=False)  # the chain may not exist at every revision
        with conn.begin():
            run(conn)
