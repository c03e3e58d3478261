"""What `actor` and `source` commands share: merge, unmerge, delete and history, each a preview
and a question before anything changes (off a terminal, --yes)."""

from typing import TYPE_CHECKING

from tracker.cli.common import Format, confirm, say, session, transact
from tracker.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _label(entity: str, row: dict[str, object]) -> str:
    from tracker.services.merging import LABELS

    return f"{row[LABELS[entity]]!r} (#{row['id']})"


def merge(entity: str, keep: str, other: str, yes: bool) -> None:
    from tracker.services.merging import apply_merge, plan_merge_refs, same_plan

    with session(write=False) as s:
        plan = plan_merge_refs(s, entity, keep, other)
    if plan.refused:
        raise Conflict(f"cannot merge: {plan.refused[0]}")
    assert plan.keep is not None
    heading = f"merging {entity} {_label(entity, plan.other)} into {_label(entity, plan.keep)}:"
    confirm([heading, *plan.lines()], "Merge?", yes)

    def work(s: "Session") -> None:
        # Asked outside the transaction (no lock held while a person reads): check nothing moved.
        again = plan_merge_refs(s, entity, keep, other)
        if not same_plan(plan, again):
            raise Conflict(
                f"the {entity}s changed since the preview; nothing changed, run it again"
            )
        apply_merge(s, again)

    transact(work)
    say(
        f"merged {_label(entity, plan.other)} into {_label(entity, plan.keep)}; "
        f"'tracker {entity} unmerge {plan.other['id']}' undoes it"
    )


def unmerge(entity: str, ref: str) -> None:
    from tracker.services.merging import unmerge_ref

    restored = transact(lambda s: unmerge_ref(s, entity, ref))
    say(f"restored {entity} {_label(entity, restored)}")


def delete(entity: str, ref: str, yes: bool) -> None:
    from tracker.services.merging import delete_record, plan_delete_ref

    with session(write=False) as s:
        plan = plan_delete_ref(s, entity, ref)
    if not plan.refused:
        confirm([f"deleting {entity} {_label(entity, plan.other)}"], "Delete?", yes)
    ident = transact(lambda s: delete_record(s, entity, ref))
    say(f"deleted {entity} #{ident}; 'tracker {entity} history {ident}' still shows it")


def history(entity: str, ref: str, fmt: Format) -> None:
    from tracker.cli.history import emit_history
    from tracker.services.history import entity_history

    with session(write=False) as s:
        entries = entity_history(s, entity, ref)
    emit_history(entries, fmt)
