"""Merging another notebook (a database or an `export all` folder) into this one, by uid.

Not to be confused with `tracker.services.merging`, which makes two records of one database
one. Here two databases that grew apart (a laptop's copy of the team's database, say) are
brought together:

- Records (actors, incidents, sources, claims) match by uid; a record new on the other side
  whose name is already a record's here (an actor's or incident's primary name, else an alias
  only one record has; a source's title and URL; a claim's claimant and text) is that record,
  as the find-or-create rule (`tracker.services.identity`) would have it.
- A record's *state* is its fields and what hangs off it (names, citations, subjects, tags,
  appearances, incidents, stances, victims, parts, the links it makes), with every reference
  by uid. Equal states: nothing to do.
- Which side changed it: there is no stored common ancestor, but history entries have uids and
  travel with every copy, dump and merge. Entries about the record found on both sides are the
  common past; one found only on one side is a change made there (the entries this merge writes
  do not count: they record taking a state, not making one). Changed on one side only: that
  side's state wins (theirs is taken, with a history entry `merged from OTHER`); on both, or on
  neither while the states differ: a conflict, listed and left alone unless `prefer` says.
- A record found on one side only is new there, unless the other side holds some of its
  history: then it was deleted there. Deletions are listed, never carried over either way.
- Verdicts are append-only ratings: those not here are added, and the claim's current verdict
  is the newest of all. History entries not here are added with their author and time, their
  record id translated to this database's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.db import Database, describe, driver_message
from tracker.errors import Conflict, StorageError, UsageError
from tracker.models import Base
from tracker.services.history import copy_entries, diff, record

# Records with a uid and a history, in the order they can be created (a claim needs its
# claimant, a source its publisher).
KINDS = ("actor", "incident", "source", "claim")
# Per kind: its rows' foreign keys to other records, column -> kind.
REFS: dict[str, dict[str, str]] = {
    "source": {"publisher_id": "actor"},
    "claim": {"claimant_id": "actor"},
}
# Per kind: the tables that hang off it, (table, the column naming it, its other references).
CHILDREN: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "actor": [("actor_name", "actor_id", {}), ("actor_part", "part_id", {"whole_id": "actor"})],
    "incident": [
        ("incident_name", "incident_id", {}),
        ("incident_victim", "incident_id", {"actor_id": "actor"}),
    ],
    "source": [("source_citation", "source_id", {"cited_id": "source"})],
    "claim": [
        ("claim_subject", "claim_id", {"actor_id": "actor"}),
        ("claim_tag", "claim_id", {}),
        ("appearance", "claim_id", {"source_id": "source"}),
        ("claim_incident", "claim_id", {"incident_id": "incident"}),
        ("claim_stance", "claim_id", {"actor_id": "actor"}),
        ("link", "from_id", {"to_id": "claim"}),
    ],
}
# What each of those tables is called in a state (and so in the history a merge writes).
FIELDS = {
    "actor_name": "names",
    "actor_part": "part_of",
    "incident_name": "names",
    "incident_victim": "victims",
    "source_citation": "cites",
    "claim_subject": "about",
    "claim_tag": "tags",
    "appearance": "sources",
    "claim_incident": "incidents",
    "claim_stance": "stances",
    "link": "links",
}
# Columns that are no part of a state: ids, bookkeeping, and what is derived from other rows
# (a claim's current verdict is its newest verdict entry's).
_NOT_STATE = {"id", "uid", "created_at", "updated_at", "key", "title_key", "text_hash"}
_NOT_STATE_OF = {"claim": {"verdict"}}
NAMED = {"actor": "actor_name", "incident": "incident_name"}

Prefer = Literal["ours", "theirs"]
Tables = dict[str, list[dict[str, Any]]]


def read_tables(conn: Connection) -> Tables:
    """Every row of every table of the schema, table name -> rows as dicts."""
    return {
        t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key))]
        for t in Base.metadata.sorted_tables
    }


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


# Values per IN (...) list: well under SQLite's limit of bound parameters.
CHUNK = 5000


def _where_in(
    conn: Connection, name: str, column: str, values: Iterable[Any], *where: Any
) -> list[dict[str, Any]]:
    table = _table(name)
    wanted = sorted(set(values) - {None})
    rows: list[dict[str, Any]] = []
    for start in range(0, len(wanted), CHUNK):
        query = select(table).where(table.c[column].in_(wanted[start : start + CHUNK]), *where)
        rows += [dict(r._mapping) for r in conn.execute(query)]
    return rows


# A notebook with at least this share of this database's claims (a full copy taken on the road)
# is merged after reading this database whole: one scan per table beats lists of ids.
WHOLE_READ_SHARE = 0.25


def read_ours(conn: Connection, theirs: Side) -> Tables:
    """The rows of this database a merge of `theirs` needs (`read_related`), or all of them when
    the notebook is about as large."""
    claims = conn.execute(select(func.count()).select_from(_table("claim"))).scalar_one()
    if len(theirs.tables["claim"]) >= WHOLE_READ_SHARE * claims:
        return read_tables(conn)
    return read_related(conn, theirs)


def read_related(conn: Connection, theirs: Side) -> Tables:
    """The rows of this database a merge of `theirs` needs, so that merging a laptop's notebook
    into a large team database reads about as much as the notebook holds: the records with their
    uids or names, what hangs off these and their history; the records sharing history with
    theirs; the records all these refer to (for their uids); and the verdicts concerned. Each
    row is read once."""
    tables: Tables = {name: [] for name in Base.metadata.tables}
    records: dict[str, dict[int, dict[str, Any]]] = {k: {} for k in KINDS}

    def load(kind: str, column: str, values: Iterable[Any]) -> None:
        known = records[kind]
        skip = known.keys() if column == "id" else ()
        for row in _where_in(conn, kind, column, (v for v in values if v not in skip)):
            known.setdefault(row["id"], row)

    for kind in KINDS:
        load(kind, "uid", (r["uid"] for r in theirs.tables[kind]))
    unmatched: dict[str, set[int]] = {}
    for kind in KINDS:
        here = {r["uid"] for r in records[kind].values()}
        unmatched[kind] = {r["id"] for r in theirs.tables[kind] if r["uid"] not in here}
    for kind, names in NAMED.items():
        keys = {n["key"] for n in theirs.tables[names] if n[f"{kind}_id"] in unmatched[kind]}
        load(kind, "id", (n[f"{kind}_id"] for n in _where_in(conn, names, "key", keys)))
    for kind, column in (("source", "title_key"), ("claim", "text_hash")):
        wanted = (r[column] for r in theirs.tables[kind] if r["id"] in unmatched[kind])
        load(kind, column, wanted)
    history: dict[str, dict[str, Any]] = {}
    referred: dict[str, set[int]] = {k: set() for k in KINDS}
    entity = _table("history").c.entity
    for kind in KINDS:
        loaded = list(records[kind])
        for column, ref in REFS.get(kind, {}).items():
            referred[ref] |= {r[column] for r in records[kind].values()}
        for name, parent, refs in CHILDREN[kind]:
            tables[name] = _where_in(conn, name, parent, loaded)
            for column, ref in refs.items():
                referred[ref] |= {r[column] for r in tables[name]}
        for entry in _where_in(conn, "history", "entity_id", loaded, entity == kind):
            history[entry["uid"]] = entry
    # Entries of theirs about records here that are not theirs any more: deleted there.
    for entry in _where_in(conn, "history", "uid", theirs.history_by_uid.keys() - history.keys()):
        history[entry["uid"]] = entry
        if entry["entity"] in KINDS:
            referred[entry["entity"]].add(entry["entity_id"])
    for kind in KINDS:
        load(kind, "id", referred[kind])
        tables[kind] = [records[kind][i] for i in sorted(records[kind])]
    tables["history"] = sorted(history.values(), key=lambda e: e["id"])
    tables["verdict"] = _where_in(conn, "verdict", "uid", theirs.verdict_uids)
    return tables


class Side:
    """One database's rows, indexed for the merge."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.by_id = {k: {r["id"]: r for r in tables[k]} for k in KINDS}
        self.by_uid = {k: {r["uid"]: r for r in tables[k]} for k in KINDS}
        self.children: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        for specs in CHILDREN.values():
            for table, parent, _ in specs:
                for row in tables[table]:
                    self.children.setdefault((table, row[parent]), []).append(row)
        self.history: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.history_by_uid: dict[str, dict[str, Any]] = {}
        for entry in tables["history"]:
            self.history.setdefault((entry["entity"], entry["entity_id"]), []).append(entry)
            self.history_by_uid[entry["uid"]] = entry
        self.verdict_uids = {v["uid"] for v in tables["verdict"]}
        self.names: dict[str, dict[str, list[tuple[int, bool]]]] = {}
        for kind, table in NAMED.items():
            index = self.names[kind] = {}
            for n in tables[table]:
                index.setdefault(n["key"], []).append((n[f"{kind}_id"], n["is_primary"]))
        self.source_keys: dict[tuple[str, str | None], dict[str, Any]] = {}
        for r in tables["source"]:
            self.source_keys.setdefault((r["title_key"], r["url"]), r)
        self.claim_keys = {(r["claimant_id"], r["text_hash"]): r for r in tables["claim"]}

    def kids(self, table: str, parent_id: int) -> list[dict[str, Any]]:
        return self.children.get((table, parent_id), [])

    def history_uids(self, kind: str, ident: int) -> set[str]:
        return {e["uid"] for e in self.history.get((kind, ident), [])}


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    conflicts: int = 0
    unchanged: int = 0


@dataclass
class Plan:
    """What a merge does: per kind, records to add and to update from theirs; and what it
    lists (conflicts, deletions). `canon` maps each of their uids to the uid of the same record
    here (itself, or the record matched by name)."""

    other: str
    prefer: Prefer | None
    canon: dict[str, dict[str, str]]
    add: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    take: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    history_skipped: int = 0
    unsettled: set[tuple[str, int]] = field(default_factory=set)  # their conflicted records
    history_held: int = 0
    dropped_links: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "from": self.other,
            "kinds": [
                {"kind": kind, **vars(self.counts[kind])} for kind in (*KINDS, "verdict", "history")
            ],
            "notes": self.notes,
            "history_skipped": self.history_skipped,
            "history_held": self.history_held,
        }


def _state(
    side: Side, kind: str, row: dict[str, Any], canon: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """A record's state as plain JSON values, every reference by (canonical) uid."""

    def uid(ref_kind: str, ident: int | None) -> str | None:
        if ident is None:
            return None
        found = side.by_id[ref_kind].get(ident)
        if found is None:
            return f"#{ident}"
        return canon.get(ref_kind, {}).get(found["uid"], found["uid"])

    refs = REFS.get(kind, {})
    skip = _NOT_STATE | _NOT_STATE_OF.get(kind, set())
    state: dict[str, Any] = {}
    for column, value in row.items():
        if column in skip:
            continue
        state[column] = uid(refs[column], value) if column in refs else value
    for table, parent, child_refs in CHILDREN[kind]:
        items = []
        for child in side.kids(table, row["id"]):
            item = {
                c: (uid(child_refs[c], v) if c in child_refs else v)
                for c, v in child.items()
                if c != parent and c not in _NOT_STATE
            }
            # One value as itself (a tag), several as JSON: readable in the history, exact here.
            only = next(iter(item.values())) if len(item) == 1 else None
            items.append(
                only
                if isinstance(only, str)
                else json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
            )
        state[FIELDS[table]] = sorted(items)
    return state


def plan_merge(ours: Side, theirs: Side, other: str, prefer: Prefer | None = None) -> Plan:
    """What merging `theirs` into `ours` would do; changes nothing."""
    plan = Plan(other=other, prefer=prefer, canon={k: {} for k in KINDS})
    matched: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for kind in KINDS:  # first every match: a state names records of every kind
        plan.add[kind], plan.take[kind], matched[kind] = [], [], []
        counts = plan.counts[kind] = Counts()
        for row in theirs.tables[kind]:
            mine = _match(ours, theirs, plan, kind, row)
            if mine is not None:
                plan.canon[kind][row["uid"]] = mine["uid"]
                matched[kind].append((mine, row))
            elif theirs.history_uids(kind, row["id"]) & ours.history_by_uid.keys():
                plan.notes.append(f"{kind} (uid {row['uid']}): deleted here, not brought back")
                counts.unchanged += 1
            else:
                plan.add[kind].append(row)
                counts.added += 1
    for kind in KINDS:
        for mine, row in matched[kind]:
            _classify(ours, theirs, plan, kind, mine, row)
        seen = set(plan.canon[kind].values())
        for row in ours.tables[kind]:
            if row["uid"] not in seen and (
                ours.history_uids(kind, row["id"]) & theirs.history_by_uid.keys()
            ):
                plan.notes.append(f"{_label(kind, row)}: deleted there, kept here")
    _plan_dangling_links(ours, theirs, plan)
    _plan_verdicts(ours, theirs, plan)
    _plan_history(ours, theirs, plan)
    return plan


def _plan_dangling_links(ours: Side, theirs: Side, plan: Plan) -> None:
    """A link of theirs to a claim deleted here is left out, as deleting it here removed the
    links to it."""
    added = {r["uid"] for r in plan.add["claim"]}
    for row in [*plan.add["claim"], *(r for _, r in plan.take["claim"])]:
        for link in theirs.kids("link", row["id"]):
            target = _claim_uid(theirs, plan, link["to_id"])
            if target not in ours.by_uid["claim"] and target not in added:
                plan.dropped_links.add(link["uid"])
                plan.notes.append(
                    f"their link uid {link['uid']} ({link['relation']}) from claim uid "
                    f"{row['uid']} is to a claim deleted here: left out"
                )


def _match(
    ours: Side, theirs: Side, plan: Plan, kind: str, row: dict[str, Any]
) -> dict[str, Any] | None:
    """The record here that is their `row`: the same uid, else the same name (a primary name,
    else an alias only one record has; a source's title and URL; a claim's claimant and text)."""
    found = ours.by_uid[kind].get(row["uid"])
    if found is not None:
        return found
    if kind in NAMED:
        names = theirs.kids(NAMED[kind], row["id"])
        key = next((n["key"] for n in names if n["is_primary"]), None)
        holders = ours.names[kind].get(key, []) if key is not None else []
        primary = [ident for ident, is_primary in holders if is_primary]
        chosen = primary or ([holders[0][0]] if len(holders) == 1 else [])
        return ours.by_id[kind][chosen[0]] if chosen else None
    if kind == "source":
        return ours.source_keys.get((row["title_key"], row["url"]))
    claimant = theirs.by_id["actor"][row["claimant_id"]]["uid"]
    here = ours.by_uid["actor"].get(plan.canon["actor"].get(claimant, claimant))
    if here is None:
        return None
    return ours.claim_keys.get((here["id"], row["text_hash"]))


def _classify(
    ours: Side,
    theirs: Side,
    plan: Plan,
    kind: str,
    mine: dict[str, Any],
    row: dict[str, Any],
) -> None:
    counts = plan.counts[kind]
    here = _state(ours, kind, mine, {})
    there = _state(theirs, kind, row, plan.canon)
    if here == there:
        counts.unchanged += 1
        return
    mine_h = ours.history_uids(kind, mine["id"])
    their_h = theirs.history_uids(kind, row["id"])
    changed_here = _made_changes(mine_h - their_h, ours)
    changed_there = _made_changes(their_h - mine_h, theirs)
    if changed_there and not changed_here:
        plan.take[kind].append((mine, row))
        counts.updated += 1
        return
    if changed_here and not changed_there:
        counts.unchanged += 1  # ours is the newer state: nothing to take
        return
    counts.conflicts += 1
    fields = _changed_fields(here, there)
    how = "changed here and there" if changed_here else "differs, and neither history says why"
    then = {"theirs": "took theirs", "ours": "kept ours", None: "left alone"}[plan.prefer]
    plan.notes.append(f"{_label(kind, mine)}: {how} (differs in {fields}); {then}")
    if plan.prefer == "theirs":
        plan.take[kind].append((mine, row))
    elif plan.prefer is None:
        # Its history there stays there until the conflict is settled: brought in now, their
        # changes would read as common past, and the next merge would keep ours unasked.
        plan.unsettled.add((kind, row["id"]))


def _made_changes(uids: set[str], side: Side) -> bool:
    """Whether any of these entries is a change made on `side`: the entries a merge writes take
    a state, they do not make one."""
    return any(not _is_merge_entry(side.history_by_uid[u]) for u in uids)


def _is_merge_entry(entry: dict[str, Any]) -> bool:
    changes = entry.get("changes")
    return isinstance(changes, dict) and changes.get("via") == "merge"


def _label(kind: str, row: dict[str, Any]) -> str:
    return f"{kind} #{row['id']} (uid {row['uid']})"


def _changed_fields(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    return ", ".join(k.replace("_", " ") for k in diff(ours, theirs))


def _claim_uid(side: Side, plan: Plan, claim_id: int) -> str | None:
    row = side.by_id["claim"].get(claim_id)
    return None if row is None else plan.canon["claim"].get(row["uid"], row["uid"])


def _plan_verdicts(ours: Side, theirs: Side, plan: Plan) -> None:
    """Their ratings this side lacks, of claims that are (or will be) here."""
    counts = plan.counts["verdict"] = Counts()
    added = {r["uid"] for r in plan.add["claim"]}
    for verdict in theirs.tables["verdict"]:
        if verdict["uid"] in ours.verdict_uids:
            counts.unchanged += 1
            continue
        claim = _claim_uid(theirs, plan, verdict["claim_id"])
        if claim in ours.by_uid["claim"] or claim in added:
            plan.verdicts.append(verdict)
            counts.added += 1


def _plan_history(ours: Side, theirs: Side, plan: Plan) -> None:
    """Their history entries this side lacks, each with the record here it is about: the same
    record by uid; for a record no longer there, the record here that shares its past."""
    counts = plan.counts["history"] = Counts()
    added = {k: {r["uid"] for r in plan.add[k]} for k in KINDS}
    for entry in theirs.tables["history"]:
        if entry["uid"] in ours.history_by_uid:
            counts.unchanged += 1
            continue
        kind, ident = entry["entity"], entry["entity_id"]
        if (kind, ident) in plan.unsettled:
            plan.history_held += 1
            continue
        row = theirs.by_id[kind].get(ident) if kind in KINDS else None
        uid = None if row is None else plan.canon[kind].get(row["uid"], row["uid"])
        target: tuple[str, Any] | None = None
        if uid is not None and (uid in ours.by_uid[kind] or uid in added[kind]):
            target = ("uid", uid)
        else:
            shared = theirs.history_uids(kind, ident) & ours.history_by_uid.keys()
            if shared:
                target = ("id", ours.history_by_uid[min(shared)]["entity_id"])
        if target is None:
            plan.history_skipped += 1  # a record made and deleted there: nothing here to be about
            continue
        plan.history.append({**entry, "target": target})
        counts.added += 1


class _Writer:
    """Applies a plan through one connection, translating their ids into ours by uid."""

    def __init__(self, session: Session, ours: Side, theirs: Side, plan: Plan) -> None:
        self.session = session
        self.conn = session.connection()
        self.theirs = theirs
        self.plan = plan
        self.ids: dict[str, dict[str, int]] = {
            k: {u: r["id"] for u, r in ours.by_uid[k].items()} for k in KINDS
        }
        self.ours = ours

    def our_id(self, kind: str, their_id: int, what: str) -> int:
        row = self.theirs.by_id[kind].get(their_id)
        uid = None if row is None else self.plan.canon[kind].get(row["uid"], row["uid"])
        if uid is None or uid not in self.ids[kind]:
            shown = f"#{their_id}" if row is None else f"uid {row['uid']}"
            raise Conflict(
                f"{what}: refers to {kind} {shown}, which is not here (deleted here?); "
                "nothing was merged"
            )
        return self.ids[kind][uid]

    def run(self, statement: Any, what: str, rows: Any = None) -> Any:
        try:
            return self.conn.execute(statement, rows) if rows else self.conn.execute(statement)
        except DBAPIError as exc:
            message = driver_message(exc)
            raise Conflict(
                f"{what}: the database refuses it ({message}); nothing was merged"
            ) from None

    def values(
        self, kind: str, row: dict[str, Any], skip: Iterable[str], what: str
    ) -> dict[str, Any]:
        out = {c: v for c, v in row.items() if c not in skip}
        for column, ref in REFS.get(kind, {}).items():
            if out.get(column) is not None:
                out[column] = self.our_id(ref, out[column], what)
        return out

    def apply(self) -> None:
        plan = self.plan
        created: list[tuple[str, int, dict[str, Any]]] = []
        for kind in KINDS:
            table = _table(kind)
            for row in plan.add[kind]:
                what = f"their {kind} #{row['id']} (uid {row['uid']})"
                values = self.values(kind, row, ("id",), what)
                ident = self.run(insert(table).values(values).returning(table.c.id), what)
                self.ids[kind][row["uid"]] = int(ident.scalar_one())
                created.append((kind, self.ids[kind][row["uid"]], row))
        for kind in KINDS:
            table = _table(kind)
            for mine, row in plan.take[kind]:
                what = _label(kind, mine)
                skip = ("id", "uid", "created_at", *_NOT_STATE_OF.get(kind, ()))
                values = self.values(kind, row, skip, what)
                self.run(update(table).where(table.c.id == mine["id"]).values(values), what)
        for kind, ident, row in created:
            self.children(kind, ident, row, f"their {kind} #{row['id']} (uid {row['uid']})")
        for kind in KINDS:
            for mine, row in plan.take[kind]:
                self.children(kind, mine["id"], row, _label(kind, mine))
        self.verdicts()
        self.history(created)

    def children(self, kind: str, ident: int, row: dict[str, Any], what: str) -> None:
        """Make the rows hanging off record `ident` here theirs."""
        for name, parent, refs in CHILDREN[kind]:
            table = _table(name)
            ours = {
                (r.get("relation"), r.get("to_id")): r["uid"]
                for r in self.ours.kids(name, ident)
                if "uid" in r
            }
            self.run(delete(table).where(table.c[parent] == ident), what)
            rows = []
            for child in self.theirs.kids(name, row["id"]):
                if child.get("uid") in self.plan.dropped_links:
                    continue
                values = {c: v for c, v in child.items() if c != "id"}
                values[parent] = ident
                for column, ref in refs.items():
                    values[column] = self.our_id(ref, child[column], what)
                if "uid" in values:  # a link this side already has keeps its uid
                    values["uid"] = ours.get((values["relation"], values["to_id"]), values["uid"])
                rows.append(values)
            if rows:
                self.run(insert(table), what, rows)

    def verdicts(self) -> None:
        from tracker.models import Claim, VerdictEntry

        touched: set[int] = set()
        rows = []
        for verdict in self.plan.verdicts:
            what = f"their verdict uid {verdict['uid']}"
            values = {c: v for c, v in verdict.items() if c != "id"}
            values["claim_id"] = self.our_id("claim", verdict["claim_id"], what)
            touched.add(values["claim_id"])
            rows.append(values)
        if rows:
            self.run(insert(VerdictEntry), "their verdicts", rows)
        for claim_id in sorted(touched):
            newest = self.conn.execute(
                select(VerdictEntry.verdict)
                .where(VerdictEntry.claim_id == claim_id)
                .order_by(VerdictEntry.created_at.desc(), VerdictEntry.id.desc())
                .limit(1)
            ).scalar()
            self.conn.execute(update(Claim).where(Claim.id == claim_id).values(verdict=newest))

    def history(self, created: list[tuple[str, int, dict[str, Any]]]) -> None:
        plan = self.plan
        entries = []
        for entry in plan.history:
            how, ref = entry["target"]
            ident = self.ids[entry["entity"]][ref] if how == "uid" else ref
            entries.append(
                {k: v for k, v in entry.items() if k not in ("id", "target")} | {"entity_id": ident}
            )
        copy_entries(self.conn, entries)
        origin = {"via": "merge", "from": plan.other}
        for kind, ident, _ in created:
            record(self.session, kind, ident, "created", origin)
        for kind in KINDS:
            for mine, row in plan.take[kind]:
                here = _state(self.ours, kind, mine, {})
                there = _state(self.theirs, kind, row, plan.canon)
                record(self.session, kind, mine["id"], "edited", diff(here, there) | origin)


def apply_merge(session: Session, ours: Side, theirs: Side, plan: Plan) -> None:
    """Carry out `plan` (from `plan_merge` over the same sides) in the session's transaction."""
    _Writer(session, ours, theirs, plan).apply()


def read_other(other: str, here: Database) -> tuple[Tables, str]:
    """The rows of the notebook to merge: an `export all` folder (every rule of `import all`
    applied), or a database file or URL, opened read-only and left as it is. Its schema must be
    this tracker's: an older one is upgraded where it lives first, a newer one refused. Returns
    the rows, and where they came from fit to print and to keep in the history (no password)."""
    from tracker.db import HEAD_REVISION, known_revisions, newer_message, open_database
    from tracker.services.dump import read_dump, snapshot

    folder = Path(other).expanduser()
    if folder.is_dir():
        return read_dump(folder), str(folder.resolve())
    database = open_database(other, write=False, migrate=False)
    try:
        if _same(database.url, here.url):
            raise UsageError("OTHER is this database; name another one to merge")
        where = describe(database.url)
        if database.revision is None:
            raise StorageError(f"{where} holds no tracker database")
        if database.revision not in known_revisions():
            raise StorageError(f"{where}: " + newer_message(database.revision))
        if database.revision != HEAD_REVISION:
            raise StorageError(
                f"{where} is at schema revision {database.revision}, this tracker writes "
                f"{HEAD_REVISION}: upgrade it first (tracker --db {where} db upgrade); "
                "nothing was changed"
            )
        with snapshot(database) as conn:
            return read_tables(conn), where
    finally:
        database.close()


def _same(a: URL, b: URL) -> bool:
    return a.render_as_string(hide_password=False) == b.render_as_string(hide_password=False)


def merge_notebook(
    database: Database, other: str, *, prefer: Prefer | None = None, dry_run: bool = False
) -> Plan:
    """Merge `other` into `database` in one transaction, or with `dry_run` only say what that
    would do. Returns the plan, whose `summary()` is what was (or would be) done."""
    tables, label = read_other(other, database)
    theirs = Side(tables)
    with database.session(write=not dry_run) as session:
        ours = Side(read_ours(session.connection(), theirs))
        plan = plan_merge(ours, theirs, label, prefer)
        if not dry_run:
            apply_merge(session, ours, theirs, plan)
    return plan
