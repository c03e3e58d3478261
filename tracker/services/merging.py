"""Merging, unmerging and deleting actors and sources, each previewed first and undoable.

Which rows refer to an actor or a source is read from the schema itself (every foreign key that
points at it), so a table added later is merged, restored and guarded without a change here.

A merge moves every referring row from OTHER to KEEP. A row that would then repeat one KEEP
already has (a claim about both, the same alias twice, a source citing itself) is dropped; a
row that is a record of its own (a claim both actors made) stops the merge instead. The history
entry of the merge holds OTHER's full former row, every column it changed (with the old value)
and every row it dropped, so `unmerge` puts back exactly what was there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker.errors import Conflict, NotFound
from tracker.models import (
    Actor,
    ActorName,
    Base,
    HistoryEntry,
    Incident,
    IncidentName,
    Source,
    UTCDateTime,
)
from tracker.services import identity
from tracker.services.common import record

# Tables whose rows are records of their own: a merge that would make two of them one is refused.
RECORDS = {"claim"}


def _referrers(target: Table) -> list[tuple[Table, str]]:
    """(table, column) of every foreign key pointing at `target`'s id."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target and fk.column.name == "id":
                found.append((table, fk.parent.name))
    return found


def _unique_keys(table: Table) -> list[list[str]]:
    keys = [[c.name for c in table.primary_key.columns]]
    for constraint in table.constraints:
        columns = getattr(constraint, "columns", None)
        if columns is not None and constraint.__class__.__name__ == "UniqueConstraint":
            keys.append([c.name for c in columns])
    return keys


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {c.name: _encode(v) for c, v in zip(table.columns, row, strict=True)}


def _decode(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = values.get(column.name)
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def _pk(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    return {c.name: values[c.name] for c in table.primary_key.columns}


def _where(table: Table, key: dict[str, Any]) -> Any:
    return and_(*(table.c[name] == value for name, value in key.items()))


@dataclass
class Plan:
    """What a merge or delete will change, for the user to see before it happens."""

    entity: str
    keep: dict[str, Any] | None
    other: dict[str, Any]
    # table -> [(the row as it is, {column: (old, new)})]
    changed: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = field(default_factory=dict)
    dropped: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows
    refused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The preview, one line per kind of change."""
        out = []
        for table, rows in self.changed.items():
            out.append(f"  {_describe(table, [row for row, _ in rows], 'move')}")
        for table, dropped in self.dropped.items():
            out.append(f"  {_describe(table, dropped, 'drop')}")
        return out or ["  nothing refers to it"]


_WHAT = {
    # table: (moved, dropped)
    "claim": ("claims it made, reassigned", "claims"),
    "claim_subject": ("claims about it, moved", "claims about both: the second subject dropped"),
    "actor_name": ("names, moved (they become aliases)", "names both have: dropped once"),
    "source": ("sources it published, moved", "sources"),
    "appearance": ("claim appearances, moved", "claims in both: the second appearance dropped"),
    "source_citation": ("citations, moved", "citations that would repeat or loop: dropped"),
    "incident_name": ("names, moved (they become aliases)", "names both have: dropped once"),
    "incident_victim": ("victims, moved", "victims of both: dropped once"),
    "claim_incident": ("claims about it, moved", "claims about both: the second dropped"),
    "claim_stance": ("stances toward it, moved", "claims with a stance toward both: dropped"),
    "actor_part": ("places in the actor tree, moved", "tree links that would repeat or loop"),
}

# Tables linking a record to another of its kind: a merge must not make a row link one to
# itself. table -> its two columns.
_SELF_LINKS = {"source_citation": ("source_id", "cited_id"), "actor_part": ("part_id", "whole_id")}
# Tables holding a record's names: those moved become aliases.
_NAME_TABLES = {"actor_name", "incident_name"}


def _label(table: str, row: dict[str, Any]) -> str:
    if table in _NAME_TABLES:
        return repr(row["name"])
    if table in ("claim_subject", "appearance", "claim_incident", "claim_stance"):
        return f"claim #{row['claim_id']}"
    if table == "source_citation":
        return f"#{row['source_id']} cites #{row['cited_id']}"
    if table == "actor_part":
        return f"#{row['part_id']} part of #{row['whole_id']}"
    if table == "incident_victim":
        return f"incident #{row['incident_id']}"
    return f"#{row.get('id', '?')}"


def _describe(table: str, rows: list[dict[str, Any]], verb: str) -> str:
    moved, dropped = _WHAT.get(table, (f"{table} rows, moved", f"{table} rows: dropped"))
    shown = ", ".join(_label(table, r) for r in rows[:10])
    more = f", ... and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f"{len(rows)} {moved if verb == 'move' else dropped}: {shown}{more}"


def _entity_table(entity: str) -> Table:
    tables: dict[str, Any] = {
        "actor": Actor.__table__,
        "source": Source.__table__,
        "incident": Incident.__table__,
    }
    return tables[entity]  # type: ignore[no-any-return]


LABELS = {"actor": "name", "source": "title", "incident": "name"}  # the column a record is known by


def resolve(session: Session, entity: str, ref: str) -> int:
    """The id of the actor, source or incident `ref` names (by the rules of every command)."""
    if entity == "incident":
        from tracker.services.incidents import resolve_incident

        return resolve_incident(session, ref).id
    if entity == "actor":
        from tracker.services.actors import resolve_actor

        return resolve_actor(session, ref).id
    from tracker.services.sources import resolve_source

    return resolve_source(session, ref).id


def plan_merge_refs(session: Session, entity: str, keep_ref: str, other_ref: str) -> Plan:
    """What folding OTHER into KEEP would change (nothing is changed)."""
    keep, other = resolve(session, entity, keep_ref), resolve(session, entity, other_ref)
    if keep == other:
        name = (
            session.connection()
            .execute(
                select(_entity_table(entity).c[LABELS[entity]]).where(
                    _entity_table(entity).c.id == keep
                )
            )
            .scalar()
        )
        raise Conflict(f"cannot merge {entity} {name!r} (#{keep}) into itself")
    return plan_merge(session.connection(), entity, keep, other)


def merge(session: Session, entity: str, keep_ref: str, other_ref: str) -> Plan:
    """Fold OTHER into KEEP; `unmerge` undoes it. Returns what was done."""
    plan = plan_merge_refs(session, entity, keep_ref, other_ref)
    apply_merge(session, plan)
    return plan


def plan_delete_ref(session: Session, entity: str, ref: str) -> Plan:
    return plan_delete(session.connection(), entity, resolve(session, entity, ref))


def delete_record(session: Session, entity: str, ref: str) -> int:
    """Delete an actor or source nothing refers to (its history stays); else refused."""
    plan = plan_delete_ref(session, entity, ref)
    apply_delete(session, plan)
    return int(plan.other["id"])


def unmerge_ref(session: Session, entity: str, ref: str) -> dict[str, Any]:
    from tracker.errors import InvalidInput
    from tracker.services.common import parse_id

    ident = parse_id(ref)
    if ident is None:
        raise InvalidInput(
            f"give the id the merged {entity} had (as '{entity} history' shows it), not {ref!r}"
        )
    return unmerge(session, entity, ident)


def plan_merge(conn: Connection, entity: str, keep_id: int, other_id: int) -> Plan:
    """Every row a merge of OTHER into KEEP would change or drop; `refused` says why it can't."""
    target = _entity_table(entity)
    keep = conn.execute(select(target).where(target.c.id == keep_id)).first()
    other = conn.execute(select(target).where(target.c.id == other_id)).first()
    assert keep is not None and other is not None
    plan = Plan(entity, _row(target, keep), _row(target, other))
    other_name = plan.other.get("name")
    for table, column in _referrers(target):
        rows = [
            _row(table, r)
            # In key order: PostgreSQL returns an unordered scan in whatever order its pages
            # hold, and the preview (and the undo record) must not depend on that.
            for r in conn.execute(
                select(table)
                .where(table.c[column] == other_id)
                .order_by(*table.primary_key.columns)
            )
        ]
        if not rows:
            continue
        existing = [
            _row(table, r)
            for r in conn.execute(
                select(table).where(table.c[column] == keep_id).order_by(*table.primary_key.columns)
            )
        ]
        keys = _unique_keys(table)
        seen = {(tuple(key), tuple(r[c] for c in key)) for key in keys for r in existing}
        for values in rows:
            moved = {**values, column: keep_id}
            extra = _extra(table.name, values, other_name)
            moved.update(extra)
            clash = any((tuple(key), tuple(moved[c] for c in key)) in seen for key in keys)
            pair = _SELF_LINKS.get(table.name)
            loops = pair is not None and moved[pair[0]] == moved[pair[1]]
            if clash or loops:
                if table.name in RECORDS:
                    twin = next(
                        r["id"]
                        for r in existing
                        for key in keys[1:]
                        if all(r[c] == moved[c] for c in key)
                    )
                    label = LABELS[entity]
                    assert plan.keep is not None
                    plan.refused.append(
                        f"{table.name} #{values['id']} by {plan.other[label]!r} repeats "
                        f"{table.name} #{twin} by {plan.keep[label]!r}; link them with 'repeats' "
                        "or delete one first"
                    )
                plan.dropped.setdefault(table.name, []).append(values)
                continue
            seen.update((tuple(key), tuple(moved[c] for c in key)) for key in keys)
            changes = {c: (values[c], moved[c]) for c in moved if moved[c] != values[c]}
            plan.changed.setdefault(table.name, []).append((values, changes))
    return plan


def _extra(table: str, values: dict[str, Any], other_name: Any) -> dict[str, Any]:
    """What else a moved row changes: OTHER's names become aliases, and claims made by or about
    it keep the name they were attributed under (an alias is evidence)."""
    if table in _NAME_TABLES:
        return {"is_primary": False}
    if table == "claim" and values.get("claimant_as") is None and other_name:
        return {"claimant_as": other_name}
    if table == "claim_subject" and values.get("as_name") is None and other_name:
        return {"as_name": other_name}
    return {}


def _tables() -> dict[str, Table]:
    return dict(Base.metadata.tables)


def apply_merge(session: Session, plan: Plan) -> None:
    if plan.refused:
        raise Conflict(f"cannot merge: {plan.refused[0]}")
    assert plan.keep is not None
    conn = session.connection()
    tables = _tables()
    for name, dropped in plan.dropped.items():
        table = tables[name]
        for values in dropped:
            conn.execute(delete(table).where(_where(table, _pk(table, values))))
    for name, rows in plan.changed.items():
        table = tables[name]
        for values, changes in rows:
            conn.execute(
                update(table)
                .where(_where(table, _pk(table, values)))
                .values({c: new for c, (_, new) in changes.items()})
            )
    target = _entity_table(plan.entity)
    conn.execute(delete(target).where(target.c.id == plan.other["id"]))
    undo: dict[str, Any] = {
        "merged": plan.other,
        "changed": {
            name: [
                [_pk(tables[name], values), {c: [old, new] for c, (old, new) in changes.items()}]
                for values, changes in rows
            ]
            for name, rows in plan.changed.items()
        },
        "dropped": plan.dropped,
    }
    names_table = f"{plan.entity}_name"
    if names_table in _NAME_TABLES:
        undo["names"] = [v["name"] for v, _ in plan.changed.get(names_table, [])] + [
            v["name"] for v in plan.dropped.get(names_table, [])
        ]
    label = LABELS[plan.entity]
    record(session, plan.entity, plan.keep["id"], "merged", undo)
    record(
        session,
        plan.entity,
        plan.other["id"],
        "merged-into",
        {"into": {"id": plan.keep["id"], label: plan.keep[label]}},
    )
    _claims_history(session, plan, label)
    session.expire_all()


def _claims_history(session: Session, plan: Plan, label: str) -> None:
    """Each claim the merge touched says so in its own history."""
    assert plan.keep is not None
    before, after = plan.other[label], plan.keep[label]
    field = {
        "claim": "claimant",
        "claim_subject": "about",
        "appearance": "sources",
        "claim_incident": "incidents",
    }
    for table, name in field.items():
        rows = [values for values, _ in plan.changed.get(table, [])]
        rows += plan.dropped.get(table, [])
        for values in rows:
            claim_id = values["id"] if table == "claim" else values["claim_id"]
            if name == "claimant":
                change: dict[str, Any] = {"from": before, "to": after}
            else:
                change = {"removed": [before], "added": [after]}
            record(session, "claim", claim_id, "edited", {name: change})


def unmerge(session: Session, entity: str, ident: int) -> dict[str, Any]:
    """Put back a record that a merge folded into another: its row (same id and uid), every row
    the merge moved or dropped. Returns the restored record's row."""
    target = _entity_table(entity)
    conn = session.connection()
    if conn.execute(select(target.c.id).where(target.c.id == ident)).first() is not None:
        raise Conflict(f"{entity} #{ident} exists: it is not merged into another")
    merges = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == entity, HistoryEntry.action == "merged")
        .order_by(HistoryEntry.id.desc())
    )
    found = next((e for e in merges if (e.changes.get("merged") or {}).get("id") == ident), None)
    if found is None:
        raise NotFound(f"no merge of {entity} #{ident} is recorded")
    undo = found.changes
    tables = _tables()
    restored = _decode(target, undo["merged"])
    if entity == "source":
        # A namesake of a source now known by its title and URL (or merged before sources had
        # `twin`) comes back as its twin: the unique key admits one source by each.
        directory = identity.SourceDirectory(conn)
        restored["twin"] = directory.namesake(restored["title_key"], restored["url"])
    conn.execute(insert(target), restored)
    for name, rows in undo.get("changed", {}).items():
        table = tables[name]
        for key, changes in rows:
            # The row's key as the merge left it (a key column may be what it changed).
            now_key = {c: (changes[c][1] if c in changes else v) for c, v in key.items()}
            conn.execute(
                update(table)
                .where(_where(table, now_key))
                .values({c: old for c, (old, _) in changes.items()})
            )
    for name, rows in undo.get("dropped", {}).items():
        table = tables[name]
        conn.execute(insert(table), [_decode(table, values) for values in rows])
    record(
        session,
        entity,
        found.entity_id,
        "unmerged",
        {"restored": {"id": ident, "uid": undo["merged"].get("uid")}},
    )
    record(session, entity, ident, "restored", {"from": {"id": found.entity_id}})
    session.expire_all()
    return undo["merged"]  # type: ignore[no-any-return]


def plan_delete(conn: Connection, entity: str, ident: int) -> Plan:
    """What refers to the record (it may be deleted only when nothing does)."""
    target = _entity_table(entity)
    row = conn.execute(select(target).where(target.c.id == ident)).first()
    assert row is not None
    plan = Plan(entity, None, _row(target, row))
    for table, column in _referrers(target):
        own = table.name in (f"{entity}_name", "external_id")  # carried off with it
        rows = [_row(table, r) for r in conn.execute(select(table).where(table.c[column] == ident))]
        if rows and not own:
            plan.refused.append(f"{len(rows)} {table.name.replace('_', ' ')} row(s)")
    return plan


def apply_delete(session: Session, plan: Plan) -> None:
    label = plan.entity
    if plan.refused:
        ident = plan.other["id"]
        raise Conflict(
            f"cannot delete {label} #{ident}: {', '.join(plan.refused)} refer to it; merge it "
            f"into another {label} instead ('tracker {label} merge KEEP {ident}')"
        )
    target = _entity_table(plan.entity)
    conn = session.connection()
    snapshot = dict(plan.other)
    names = {"actor": ActorName.__table__, "incident": IncidentName.__table__}.get(plan.entity)
    if names is not None:
        snapshot["names"] = [
            {"name": n, "is_primary": p}
            for n, p in conn.execute(
                select(names.c.name, names.c.is_primary)
                .where(names.c[f"{plan.entity}_id"] == plan.other["id"])
                .order_by(names.c.id)
            )
        ]
    conn.execute(delete(target).where(target.c.id == plan.other["id"]))
    record(session, plan.entity, plan.other["id"], "deleted", snapshot)
    session.expire_all()


def same_plan(a: Plan, b: Plan) -> bool:
    """Whether nothing changed between a preview and the change itself."""
    return (a.other, a.changed, a.dropped, a.refused) == (b.other, b.changed, b.dropped, b.refused)
