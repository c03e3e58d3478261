"""The change history: how each change is written, and how it reads back as a sentence.

The writers (`changed`, `listed`, `diff`, `record`) and the reader (`describe`) sit side by side
so the format has one definition. An entry's `changes` is a JSON object:

- edited: each changed field maps to `{"from": old, "to": new}` (a scalar) or to
  `{"added": [...], "removed": [...]}` (a list field: tags, sources, about, aliases, cites;
  either key may be absent);
- created / deleted: the record's snapshot, field -> value;
- linked / unlinked: `{"from": id, "relation": r, "to": id, "note": ...}`;
- rated: `{"verdict": {"from": .., "to": ..}, "reason": .., "reviewer": ..}`.

`describe` also reads what older databases hold: `[old, new]` pairs, `<field>_added` /
`<field>_removed` lists, `{"via": "import", "file": ...}` from bulk imports and the
`merged` / `merged-into` entries of actor merges; `db merge` marks the entries it writes with
`{"via": "merge", "from": OTHER}`; anything else reads as `key: value`.
"""

import getpass
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker.models import HistoryEntry
from tracker.text import MAX_NAME, clean

_SPACES = re.compile(r"\s+")

# --- writing ----------------------------------------------------------------------------------


def current_user(given: str | None = None) -> str | None:
    """Who makes a change: the name given (`--by`), else TRACKER_USER, else the login name.

    Checked here, once for every writer, with the column's limit: a name PostgreSQL would refuse
    must fail the same way on SQLite, and before anything is written.
    """
    if given is not None:
        return _user_name(given, "reviewer")
    from_env = os.environ.get("TRACKER_USER", "")
    if from_env.strip():
        return _user_name(from_env, "TRACKER_USER")
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name: a container with an unnamed uid
        return None
    return _user_name(login, "login name") if login.strip() else None


def _user_name(value: str, field: str) -> str:
    return _SPACES.sub(" ", clean(value, field, limit=MAX_NAME, multiline=False))


def changed(old: Any, new: Any) -> dict[str, Any]:
    """A scalar field's change."""
    return {"from": old, "to": new}


def listed(added: Iterable[Any] = (), removed: Iterable[Any] = ()) -> dict[str, list[Any]]:
    """A list field's change; a side with nothing in it is left out."""
    change: dict[str, list[Any]] = {}
    if added := list(added):
        change["added"] = added
    if removed := list(removed):
        change["removed"] = removed
    return change


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The changes between two snapshots of a record (field -> value), in `after`'s field order.

    A field holding a list in either snapshot is a list field: what it gained and lost, in
    order, whatever the reordering. Fields that did not change are left out.
    """
    changes: dict[str, Any] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        if isinstance(old, list) or isinstance(new, list):
            old_items, new_items = old or [], new or []
            change = listed(
                added=[v for v in new_items if v not in old_items],
                removed=[v for v in old_items if v not in new_items],
            )
            if change:
                changes[key] = change
        elif old != new:
            changes[key] = changed(old, new)
    return changes


def record(
    session: Session,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any] | None = None,
    *,
    by: str | None = None,
) -> None:
    """Add a history entry; `by` defaults to `current_user()`."""
    session.add(
        HistoryEntry(
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes=changes or {},
            by=by if by is not None else current_user(),
        )
    )


def copy_entries(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Add entries written elsewhere (another notebook's, by `db merge`) as they are: their
    uid, author and time kept, `entity_id` already this database's. Their place in the other
    database's hash chain is not theirs here: they join this chain when the merge commits."""
    unsealed = [
        {k: v for k, v in e.items() if k not in ("seq", "prev_hash", "hash")} for e in entries
    ]
    if unsealed:
        conn.execute(insert(HistoryEntry), unsealed)


# --- reading ----------------------------------------------------------------------------------

# The field a snapshot is known by: a claim's text, an actor's name, a source's title.
_TITLE_FIELDS = ("text", "name", "title")
_LEGACY_LIST = re.compile(r"^(?P<field>.+)_(?P<side>added|removed)$")


def entry_line(entry: Mapping[str, Any]) -> str:
    """One history entry as people read it: `2026-11-26T15:44:32 edited by analyst: tags: +x`;
    on PostgreSQL `by alice (stated by: Desk A)` when the role and the stated name differ."""
    name = author(entry)
    who = f" by {name}" if name else ""
    detail = describe(entry["action"], entry["changes"])
    line = f"{entry['at'][:19]} {entry['action']}{who}"
    return f"{line}: {detail}" if detail else line


def describe(action: str, changes: Mapping[str, Any] | None) -> str:
    """One entry's changes in plain words, e.g. `verdict: none -> mostly-true; tags: +us-policy`."""
    changes = dict(changes or {})
    if action == "rated":  # a rating without a reason or reviewer has nothing to say of them
        changes = {k: v for k, v in changes.items() if v is not None}
    if changes.get("via") == "import":
        rest = {k: v for k, v in changes.items() if k not in ("via", "file")}
        return _join([f"imported from {_word(changes.get('file'))}", *_generic(rest)])
    if changes.get("via") == "merge":  # tracker.services.notebook_merge took another's state
        rest = {k: v for k, v in changes.items() if k not in ("via", "from")}
        return _join(
            [f"merged from {_word(changes.get('from'))}", *_fields(rest, legacy_pairs=False)]
        )
    if action in ("created", "deleted"):
        return _snapshot(changes)
    if action in ("linked", "unlinked") and {"from", "relation", "to"} <= changes.keys():
        return _link(changes)
    if action == "merged" and isinstance(changes.get("merged"), dict):
        rest = {k: v for k, v in changes.items() if k not in ("merged", "names")}
        if "changed" in rest or "dropped" in rest:  # the undo record of tracker.services.merging
            rest = {
                k: v for k, v in rest.items() if k not in ("changed", "dropped")
            } | _merge_counts(changes)
        names = changes.get("names")
        took = f"took in {_word(changes['merged'])}" + (f" ({_word(names)})" if names else "")
        return _join([took, *_generic(rest)])
    if action == "merged-into" and isinstance(changes.get("into"), dict):
        rest = {k: v for k, v in changes.items() if k != "into"}
        return _join([f"into {_word(changes['into'])}", *_generic(rest)])
    return _join(_fields(changes, legacy_pairs=action in ("edited", "rated")))


def _merge_counts(changes: Mapping[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for side, rows_by_table in (
        ("moved", changes.get("changed")),
        ("dropped", changes.get("dropped")),
    ):
        if isinstance(rows_by_table, dict):
            for table, rows in rows_by_table.items():
                if isinstance(rows, list) and rows:
                    counts[f"{table.replace('_', ' ')} rows {side}"] = len(rows)
    return counts


def _join(parts: Iterable[str]) -> str:
    return "; ".join(p for p in parts if p)


def _snapshot(changes: dict[str, Any]) -> str:
    title = next((k for k in _TITLE_FIELDS if changes.get(k) not in (None, "")), None)
    if title is not None:
        return _word(changes[title])
    return _join(_generic({k: v for k, v in changes.items() if v not in (None, "", [], {})}))


def _link(changes: dict[str, Any]) -> str:
    text = f"#{changes['from']} {changes['relation']} #{changes['to']}"
    if changes.get("note"):
        text += f" — note: {_word(changes['note'])}"
    rest = {k: v for k, v in changes.items() if k not in ("from", "relation", "to", "note")}
    return _join([text, *_generic(rest)])


def _fields(changes: dict[str, Any], *, legacy_pairs: bool) -> list[str]:
    """Each field's change as `field: old -> new` or `field: +added, -removed`, in entry order;
    the legacy `<field>_added` and `<field>_removed` keys of one field read as one."""
    clauses: dict[str, tuple[str, Any]] = {}
    for key, value in changes.items():
        legacy = _LEGACY_LIST.match(key)
        if legacy and isinstance(value, list):
            field = legacy["field"]
            kind, sides = clauses.get(field, ("list", {}))
            if kind != "list":  # a field that also has a scalar entry: keep both readable
                clauses[key] = ("other", value)
                continue
            sides.setdefault(legacy["side"], []).extend(value)
            clauses[field] = ("list", sides)
        elif isinstance(value, dict) and value and value.keys() <= {"added", "removed"}:
            clauses[key] = ("list", value)
        elif isinstance(value, dict) and value.keys() == {"from", "to"}:
            clauses[key] = ("scalar", (value["from"], value["to"]))
        elif legacy_pairs and isinstance(value, list) and len(value) == 2:
            clauses[key] = ("scalar", tuple(value))
        else:
            clauses[key] = ("other", value)
    return [_clause(field, kind, value) for field, (kind, value) in clauses.items()]


def _clause(field: str, kind: str, value: Any) -> str:
    if kind == "scalar":
        return f"{field}: {_word(value[0])} -> {_word(value[1])}"
    if kind == "list":
        items = [f"+{_item(v)}" for v in value.get("added", [])]
        items += [f"-{_item(v)}" for v in value.get("removed", [])]
        return f"{field}: {', '.join(items)}"
    return f"{field}: {_word(value)}"


def _generic(changes: Mapping[str, Any]) -> list[str]:
    return [f"{key}: {_word(value)}" for key, value in changes.items()]


def _item(value: Any) -> str:
    # In a list field an integer is a record's id (`cites` holds source ids).
    return f"#{value}" if isinstance(value, int) and not isinstance(value, bool) else _word(value)


def _word(value: Any) -> str:
    """A value in plain words: `none`, unquoted text, lists comma-separated, never a repr."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        text = " ".join(value.splitlines()) if "\n" in value or "\r" in value else value
        return f'"{text}"' if not text or text != text.strip() else text
    if isinstance(value, list | tuple):
        return ", ".join(_word(v) for v in value) if value else "none"
    if isinstance(value, dict):
        label = value.get("name", value.get("title"))
        if "id" in value and label is not None:
            return f"#{value['id']} {_word(label)}"
        return "(" + ", ".join(f"{k}: {_word(v)}" for k, v in value.items()) + ")"
    return str(value)


def entity_history(session: Session, entity: str, ref: str) -> list[dict[str, Any]]:
    """Every entry about one actor, source or incident, oldest first. `ref` is an id (which
    also finds one merged away or deleted), or a name or title the record has now."""
    from sqlalchemy import select

    from tracker.errors import NotFound
    from tracker.services.common import parse_id

    ident = parse_id(ref)
    if ident is None:
        if entity == "actor":
            from tracker.services.actors import resolve_actor

            ident = resolve_actor(session, ref).id
        elif entity == "incident":
            from tracker.services.incidents import resolve_incident

            ident = resolve_incident(session, ref).id
        else:
            from tracker.services.sources import resolve_source

            ident = resolve_source(session, ref).id
    entries = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == ident)
        .order_by(HistoryEntry.id)
    ).all()
    if not entries:
        raise NotFound(f"no history for {entity} #{ident}: it does not exist")
    return [as_dict(e) for e in entries]


def as_dict(entry: HistoryEntry) -> dict[str, Any]:
    """One entry as commands show it. `by` is who the writer said they were (TRACKER_USER,
    --by); `role` the database role that wrote it (PostgreSQL; None on SQLite): the author
    beyond doubt where there is one."""
    return {
        "at": entry.at.isoformat(),
        "action": entry.action,
        "by": entry.by,
        "role": entry.role,
        "changes": entry.changes,
    }


def author(entry: Mapping[str, Any]) -> str:
    """Who made the change, in words: `alice`, or `alice (stated by: Desk A)` where the role
    and the name the writer gave differ."""
    role, stated = entry.get("role"), entry.get("by")
    if not role:
        return stated or ""
    return role if not stated or stated == role else f"{role} (stated by: {stated})"
