"""The one way a record is edited: each field's parser in a table, list fields as add/remove
pairs, and the history entry computed as the difference between the record before and after.
Adding an editable field to `claim`, `actor` or `source edit` is one entry in its table."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import now
from tracker.services.history import diff, record

Parser = Callable[[Session, Any], Any]
ListEdit = Callable[[Session, Any, Sequence[str]], Any]


@dataclass(frozen=True)
class Editable:
    """What can be edited on one kind of record."""

    entity: str
    scalars: Mapping[str, Parser]  # field -> parser of the given value (None: not given)
    lists: Mapping[str, tuple[ListEdit, ListEdit]]  # field -> (add, remove)
    state: Callable[[Any], dict[str, Any]]  # the record as the history compares it
    # How a parsed value is set, where it is not a plain attribute (a rename keeps the old name).
    setters: Mapping[str, Callable[[Session, Any, Any], None]] = field(default_factory=dict)

    def edit(
        self,
        session: Session,
        obj: Any,
        fields: Mapping[str, Any] | None = None,
        add: Mapping[str, Sequence[str]] | None = None,
        remove: Mapping[str, Sequence[str]] | None = None,
        *,
        check: Callable[[dict[str, Any]], None] | None = None,
        after: Callable[[Any], None] | None = None,
    ) -> dict[str, Any]:
        """Apply the edit to `obj`; returns the changes (recorded in its history), or {} and no
        history when nothing changed. `check` sees the parsed values before anything changes;
        `after` sees the record once every field is set (a rule across fields), before the
        history is written."""
        given = {k: v for k, v in (fields or {}).items() if v is not None}
        add, remove = dict(add or {}), dict(remove or {})
        unknown = (given.keys() - self.scalars.keys()) | (
            (add.keys() | remove.keys()) - self.lists.keys()
        )
        if unknown:
            raise ValueError(f"not editable {self.entity} fields: {', '.join(sorted(unknown))}")
        new = {key: self.scalars[key](session, value) for key, value in given.items()}
        if check is not None:
            check(new)
        before = self.state(obj)
        for key, value in new.items():
            setter = self.setters.get(key)
            if setter is not None:
                setter(session, obj, value)
            else:
                setattr(obj, key, value)
        for key, refs in add.items():
            self.lists[key][0](session, obj, refs)
        for key, refs in remove.items():
            self.lists[key][1](session, obj, refs)
        if after is not None:
            after(obj)
        session.flush()
        changes = diff(before, self.state(obj))
        if changes:
            obj.updated_at = now()
            session.flush()
            record(session, self.entity, obj.id, "edited", changes)
        return changes
