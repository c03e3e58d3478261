"""Find or create actors and sources: the one rule every command and the bulk importer follow.

- A name (actor name or alias; source title, or title and URL) matches exactly by its key. A name
  shared by several actors (an alias two vendors use) is ambiguous: every match is listed, none
  is picked.
- A name that is not known is created only when the command may create, the policy allows new
  names (`TRACKER_NEW_NAMES=refuse` forbids them), and it is not *similar* to a known one
  (`tracker.names`). A similar name is refused with its candidates unless the caller says it is
  new (`--new`); the importer, which may not stop at each, lists them instead (or refuses the
  whole file with `--strict-names`).
- Every record created gets its history entry, whichever path created it.
- Writers race (PostgreSQL has no global write lock): a record is created by `INSERT ... ON
  CONFLICT DO NOTHING` on the unique key its identity rule has (an actor's or incident's primary
  name; a source's title and URL, namesakes added on purpose apart); whoever inserts second
  takes the winner's record (`NameTaken` says who that is). Resemblance is no key: two writers
  adding `Mandaint` and `Mandiant` at the same instant both succeed, each unaware of the
  other's, and `actor merge` folds them; likewise an alias given at the very moment another
  writer creates a record of that name.

A directory loads what it needs lazily (one query per exact look-up; the similarity index on the
first unknown name), or everything up front for a bulk import (`preload`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from sqlalchemy import ColumnElement, TextClause, delete, func, insert, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tracker.errors import Ambiguous, Conflict, InvalidInput, NotFound
from tracker.models import (
    Actor,
    ActorName,
    HistoryEntry,
    Incident,
    IncidentName,
    Source,
    new_uid,
    now,
)
from tracker.names import Similar, SimilarityIndex
from tracker.services.common import current_user
from tracker.text import clean_actor_name, name_key

NEW_NAMES_ENV = "TRACKER_NEW_NAMES"
MANY = 1000  # records per statement when created in bulk
NEW_NAMES_VALUES = ("create", "refuse")


@dataclass
class NamePolicy:
    """What may happen to a name nobody has: `new` creates it even if it resembles a known one;
    `refuse_new` creates nothing implicitly (a team with a curated list of actors and sources)."""

    new: bool = False
    refuse_new: bool = False

    @classmethod
    def from_env(cls, *, new: bool = False, refuse_new: bool = False) -> NamePolicy:
        value = os.environ.get(NEW_NAMES_ENV, "").strip().lower() or "create"
        if value not in NEW_NAMES_VALUES:
            raise InvalidInput(
                f"{NEW_NAMES_ENV}={value!r} is not one of: {', '.join(NEW_NAMES_VALUES)}"
            )
        return cls(new=new, refuse_new=refuse_new or value == "refuse")


def policy_of(info: dict[str, Any]) -> NamePolicy:
    """The policy a session carries (`session.info['name_policy']`), else the environment's."""
    found = info.get("name_policy")
    if found is None:
        found = info["name_policy"] = NamePolicy.from_env()
    assert isinstance(found, NamePolicy)
    return found


def allow_new(session: Any, new: bool = True) -> None:
    """For the rest of this transaction, a name like a known one is a new record (`--new`)."""
    if new:
        policy_of(session.info).new = True


class NameTaken(Conflict):
    """Another writer created a record by this name (or title and URL) first, and committed it
    while this one was creating its own: `holder` is the winner's id."""

    def __init__(self, message: str, holder: int) -> None:
        super().__init__(message)
        self.holder = holder


def insert_unless_taken(
    conn: Connection,
    model: Any,
    values: dict[str, Any],
    key: Sequence[Any],
    where: ColumnElement[bool] | TextClause,
) -> int | None:
    """Insert one row unless the unique index on `key` (partial: `where`) already holds its
    value: the new row's id, or None. A concurrent writer's uncommitted row with that key
    makes this wait for its outcome, so None means the row is there for the caller to read."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(model)
        .values(values)
        .on_conflict_do_nothing(index_elements=key, index_where=where)
        .returning(model.id)
    )
    found: int | None = conn.execute(statement).scalar()
    return found


def _did_you_mean(similar: Sequence[Similar]) -> str:
    return " or ".join(f"{s.label!r} (#{s.ident})" for s in similar)


@dataclass
class Resemblance:
    """A name new to the database that resembles known ones (reported by bulk imports)."""

    name: str
    similar: list[Similar]

    def __str__(self) -> str:
        return f"{self.name!r} ~ {_did_you_mean(self.similar)}"


def _history(
    conn: Connection,
    entity: str,
    entries: list[tuple[int, dict[str, Any]]],
    action: str = "created",
) -> None:
    if not entries:
        return
    at, by = now(), current_user()
    conn.execute(
        insert(HistoryEntry),
        [
            {
                "uid": new_uid(),
                "entity": entity,
                "entity_id": ident,
                "action": action,
                "changes": changes,
                "by": by,
                "at": at,
            }
            for ident, changes in entries
        ],
    )


@dataclass
class _Directory:
    conn: Connection
    policy: NamePolicy = field(default_factory=NamePolicy)
    # False: the caller writes the history of what it created (`write_history`), set-based.
    history_each: bool = True
    # False: records created are not added to the similarity index, so new names are compared
    # with the names known before (an import of another system's records, whose own names are
    # told apart by their ids, not by how they read).
    index_created: bool = True
    created: list[int] = field(default_factory=list)
    resembling: list[Resemblance] = field(default_factory=list)
    _index: SimilarityIndex | None = None
    _pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    what = "record"

    def _load_index(self) -> SimilarityIndex:
        raise NotImplementedError

    def index(self) -> SimilarityIndex:
        if self._index is None:
            self._index = self._load_index()
        return self._index

    def suggestion(self, name: str) -> str:
        similar = self.index().similar(name)
        return f"; did you mean {_did_you_mean(similar)}?" if similar else ""

    def check_new(self, name: str, *, strict: bool, new: bool, explicit: bool = False) -> None:
        """Refuse (strict) or note (bulk) a new name like a known one; refuse any new name made
        implicitly (not by an explicit `add`) when the policy forbids creating."""
        if self.policy.refuse_new and not explicit:
            raise NotFound(
                f"no {self.what} {name!r}, and new {self.what}s are not created implicitly "
                f"({NEW_NAMES_ENV}=refuse): add it with 'tracker {self.what} add' first"
            )
        if new or self.policy.new:
            return
        similar = self.index().similar(name)
        if not similar:
            return
        if strict:
            raise NotFound(
                f"no {self.what} {name!r}; did you mean {_did_you_mean(similar)}? "
                f"Give --new if it is a different {self.what}"
            )
        self.resembling.append(Resemblance(name, similar))

    def _created(self, ident: int, changes: dict[str, Any]) -> None:
        self.created.append(ident)
        if self.history_each:
            _history(self.conn, self.what, [(ident, changes)])
        else:
            self._pending.append((ident, changes))

    def write_history(self) -> None:
        """One statement for the history of every record created since the last call."""
        _history(self.conn, self.what, self._pending)
        self._pending = []


@dataclass
class _NamedDirectory(_Directory):
    """Records known by a primary name and aliases kept in a name table (actors, incidents): a
    primary name is unique among all names, an alias may be shared, and a look-up by a shared
    alias is ambiguous."""

    _exact: dict[str, list[tuple[int, str, bool]]] | None = None  # preloaded: key -> names

    record: ClassVar[Any]  # the record's model (Actor)
    names: ClassVar[Any]  # its name table's model (ActorName)
    owner: ClassVar[str]  # the name table's column naming the record (actor_id)

    def _owner(self) -> Any:
        return getattr(self.names, self.owner)

    def preload(self) -> Self:
        self._exact = {}
        rows = self.conn.execute(
            select(self.names.key, self._owner(), self.names.name, self.names.is_primary)
        )
        for key, owner_id, name, primary in rows:
            self._exact.setdefault(key, []).append((owner_id, name, primary))
        return self

    def matches(self, name: str) -> list[tuple[int, str, bool]]:
        """(record id, the matching name as recorded, whether it is the primary) per record."""
        key = name_key(name)
        if self._exact is not None:
            return self._exact.get(key, [])
        rows = self.conn.execute(
            select(self._owner(), self.names.name, self.names.is_primary)
            .where(self.names.key == key)
            .order_by(self._owner())
        )
        return [(a, n, p) for a, n, p in rows]

    def _load_index(self) -> SimilarityIndex:
        index = SimilarityIndex()
        index.add_many(
            self.conn.execute(
                select(self._owner(), self.names.name, self.record.name).join(
                    self.record, self.record.id == self._owner()
                )
            )
        )
        return index

    def _label(self, ident: int) -> Any:
        return self.conn.execute(select(self.record.name).where(self.record.id == ident)).scalar()

    def _ambiguous(self, name: str, found: list[tuple[int, str, bool]]) -> Ambiguous:
        labels: dict[int, str] = dict(
            self.conn.execute(
                select(self.record.id, self.record.name).where(
                    self.record.id.in_([f[0] for f in found])
                )
            ).all()
        )
        return Ambiguous(
            f"{self.what} name", name, [f"#{a} {labels.get(a, n)!r}" for a, n, _ in found]
        )

    def check_name(self, name: str, *, primary: bool, actor_id: int | None = None) -> list[str]:
        """Whether `name` may become a name of record `actor_id` (None: a record being created):
        a primary name is unique among all names, an alias may not be another's primary name.
        Returns the other records that share it as an alias, for the user to be told."""
        shared = []
        for holder_id, _, holder_primary in self.matches(name):
            if holder_id == actor_id:
                continue
            if primary or holder_primary:
                raise Conflict(
                    f"the name {name!r} already belongs to {self.what} "
                    f"{self._label(holder_id)!r} (#{holder_id})"
                )
            shared.append(f"#{holder_id}")
        return shared

    def find(self, name: str) -> tuple[int, str | None] | None:
        """The record a name or alias names, and the alias it was given as (None if its own
        name); None if nobody has it. Ambiguous if several records share it."""
        found = self.matches(name)
        if len(found) > 1:
            raise self._ambiguous(name, found)
        if not found:
            return None
        owner_id, recorded, primary = found[0]
        return owner_id, None if primary else recorded

    def add_alias(self, actor_id: int, alias: str) -> None:
        """Give a record one more name, with its history entry."""
        alias = clean_actor_name(alias, "alias")
        self.check_name(alias, primary=False, actor_id=actor_id)
        key = name_key(alias)
        self.conn.execute(
            insert(self.names),
            {self.owner: actor_id, "name": alias, "key": key, "is_primary": False},
        )
        if self._exact is not None:
            self._exact.setdefault(key, []).append((actor_id, alias, False))
        if self._index is not None:
            self._index.add(actor_id, alias, alias)
        _history(self.conn, self.what, [(actor_id, {"aliases": {"added": [alias]}})], "edited")

    def resolve(
        self, name: str, *, create: bool = False, strict: bool = True, new: bool = False
    ) -> tuple[int, str | None]:
        """Find (see `find`) or, with `create`, add a record of this name.

        `strict`: a new name like a known one is refused with its candidates (commands);
        otherwise it is created and noted in `resembling` (bulk import)."""
        found = self.find(name)
        if found is not None:
            return found
        if not create:
            raise NotFound(f"no {self.what} {name.strip()!r}{self.suggestion(name)}")
        name = clean_actor_name(name)
        self.check_new(name, strict=strict, new=new)
        try:
            return self.create(name), None
        except NameTaken as taken:
            return taken.holder, None

    def create(self, name: str, **values: Any) -> int:
        raise NotImplementedError

    def _taken(self, name: str) -> NameTaken:
        """The record that holds `name` as its primary name, committed by another writer."""
        holder, recorded = self.conn.execute(
            select(self._owner(), self.names.name).where(
                self.names.key == name_key(name), self.names.is_primary
            )
        ).one()
        if self._exact is not None:
            self._exact.setdefault(name_key(name), []).append((holder, recorded, True))
        return NameTaken(
            f"the name {name!r} already belongs to {self.what} {recorded!r} (#{holder})", holder
        )

    def _create_named(
        self,
        name: str,
        values: dict[str, Any],
        aliases: Sequence[str],
        snapshot: Sequence[str],
    ) -> int:
        """A new record (its name already checked by the caller, its aliases here): its row,
        its names, its history (the fields of `snapshot`, in that order)."""
        for alias in aliases:
            self.check_name(alias, primary=False)
        at = now()
        # Core, not the ORM: no unit-of-work bookkeeping (the importer creates thousands).
        ident: int = self.conn.execute(
            insert(self.record).returning(self.record.id),
            {"uid": new_uid(), "name": name, **values, "created_at": at, "updated_at": at},
        ).scalar_one()
        row = {self.owner: ident, "name": name, "key": name_key(name), "is_primary": True}
        if (
            insert_unless_taken(self.conn, self.names, row, [self.names.key], self.names.is_primary)
            is None
        ):
            # Another writer's record took the name first: ours was never seen by anyone.
            self.conn.execute(delete(self.record).where(self.record.id == ident))
            raise self._taken(name)
        names = [(name, True)] + [
            (alias, False)
            for i, alias in enumerate(aliases)
            if name_key(alias) not in {name_key(n) for n in [name, *aliases[:i]]}
        ]
        if names[1:]:
            self.conn.execute(
                insert(self.names),
                [
                    {self.owner: ident, "name": n, "key": name_key(n), "is_primary": False}
                    for n, _ in names[1:]
                ],
            )
        for n, primary in names:
            if self._exact is not None:
                self._exact.setdefault(name_key(n), []).append((ident, n, primary))
            if self._index is not None and self.index_created:
                self._index.add(ident, n, name)
        fields = {"name": name, **values, "aliases": [n for n, p in names if not p]}
        self._created(ident, {key: fields.get(key) for key in snapshot})
        return ident


@dataclass
class ActorDirectory(_NamedDirectory):
    """Actors by name or alias."""

    what = "actor"
    record = Actor
    names = ActorName
    owner = "actor_id"

    def create(  # type: ignore[override]
        self,
        name: str,
        *,
        kind: str = "other",
        description: str | None = None,
        reliability: str | None = None,
        aliases: Sequence[str] = (),
    ) -> int:
        """A new actor (its name already checked by the caller, its aliases here)."""
        return self._create_named(
            name,
            {"kind": kind, "description": description, "reliability": reliability},
            aliases,
            ("name", "kind", "aliases", "description", "reliability"),
        )


@dataclass
class IncidentDirectory(_NamedDirectory):
    """Incidents by name or alias: resolved exactly as actors are."""

    what = "incident"
    record = Incident
    names = IncidentName
    owner = "incident_id"

    def create(  # type: ignore[override]
        self,
        name: str,
        *,
        kind: str = "other",
        started: str | None = None,
        ended: str | None = None,
        description: str | None = None,
        aliases: Sequence[str] = (),
    ) -> int:
        """A new incident (its name already checked by the caller, its aliases here)."""
        return self._create_named(
            name,
            {"kind": kind, "started": started, "ended": ended, "description": description},
            aliases,
            ("name", "kind", "aliases", "started", "ended", "description"),
        )


def identity_url(url: Any) -> Any:
    """A source's URL as its unique key holds it: no URL is the empty one."""
    return func.coalesce(url, literal_column("''"))


# `uq_source_identity` (models.Source) as ON CONFLICT names it: its columns, and its condition
# word for word (SQLite matches the text; it would not take `twin = 0` for `NOT twin`).
SOURCE_IDENTITY = [Source.title_key, identity_url(Source.url)]
NOT_TWIN = text("NOT twin")


@dataclass
class SourceDirectory(_Directory):
    """Sources by title and URL."""

    _exact: dict[tuple[str, str | None], int] | None = None  # preloaded: (title key, url) -> id
    _titles: dict[str, list[int]] | None = None

    what = "source"

    def preload(self) -> SourceDirectory:
        self._exact, self._titles = {}, {}
        rows = self.conn.execute(
            select(Source.title_key, Source.url, Source.id).order_by(Source.id)
        )
        for key, url, ident in rows:
            self._exact.setdefault((key, url or None), ident)
            self._titles.setdefault(key, []).append(ident)
        return self

    def _load_index(self) -> SimilarityIndex:
        index = SimilarityIndex()
        index.add_many(
            (ident, title, title)
            for ident, title in self.conn.execute(select(Source.id, Source.title))
        )
        return index

    def by_pair(self, title: str, url: str | None) -> int | None:
        """The source with this title and URL (no URL: a source without one)."""
        key = name_key(title)
        if self._exact is not None:
            return self._exact.get((key, url))
        query = select(func.min(Source.id)).where(Source.title_key == key)
        query = query.where(Source.url == url if url else Source.url.is_(None))
        return self.conn.execute(query).scalar()

    def same_title(self, title: str) -> list[int]:
        key = name_key(title)
        if self._titles is not None:
            return self._titles.get(key, [])
        return list(
            self.conn.execute(
                select(Source.id).where(Source.title_key == key).order_by(Source.id)
            ).scalars()
        )

    def check_new_source(
        self, title: str, url: str | None, *, strict: bool, new: bool, explicit: bool = False
    ) -> None:
        """A new source must be told apart from those with its title (by a URL of its own) and
        must not merely resemble a known title."""
        namesakes = self.same_title(title)
        if namesakes:
            if self.policy.refuse_new and not explicit:
                self.check_new(title, strict=strict, new=new)  # raises
            if url is not None or new or self.policy.new:
                return
            listed = [Similar(i, title, "the same title") for i in namesakes[:3]]
            if strict:
                raise InvalidInput(
                    f"a source titled {title!r} exists already ({_did_you_mean(listed)}); "
                    "give a --url that tells the new one apart, use the id, or give --new"
                )
            self.resembling.append(Resemblance(title, listed))
            return
        self.check_new(title, strict=strict, new=new, explicit=explicit)

    def namesake(self, title_key: str, url: str | None, *, other_than: int | None = None) -> bool:
        """Whether a source other than `other_than` already has this title and URL, read from
        the database itself (a source given them now is a namesake: `twin`)."""
        query = select(Source.id).where(
            Source.title_key == title_key, identity_url(Source.url) == identity_url(url)
        )
        if other_than is not None:
            query = query.where(Source.id != other_than)
        return self.conn.execute(query.limit(1)).first() is not None

    def create(
        self, row: dict[str, Any], publisher: str | None = None, *, namesake: bool = False
    ) -> int:
        """A new source from its column values (title, kind, publisher_id, authors, url, ...);
        `publisher` is the publisher's name, for the history. A source of this title and URL
        that exists already (another writer may have committed it a moment ago) is NameTaken,
        unless `namesake` (`source add --new`): then this one is added beside it as its twin."""
        at = now()
        values = {"uid": new_uid(), "authors": [], "created_at": at, "updated_at": at, **row}
        values["title_key"] = key = name_key(values["title"])
        url = values.get("url")
        values["twin"] = namesake and self.namesake(key, url)
        inserted = None
        if not values["twin"]:
            inserted = insert_unless_taken(self.conn, Source, values, SOURCE_IDENTITY, NOT_TWIN)
        if inserted is None and namesake:
            values["twin"] = True
            inserted = self.conn.execute(insert(Source).returning(Source.id), values).scalar()
        if inserted is None:
            holder = self.conn.execute(
                select(Source.id).where(
                    Source.title_key == key,
                    identity_url(Source.url) == identity_url(url),
                    ~Source.twin,
                )
            ).scalar_one()
            if self._exact is not None and self._titles is not None:
                self._exact.setdefault((key, url), holder)
                self._titles.setdefault(key, []).append(holder)
            with_url = " with this URL" if url else ""
            raise NameTaken(
                f"a source titled {values['title']!r}{with_url} exists already (#{holder})",
                holder,
            )
        ident: int = inserted
        self._known(ident, values, publisher)
        return ident

    def create_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """New sources (their titles checked by the caller) in one statement; their ids, in
        order. For imports that create thousands (the references of a STIX bundle)."""
        if len(rows) > MANY:  # in slices: the statement's parameters are held at once
            return [
                i for n in range(0, len(rows), MANY) for i in self.create_many(rows[n : n + MANY])
            ]
        if not rows:
            return []
        at = now()
        values = [
            {
                **dict.fromkeys(("publisher_id", "url", "published", "retrieved")),
                **{"reliability": None, "kind": "other", "authors": [], "twin": False},
                **row,
                "uid": new_uid(),
                "title_key": name_key(row["title"]),
                "created_at": at,
                "updated_at": at,
            }
            for row in rows
        ]
        ids: list[int] = list(
            self.conn.execute(
                insert(Source).returning(Source.id, sort_by_parameter_order=True), values
            ).scalars()
        )
        for ident, row in zip(ids, values, strict=True):
            self._known(ident, row, None)
        return ids

    def _known(self, ident: int, values: dict[str, Any], publisher: str | None) -> None:
        """A source just created: in the preloaded directories, and its history entry."""
        key = values["title_key"]
        if self._exact is not None and self._titles is not None:
            self._exact.setdefault((key, values.get("url")), ident)
            self._titles.setdefault(key, []).append(ident)
        if self._index is not None and self.index_created:
            self._index.add(ident, values["title"], values["title"])
        snapshot = {
            k: values.get(k)
            for k in ("title", "kind", "url", "published", "retrieved", "reliability", "authors")
        }
        snapshot["publisher"] = publisher
        self._created(ident, snapshot)


def actors(session: Any) -> ActorDirectory:
    """The session's actor directory (one per transaction, so look-ups share what they load)."""
    session.flush()  # Core look-ups must see what the ORM has pending
    found = session.info.get("actor_directory")
    if found is None or found.conn is not session.connection():
        found = ActorDirectory(session.connection(), policy_of(session.info))
        session.info["actor_directory"] = found
    return found  # type: ignore[no-any-return]


def sources(session: Any) -> SourceDirectory:
    session.flush()
    found = session.info.get("source_directory")
    if found is None or found.conn is not session.connection():
        found = SourceDirectory(session.connection(), policy_of(session.info))
        session.info["source_directory"] = found
    return found  # type: ignore[no-any-return]


def incidents(session: Any) -> IncidentDirectory:
    """The session's incident directory (see `actors`)."""
    session.flush()
    found = session.info.get("incident_directory")
    if found is None or found.conn is not session.connection():
        found = IncidentDirectory(session.connection(), policy_of(session.info))
        session.info["incident_directory"] = found
    return found  # type: ignore[no-any-return]
