"""Bulk import of the flat claim format, all or nothing, in one transaction.

Rows are validated and staged as they stream in; actors and sources are found or created on the
way through, by key, in dicts loaded with the known ones up front. Claims, appearances, subjects,
tags, verdicts and history are then written with a handful of set-based statements, so Python's
memory grows with the number of actors and sources (a few hundred bytes each), never with the
number of rows, and the database does the heavy joining.

Rows with the same claimant and the same normalized text are one claim; each row adds its source
as another appearance. Existing claims keep their fields: an import adds what is new
(appearances, subjects, tags, a different verdict), so importing the same file twice changes
nothing the second time.
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.errors import InvalidInput, TrackerError
from tracker.models import (
    Appearance,
    Claim,
    ClaimIncident,
    ClaimStance,
    ClaimSubject,
    ClaimTag,
    HistoryEntry,
    UTCDateTime,
    VerdictEntry,
    now,
)
from tracker.services import identity
from tracker.services.claims import text_hash
from tracker.services.common import current_user
from tracker.services.flat import COLUMNS, BadRow, FlatRow, RowError, validate
from tracker.text import join_list
from tracker.vocab import Status

MAX_LISTED = 20
STAGE_BATCH = 5000


@dataclass
class ImportReport:
    rows: int = 0
    claims_created: int = 0
    claims_updated: int = 0
    appearances_added: int = 0
    actors_created: int = 0
    sources_created: int = 0
    rows_skipped: int = 0
    resembling: list[identity.Resemblance] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.rows:,} rows: {self.claims_created:,} claims created, "
            f"{self.claims_updated:,} updated, {self.appearances_added:,} appearances added, "
            f"{self.actors_created:,} actors and {self.sources_created:,} sources created, "
            f"{self.rows_skipped:,} rows skipped"
        )

    def names_summary(self, shown: int = 3) -> str:
        """`3 new names resemble existing ones: 'Mandaint' ~ 'Mandiant' (#1), ...`"""
        n = len(self.resembling)
        listed = "; ".join(str(r) for r in self.resembling[:shown])
        more = f"; and {n - shown:,} more" if n > shown else ""
        verb = "resembles an existing one" if n == 1 else "resemble existing ones"
        return f"{n:,} new name{'' if n == 1 else 's'} {verb}: {listed}{more}"


class ImportRejected(InvalidInput):
    """The file has bad rows; nothing was imported."""

    def __init__(self, name: str, errors: list[RowError], total: int) -> None:
        listed = "; ".join(str(e) for e in errors)
        more = f"; and {total - len(errors)} more" if total > len(errors) else ""
        rows = "row is" if total == 1 else "rows are"
        super().__init__(f"{name}: {total} {rows} invalid, nothing imported: {listed}{more}")
        self.errors = errors
        self.total = total


_stage_meta = MetaData()


def _scratch(name: str, *columns: Column[Any]) -> Table:
    """A temporary table of the import's own."""
    return Table(name, _stage_meta, *columns, prefixes=["TEMPORARY"])


stage_row = _scratch(
    "import_row",
    Column("line", Integer, primary_key=True),
    Column("claimant_id", Integer, nullable=False),
    Column("claimant_as", String(300)),
    Column("text", Text, nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("quote", Text),
    Column("stated", String(10)),
    Column("note", Text),
    Column("credibility", Integer),
    Column("verdict", String(20)),
    Column("source_id", Integer),
    Column("claim_id", Integer),
    Column("confidence", String(10)),
)
stage_about = _scratch(
    "import_about",
    Column("line", Integer, nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("as_name", String(300)),
)
stage_tag = _scratch(
    "import_tag",
    Column("line", Integer, nullable=False),
    Column("tag", String(100), nullable=False),
)
stage_stance = _scratch(
    "import_stance",
    Column("line", Integer, nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("stance", String(10), nullable=False),
)
stage_incident = _scratch(
    "import_incident",
    Column("line", Integer, nullable=False),
    Column("incident_id", Integer, nullable=False),
)
# Existing claims the import changes, for their history entries.
stage_touched = _scratch(
    "import_touched",
    Column("claim_id", Integer, primary_key=True),
)
# The claims the import created (not those other writers added meanwhile).
stage_created = _scratch(
    "import_created",
    Column("claim_id", Integer, primary_key=True),
)
# The verdict each claim gets, where it differs from the claim's current one.
stage_verdict = _scratch(
    "import_verdict",
    Column("claim_id", Integer, primary_key=True),
    Column("verdict", String(20), nullable=False),
)
STAGES = (
    stage_row,
    stage_about,
    stage_tag,
    stage_stance,
    stage_incident,
    stage_touched,
    stage_created,
    stage_verdict,
)


def uuid_sql(dialect: str) -> Any:
    """A random UUID (version 4 layout) computed by the database, for rows made in bulk."""
    if dialect == "postgresql":
        return literal_column("gen_random_uuid()::text")
    return literal_column(
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    )


class _Names:
    """The import's view of `identity`: the same directories, preloaded, creating in bulk (new
    names like known ones are noted, not refused) and writing their history set-based."""

    def __init__(self, session: Session, report: ImportReport, strict: bool) -> None:
        conn = session.connection()
        policy = identity.policy_of(session.info)
        self.actors = identity.ActorDirectory(conn, policy, history_each=False).preload()
        self.sources = identity.SourceDirectory(conn, policy, history_each=False).preload()
        self.incidents = identity.IncidentDirectory(conn, policy, history_each=False).preload()
        self.incident_spelling: dict[str, int] = {}
        self.report = report
        self.strict = strict  # --strict-names: the caller refuses the file if any were noted
        self.by_spelling: dict[str, tuple[int, str | None]] = {}
        self.aliases_added: list[tuple[int, str]] = []

    def actor(self, name: str) -> tuple[int, str | None]:
        """(actor id, the alias it was named by): found, or created and counted."""
        found = self.by_spelling.get(name)
        if found is None:
            before = len(self.actors.created)
            found = self.by_spelling[name] = self.actors.resolve(name, create=True, strict=False)
            self.report.actors_created += len(self.actors.created) - before
        return found

    def claimant_as(self, actor_id: int, name: str) -> str:
        """`claimant_as` must be a name of the claimant; a name nobody has becomes its alias."""
        found = self.actors.matches(name)
        if any(a == actor_id for a, _, _ in found):
            return next(n for a, n, _ in found if a == actor_id)
        if found:
            raise InvalidInput(f"{name!r} is a name of actor #{found[0][0]}, not of the claimant")
        self.actors.add_alias(actor_id, name)
        self.aliases_added.append((actor_id, name))
        return name

    def incident(self, name: str) -> int:
        """An incident by name or alias: found, or created as actors are."""
        found = self.incident_spelling.get(name)
        if found is None:
            found = self.incident_spelling[name] = self.incidents.resolve(
                name, create=True, strict=False
            )[0]
        return found

    def source(self, row: FlatRow) -> int:
        assert row.source is not None
        found = self.sources.by_pair(row.source, row.source_url)
        if found is None:
            self.sources.check_new_source(row.source, row.source_url, strict=False, new=False)
            publisher = self.actor(row.source_publisher)[0] if row.source_publisher else None
            try:
                found = self.sources.create(
                    {
                        "title": row.source,
                        "kind": row.source_kind,
                        "publisher_id": publisher,
                        "url": row.source_url,
                        "published": row.source_date,
                    },
                    row.source_publisher,
                )
            except identity.NameTaken as taken:  # created meanwhile by another writer
                return taken.holder
            self.report.sources_created += 1
        return found

    def finish(self) -> None:
        self.actors.write_history()
        self.sources.write_history()
        self.incidents.write_history()
        self.report.resembling = (
            self.actors.resembling + self.sources.resembling + self.incidents.resembling
        )


class Staging:
    """The importer's scratch tables and its set-based merge, for any reader that turns its
    input into claim rows (the flat format, STIX). Rows are added as they are read and written
    to the scratch tables in batches; `merge` makes them claims, appearances, subjects, tags,
    stances, incidents, verdicts and history in a handful of statements."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = conn = session.connection()
        if conn.dialect.name == "postgresql":
            _tune_postgresql(conn)
        for table in STAGES:
            _drop_stage(conn, table)
            table.create(conn)
        self._stage = _stager(conn)
        self.rows: list[tuple[Any, ...]] = []
        self.about: list[tuple[int, int, str | None]] = []
        self.tags: list[tuple[int, str]] = []
        self.stances: list[tuple[int, int, str]] = []
        self.incidents: list[tuple[int, int]] = []

    def add(
        self,
        row: tuple[Any, ...],
        about: Iterable[tuple[int, int, str | None]] = (),
        tags: Iterable[tuple[int, str]] = (),
        stances: Iterable[tuple[int, int, str]] = (),
        incidents: Iterable[tuple[int, int]] = (),
    ) -> None:
        """One row, in stage_row's column order (see `claim_row`), and what hangs on its line."""
        self.rows.append(row)
        self.about.extend(about)
        self.tags.extend(tags)
        self.stances.extend(stances)
        self.incidents.extend(incidents)
        if len(self.rows) >= STAGE_BATCH:
            self.flush()

    def flush(self) -> None:
        for table, batch in (
            (stage_row, self.rows),
            (stage_about, self.about),
            (stage_tag, self.tags),
            (stage_stance, self.stances),
            (stage_incident, self.incidents),
        ):
            if batch:
                self._stage(table.name, batch)
                batch.clear()

    def merge(self, report: ImportReport, name: str) -> None:
        self.flush()
        _merge(self.session, report, self.conn.dialect.name, name)

    def claims_of(self, lines: Iterable[int]) -> dict[int, int]:
        """The claim each of these staged lines became (after `merge`)."""
        wanted = set(lines)
        return {
            line: claim_id
            for line, claim_id in self.conn.execute(select(stage_row.c.line, stage_row.c.claim_id))
            if line in wanted
        }

    def close(self) -> None:
        for table in STAGES:
            _drop_stage(self.conn, table)


# For this transaction only (SET LOCAL). The set-based statements sort and hash a whole
# import's rows: with the default 4 MB they spill to disk in several passes. JIT compilation
# costs a fixed ~0.3 s per statement planned as "expensive", which these are, and pays nothing
# back on plans that are mostly index look-ups and inserts.
_POSTGRES_SETTINGS = {"work_mem": "64MB", "jit": "off"}


def _tune_postgresql(conn: Connection) -> None:
    for setting, value in _POSTGRES_SETTINGS.items():
        conn.exec_driver_sql(f"SET LOCAL {setting} = '{value}'")


def claim_row(
    line: int,
    claimant_id: int,
    text: str,
    *,
    claimant_as: str | None = None,
    quote: str | None = None,
    stated: str | None = None,
    note: str | None = None,
    credibility: int | None = None,
    verdict: str | None = None,
    source_id: int | None = None,
    confidence: str | None = None,
) -> tuple[Any, ...]:
    """A staged row, in stage_row's column order (its claim id is filled in by the merge)."""
    return (
        line,
        claimant_id,
        claimant_as,
        text,
        text_hash(text),
        quote,
        stated,
        note,
        credibility,
        verdict,
        source_id,
        None,
        confidence,
    )


def import_flat(
    session: Session,
    records: Iterable[tuple[int, dict[str, Any]]],
    *,
    name: str,
    rejects: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
    strict_names: bool = False,
) -> ImportReport:
    """Import flat records; bad rows abort the whole import unless `rejects` takes them.

    Names follow `identity`'s rules; new names that resemble known ones are listed in the report
    (`resembling`), and `strict_names` refuses the import if there are any."""
    report = ImportReport()
    staging = Staging(session)
    names = _Names(session, report, strict_names)
    errors: list[RowError] = []
    bad = 0
    reject_writer = None
    if rejects is not None:
        reject_writer = csv.writer(rejects, lineterminator="\r\n")
        reject_writer.writerow(["line", *COLUMNS, "reason"])
    for line, record in records:
        report.rows += 1
        if progress is not None and report.rows % 1000 == 0:
            progress(report.rows)
        try:
            row = validate(line, record)
            if bad and reject_writer is None:
                continue  # the import will be refused; keep reading only to report every bad row
            staged = _resolve(names, row)
        except BadRow as exc:
            bad += 1
            if reject_writer is not None:
                reject_writer.writerow(
                    [line, *(record.get(c, "") for c in COLUMNS), exc.error.reason]
                )
            elif len(errors) < MAX_LISTED:
                errors.append(exc.error)
            continue
        staging.add(staged[0], staged[1], ((line, t) for t in row.tags), staged[2], staged[3])
    if bad and reject_writer is None:
        raise ImportRejected(name, errors, bad)
    names.finish()
    if strict_names and report.resembling:
        raise InvalidInput(
            f"{name}: {report.names_summary()}; nothing imported (--strict-names). Use the "
            "known names, or add the new ones first with 'tracker actor add --new' / "
            "'tracker source add --new'"
        )
    report.rows_skipped = bad
    staging.merge(report, name)
    staging.close()
    return report


def _resolve(
    names: _Names, row: FlatRow
) -> tuple[
    tuple[Any, ...],
    list[tuple[int, int, str | None]],
    list[tuple[int, int, str]],
    list[tuple[int, int]],
]:
    """The row's staged values with its names resolved; BadRow naming the column otherwise.
    Blamed and cleared actors are also the claim's subjects."""
    column = "claimant"
    stances: list[tuple[int, int, str]] = []
    try:
        claimant_id, claimant_as = names.actor(row.claimant)
        if row.claimant_as:
            column = "claimant_as"
            claimant_as = names.claimant_as(claimant_id, row.claimant_as)
        column = "about"
        subjects = [(row.line, *names.actor(a)) for a in row.about]
        for column, listed in (("blames", row.blames), ("clears", row.clears)):
            for name in listed:
                actor_id, given_as = names.actor(name)
                stances.append((row.line, actor_id, column))
                subjects.append((row.line, actor_id, given_as))
        if len({actor for _, actor, _ in stances}) < len(stances):
            raise InvalidInput("an actor cannot be both blamed and cleared by one claim")
        column = "incident"
        incidents = [(row.line, names.incident(i)) for i in row.incidents]
        column = "source"
        source_id = names.source(row) if row.source else None
    except TrackerError as exc:
        value = {"claimant": row.claimant, "claimant_as": row.claimant_as}.get(column)
        lists = {
            "about": row.about,
            "blames": row.blames,
            "clears": row.clears,
            "incident": row.incidents,
        }
        if column in lists:
            value = join_list(lists[column])
        elif column == "source":
            value = row.source
        raise BadRow(RowError(row.line, column, value, str(exc))) from None
    staged = claim_row(
        row.line,
        claimant_id,
        row.text,
        claimant_as=claimant_as,
        quote=row.quote,
        stated=row.stated,
        note=row.note,
        credibility=row.credibility,
        verdict=row.verdict,
        source_id=source_id,
        confidence=row.confidence,
    )
    return staged, subjects, stances, incidents


def _drop_stage(conn: Connection, table: Table) -> None:
    # Qualified: an unqualified name would reach a permanent table of that name if there is one.
    schema = "pg_temp" if conn.dialect.name == "postgresql" else "temp"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {schema}.{table.name}")


def _stager(conn: Connection) -> Callable[[str, list[tuple[Any, ...]]], None]:
    """Straight to the driver: staging is the hot loop, and these are our own scratch tables."""
    if conn.dialect.driver == "psycopg":
        # COPY, not INSERT: one stream per batch instead of a statement per row (5x faster).
        raw: Any = conn.connection.dbapi_connection  # psycopg's, with cursor().copy()
        assert raw is not None
        base_error = conn.dialect.loaded_dbapi.Error

        def copy(table: str, batch: list[tuple[Any, ...]]) -> None:
            sql = f"COPY {table} FROM STDIN"
            try:
                with raw.cursor() as cursor, cursor.copy(sql) as stream:
                    for row in batch:
                        stream.write_row(row)
            except base_error as exc:  # as SQLAlchemy wraps them, for the same error handling
                raise DBAPIError.instance(sql, None, exc, base_error) from exc

        return copy

    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def insert_many(table: str, batch: list[tuple[Any, ...]]) -> None:
        marks = ", ".join([mark] * len(batch[0]))
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES ({marks})", batch)

    return insert_many


def _merge(session: Session, report: ImportReport, dialect: str, name: str) -> None:
    conn = session.connection()
    at = now()
    first_claim = (conn.execute(select(func.max(Claim.id))).scalar() or 0) + 1
    s = stage_row
    # A new claim takes its fields from its first row, and its verdict from the first row that
    # gives one: written with the claim, not updated after (on PostgreSQL an update writes the
    # row again, with every index entry and its search vector).
    claim_rows = (
        select(
            func.min(s.c.line).label("line"),
            func.min(s.c.line).filter(s.c.verdict.is_not(None)).label("verdict_line"),
        )
        .group_by(s.c.claimant_id, s.c.text_hash)
        .subquery()
    )
    rated = s.alias("rated")
    new_claims = (
        select(
            uuid_sql(dialect),
            s.c.text,
            s.c.text_hash,
            s.c.quote,
            s.c.claimant_id,
            s.c.claimant_as,
            s.c.stated,
            s.c.note,
            s.c.credibility,
            s.c.confidence,
            rated.c.verdict,
            case(
                (rated.c.verdict.is_(None), literal(Status.unreviewed.value)),
                else_=literal(Status.reviewed.value),
            ),
            bindparam("at", at, type_=UTCDateTime),
            bindparam("at2", at, type_=UTCDateTime),
        )
        .select_from(claim_rows)
        .join(s, s.c.line == claim_rows.c.line)
        .outerjoin(rated, rated.c.line == claim_rows.c.verdict_line)
        .where(
            ~exists().where(Claim.claimant_id == s.c.claimant_id, Claim.text_hash == s.c.text_hash)
        )
        .order_by(s.c.line)
    )
    claim_columns = [
        "uid",
        "text",
        "text_hash",
        "quote",
        "claimant_id",
        "claimant_as",
        "stated",
        "note",
        "credibility",
        "confidence",
        "verdict",
        "status",
        "created_at",
        "updated_at",
    ]
    if dialect == "postgresql":
        # Other writers add claims meanwhile: this import's are those its INSERT returns, not
        # every id above the highest it saw; one another writer committed first is found, not
        # created again.
        created = (
            pg_insert(Claim)
            .from_select(claim_columns, new_claims)
            .on_conflict_do_nothing(index_elements=[Claim.claimant_id, Claim.text_hash])
            .returning(Claim.id)
            .cte("created")
        )
        conn.execute(insert(stage_created).from_select(["claim_id"], select(created.c.id)))
    else:  # one writer at a time
        conn.execute(insert(Claim).from_select(claim_columns, new_claims))
        conn.execute(
            insert(stage_created).from_select(
                ["claim_id"], select(Claim.id).where(Claim.id >= first_claim)
            )
        )
    created_ids = select(stage_created.c.claim_id)
    report.claims_created = conn.execute(
        select(func.count()).select_from(stage_created)
    ).scalar_one()
    # A join, not a subquery per row: PostgreSQL can hash it instead of probing the claims'
    # unique index once per row.
    conn.execute(
        update(s)
        .values(claim_id=Claim.id)
        .where(Claim.claimant_id == s.c.claimant_id, Claim.text_hash == s.c.text_hash)
    )
    if dialect == "postgresql":
        # Temporary tables get no automatic statistics, and stale ones (claim_id all NULL) are
        # worse: the planner picks nested loops that grow with the square of the import (a
        # 100k-row re-import took 3 minutes). Analyzed once the claim ids are known.
        conn.exec_driver_sql(
            f"ANALYZE {stage_row.name}, {stage_about.name}, {stage_tag.name}, "
            f"{stage_stance.name}, {stage_incident.name}, {stage_created.name}"
        )
    touched = stage_touched.c.claim_id
    # Only rows of claims that existed before can touch one; a feed of new claims (any import
    # into an empty database) has none, and need not compute each step's new rows twice.
    of_existing = select(s.c.line).where(~exists().where(stage_created.c.claim_id == s.c.claim_id))
    updates_existing = conn.execute(select(exists(of_existing))).scalar_one()

    def touch(new_rows: Any) -> None:
        if not updates_existing:
            return
        conn.execute(
            insert(stage_touched).from_select(
                ["claim_id"],
                select(new_rows.c.claim_id)
                .distinct()
                .where(
                    ~exists().where(stage_created.c.claim_id == new_rows.c.claim_id),
                    ~exists().where(touched == new_rows.c.claim_id),
                ),
            )
        )

    # Appearances: each (claim, source) once, positions after any the claim already has.
    firsts = (
        select(func.min(s.c.line))
        .where(s.c.source_id.is_not(None))
        .group_by(s.c.claim_id, s.c.source_id)
    )
    already = (
        select(func.max(Appearance.position))
        .where(Appearance.claim_id == s.c.claim_id)
        .scalar_subquery()
    )
    # When every claim is new, none has an appearance yet: no look-up.
    position = (
        func.coalesce(already, -1) if updates_existing else literal(-1)
    ) + func.row_number().over(partition_by=s.c.claim_id, order_by=s.c.line)
    new_appearances = (
        select(s.c.claim_id, s.c.source_id, position).where(
            s.c.line.in_(firsts),
            ~exists().where(
                Appearance.claim_id == s.c.claim_id, Appearance.source_id == s.c.source_id
            ),
        )
    ).subquery()
    touch(new_appearances)
    # Counted, not taken from rowcount: drivers differ on INSERT ... SELECT (psycopg gives -1).
    appearances_before = conn.execute(select(func.count()).select_from(Appearance)).scalar_one()
    conn.execute(
        insert(Appearance).from_select(
            ["claim_id", "source_id", "position"],
            # In key order, as the other inserts below: each index then grows at its end, and
            # the foreign key checks look up claims in order, instead of all over the table.
            select(new_appearances).order_by(
                new_appearances.c.claim_id, new_appearances.c.source_id
            ),
        )
    )
    report.appearances_added = (
        conn.execute(select(func.count()).select_from(Appearance)).scalar_one() - appearances_before
    )

    def add_new(stage: Table, target: Any, key: str, extra: str | None = None) -> None:
        """The staged (claim, key) rows the import's claims do not have yet, each once (with the
        first value of `extra`), into `target`; the claims they change are touched."""
        columns: list[Any] = [s.c.claim_id, stage.c[key]]
        if extra is not None:
            columns.append(func.min(stage.c[extra]).label(extra))
        new_rows = (
            select(*columns)
            .join(s, s.c.line == stage.c.line)
            .where(
                ~exists().where(
                    target.claim_id == s.c.claim_id, getattr(target, key) == stage.c[key]
                )
            )
            .group_by(s.c.claim_id, stage.c[key])
        ).subquery()
        touch(new_rows)
        names = ["claim_id", key, *([extra] if extra is not None else [])]
        in_order = select(new_rows).order_by(new_rows.c.claim_id, new_rows.c[key])
        conn.execute(insert(target).from_select(names, in_order))

    add_new(stage_about, ClaimSubject, "actor_id", "as_name")
    add_new(stage_tag, ClaimTag, "tag")
    # Stances: one per (claim, actor), the first row's; an actor the claim already has a stance
    # on keeps it.
    add_new(stage_stance, ClaimStance, "actor_id", "stance")
    add_new(stage_incident, ClaimIncident, "incident_id")

    # Verdicts: the first row of each claim that names one; added only if it differs.
    verdict_lines = (
        select(func.min(s.c.line)).where(s.c.verdict.is_not(None)).group_by(s.c.claim_id)
    )
    conn.execute(
        insert(stage_verdict).from_select(
            ["claim_id", "verdict"],
            select(s.c.claim_id, s.c.verdict)
            .join(Claim, Claim.id == s.c.claim_id)
            .where(
                s.c.line.in_(verdict_lines),
                # A new claim has its verdict already, and gets its verdict entry here.
                Claim.id.in_(created_ids) | Claim.verdict.is_distinct_from(s.c.verdict),
            ),
        )
    )
    touch(stage_verdict)
    user = current_user()
    conn.execute(
        insert(VerdictEntry).from_select(
            ["uid", "claim_id", "verdict", "reviewer", "note", "created_at"],
            select(
                uuid_sql(dialect),
                stage_verdict.c.claim_id,
                stage_verdict.c.verdict,
                literal(user, String),
                literal(f"imported from {name}", Text),
                bindparam("at3", at, type_=UTCDateTime),
            ),
        )
    )
    # From the staged value, not "the newest verdict entry": with the verdict table's statistics
    # stale mid-import, PostgreSQL may find that by walking its primary key for every claim.
    staged = (
        select(stage_verdict.c.verdict)
        .where(stage_verdict.c.claim_id == Claim.id)
        .scalar_subquery()
    )
    conn.execute(
        update(Claim)
        .where(
            Claim.id.in_(
                select(stage_verdict.c.claim_id).where(~stage_verdict.c.claim_id.in_(created_ids))
            )
        )
        .values(verdict=staged, status=Status.reviewed.value, updated_at=at)
    )
    conn.execute(update(Claim).where(Claim.id.in_(select(touched))).values(updated_at=at))
    report.claims_updated = conn.execute(
        select(func.count()).select_from(stage_touched)
    ).scalar_one()

    # History: one entry per created claim and per existing claim the import changed.
    def history(action: str, ids: Any) -> None:
        conn.execute(
            insert(HistoryEntry).from_select(
                ["uid", "entity", "entity_id", "action", "changes", "by", "at"],
                select(
                    uuid_sql(dialect),
                    literal("claim", String),
                    Claim.id,
                    literal(action, String),
                    literal({"via": "import", "file": name}, JSON),
                    literal(user, String),
                    bindparam(f"at_{action}", at, type_=UTCDateTime),
                )
                .where(ids)
                .order_by(Claim.id),
            )
        )

    history("created", Claim.id.in_(created_ids))
    if report.claims_updated:
        history("edited", Claim.id.in_(select(touched)))
