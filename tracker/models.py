"""The ORM model: actors, sources, claims and what connects them. Schema changes go through
Alembic (migrations/); tests check that these classes and the migrations agree."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so that migrations can drop them on SQLite too.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned with its zone (SQLite forgets it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def new_uid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PublicId:
    """A short integer id users type, and a UUID that survives dumps, merges and re-imports."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class Actor(PublicId, Timestamps, Base):
    __tablename__ = "actor"
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    description: Mapped[str | None] = mapped_column(Text)
    # Admiralty grade of the actor as a source of information (A..F), apart from any document's.
    reliability: Mapped[str | None] = mapped_column(String(1))
    names: Mapped[list["ActorName"]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", order_by="ActorName.id"
    )

    @property
    def aliases(self) -> list[str]:
        return [n.name for n in self.names if not n.is_primary]


class ActorName(Base):
    """Every name an actor goes by, its own name included. A primary name is unique among all
    names; an alias may be shared (vendors give different groups the same alias), and a look-up
    by a shared alias is ambiguous, never a silent pick."""

    __tablename__ = "actor_name"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    actor: Mapped[Actor] = relationship(back_populates="names")
    __table_args__ = (
        UniqueConstraint("actor_id", "key"),
        Index(
            "uq_actor_name_primary_key",
            "key",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )


class SourceCitation(Base):
    """Source `source_id` reports, cites or derives from source `cited_id` (PROV wasDerivedFrom)."""

    __tablename__ = "source_citation"
    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), primary_key=True
    )
    cited_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    __table_args__ = (CheckConstraint("source_id <> cited_id", name="not_self"),)


class Source(PublicId, Timestamps, Base):
    __tablename__ = "source"
    title: Mapped[str] = mapped_column(String(300))
    title_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id"), index=True)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    published: Mapped[str | None] = mapped_column(String(10))
    retrieved: Mapped[str | None] = mapped_column(String(10))
    reliability: Mapped[str | None] = mapped_column(String(1))
    # A namesake added on purpose (`source add --new`): a source with the same title and URL
    # came first. The first of each title and URL is unique, so that writers running side by
    # side create each source once (services/identity.py).
    twin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    publisher: Mapped[Actor | None] = relationship()
    cites: Mapped[list["Source"]] = relationship(
        secondary="source_citation",
        primaryjoin="Source.id == SourceCitation.source_id",
        secondaryjoin="Source.id == SourceCitation.cited_id",
        order_by="Source.id",
    )
    __table_args__ = (
        Index(
            "uq_source_identity",
            "title_key",
            text("coalesce(url, '')"),
            unique=True,
            sqlite_where=text("NOT twin"),
            postgresql_where=text("NOT twin"),
        ),
    )


class Claim(PublicId, Timestamps, Base):
    __tablename__ = "claim"
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the normalized text: one claimant cannot hold the same claim twice, and the
    # unique index stays small on PostgreSQL whatever the text's length.
    text_hash: Mapped[str] = mapped_column(String(64))
    quote: Mapped[str | None] = mapped_column(Text)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), index=True)
    # The name the claim was attributed under, when it is not the claimant's own (an alias such
    # as "Guardians of Peace"): evidence, kept as given.
    claimant_as: Mapped[str | None] = mapped_column(String(300))
    stated: Mapped[str | None] = mapped_column(String(10), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    credibility: Mapped[int | None] = mapped_column(SmallInteger)
    # The confidence the claimant states (ICD 203: low, moderate, high): not our credibility
    # grade, not a verdict.
    confidence: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="unreviewed", index=True)
    # The newest entry of the verdict history, kept here so filters and reports need no subquery.
    verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    claimant: Mapped[Actor] = relationship()
    subjects: Mapped[list[Actor]] = relationship(secondary="claim_subject", order_by="Actor.id")
    appearances: Mapped[list["Appearance"]] = relationship(
        cascade="all, delete-orphan", order_by="Appearance.position"
    )
    tags: Mapped[list["ClaimTag"]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimTag.tag"
    )
    incidents: Mapped[list["Incident"]] = relationship(
        secondary="claim_incident", order_by="Incident.id"
    )
    stances: Mapped[list["ClaimStance"]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimStance.actor_id"
    )
    __table_args__ = (
        UniqueConstraint("claimant_id", "text_hash"),
        CheckConstraint("credibility BETWEEN 1 AND 6", name="credibility_range"),
        {"sqlite_autoincrement": True},  # a deleted claim's id is never handed out again
    )


class ClaimSubject(Base):
    """The actors a claim is about (or blames)."""

    __tablename__ = "claim_subject"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), primary_key=True, index=True)
    as_name: Mapped[str | None] = mapped_column(String(300))  # the name given, if an alias


class ClaimTag(Base):
    __tablename__ = "claim_tag"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Appearance(Base):
    """A claim appears in a source; the lowest position is its first appearance."""

    __tablename__ = "appearance"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[Source] = relationship()


class Link(Base):
    """A directed, typed link: claim `from_id` <relation> claim `to_id` (3 disputes 1)."""

    __tablename__ = "link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    from_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(20))
    to_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    __table_args__ = (
        UniqueConstraint("from_id", "relation", "to_id"),
        CheckConstraint("from_id <> to_id", name="not_self"),
    )


class VerdictEntry(Base):
    """One rating of a claim; the newest is its current verdict."""

    __tablename__ = "verdict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class HistoryEntry(Base):
    """The audit trail. Not tied to its record by a foreign key: it outlives deletions.

    Append-only, and chained (tracker.chain): when its transaction commits, an entry gets its
    place `seq`, the `hash` of the entry before it and its own SHA-256 over both and its
    content; a database trigger refuses any other change and any deletion. `by` is who the
    writer said they were (TRACKER_USER, --by); on PostgreSQL `role` is the database role that
    wrote it, set by a trigger, never by the client.
    """

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    role: Mapped[str | None] = mapped_column(String(63))
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_history_entity", "entity", "entity_id"),
        Index("ix_history_seq", "seq", unique=True),
        # Holds only the entries of transactions not yet committed: sealing finds them at once.
        Index(
            "ix_history_unsealed",
            "id",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
    )


class HistoryHead(Base):
    """The chain's last (seq, hash), one row moved forward at each seal: a history cut short at
    its end no longer reaches it. Only moves forward (a trigger)."""

    __tablename__ = "history_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class ActorPart(Base):
    """Actor `part_id` is part of actor `whole_id` (a unit of an agency of a state). The tree
    has no cycles: the service refuses one, the check refuses the shortest."""

    __tablename__ = "actor_part"
    part_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True
    )
    whole_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    __table_args__ = (CheckConstraint("part_id <> whole_id", name="not_self"),)


class Incident(PublicId, Timestamps, Base):
    """What happened: an intrusion, a theft, a leak, an influence operation."""

    __tablename__ = "incident"
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), default="other")
    started: Mapped[str | None] = mapped_column(String(10))
    ended: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    names: Mapped[list["IncidentName"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentName.id"
    )
    victims: Mapped[list[Actor]] = relationship(secondary="incident_victim", order_by="Actor.id")

    @property
    def aliases(self) -> list[str]:
        return [n.name for n in self.names if not n.is_primary]


class IncidentName(Base):
    """Every name an incident goes by, as `actor_name` for actors: a primary name is unique,
    an alias may be shared."""

    __tablename__ = "incident_name"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    incident: Mapped[Incident] = relationship(back_populates="names")
    __table_args__ = (
        UniqueConstraint("incident_id", "key"),
        Index(
            "uq_incident_name_primary_key",
            "key",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )


class IncidentVictim(Base):
    __tablename__ = "incident_victim"
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), primary_key=True, index=True)


class ClaimIncident(Base):
    """The incidents a claim concerns."""

    __tablename__ = "claim_incident"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id"), primary_key=True, index=True
    )


class ClaimStance(Base):
    """The claim's stance toward an actor's responsibility: it `blames` the actor, `clears` it,
    or says it is the `same-as` the claim's other same-as actors. One stance per actor."""

    __tablename__ = "claim_stance"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), primary_key=True, index=True)
    stance: Mapped[str] = mapped_column(String(10), index=True)


EXTERNAL_RECORDS = ("actor_id", "incident_id", "source_id", "claim_id")
# Portable (PostgreSQL does not add booleans): exactly one record column is set.
ONE_RECORD = (
    " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in EXTERNAL_RECORDS) + " = 1"
)


class ExternalId(Base):
    """A record's id in another system: a STIX object's id (`stix`), or the citation name an
    ATT&CK description cites a reference by (`stix-citation`). A re-import matches by it before
    any name, and `modified` (the STIX version last imported) says whether the object changed.
    Exactly one of the record columns is set; merging or deleting the record carries it along."""

    __tablename__ = "external_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(300))
    modified: Mapped[str | None] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), index=True
    )
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), index=True
    )
    __table_args__ = (
        UniqueConstraint("scheme", "value"),
        CheckConstraint(ONE_RECORD, name="one_record"),
    )
