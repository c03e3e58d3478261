"""tracker actor ...: the people and organizations who make claims or are their subjects."""

from typing import Annotated

import typer

from tracker.cli.common import (
    AllOption,
    ColumnsOption,
    Format,
    FormatOption,
    LimitOption,
    SortOption,
    YesOption,
    confirm,
    emit_list,
    emit_record,
    group,
    list_limit,
    say,
    session,
)
from tracker.cli.complete import actor_names
from tracker.errors import Conflict
from tracker.vocab import ActorKind

ACTOR_COLUMNS = ["id", "name", "kind", "aliases", "claims_made", "claims_about"]

app = group("Record and look up actors (who claims, who is blamed).")

ActorRef = Annotated[
    str,
    typer.Argument(metavar="ACTOR", help="Actor id, name or alias.", autocompletion=actor_names),
]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The actor's name.")],
    kind: Annotated[ActorKind, typer.Option(help="What sort of actor.")] = ActorKind.other,
    alias: Annotated[list[str] | None, typer.Option(help="Another name (repeatable).")] = None,
    description: Annotated[str | None, typer.Option(help="Role or description.")] = None,
    reliability: Annotated[
        str | None,
        typer.Option(help="As a source of information: A reliable .. E unreliable, F unknown."),
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new", help="Add it even if its name resembles a known actor's (a different actor)."
        ),
    ] = False,
) -> None:
    """Add an actor; prints its id.

    Example: tracker actor add Mandiant --kind company --alias "Mandiant Corp."
    """
    from tracker.services.actors import add_actor

    with session() as s:
        actor = add_actor(
            s,
            name,
            kind=kind,
            aliases=alias or [],
            description=description,
            reliability=reliability,
            new=new,
        )
    say(f"added actor {actor.name!r} (#{actor.id})")
    typer.echo(actor.id)


@app.command("list")
def list_(
    columns: ColumnsOption = None,
    sort: SortOption = None,
    limit: LimitOption = None,
    every: AllOption = False,
    fmt: FormatOption = Format.table,
) -> None:
    """List actors with how many claims they made and are about.

    Example: tracker actor list --format csv
    """
    from tracker.services.actors import list_actors

    shown = list_limit(fmt, limit, every)
    with session(write=False) as s:
        rows = list_actors(s)
    emit_list(
        rows,
        fmt,
        default=ACTOR_COLUMNS,
        available=ACTOR_COLUMNS,
        columns=columns,
        sort=sort,
        limit=shown,
    )


@app.command("show")
def show(actor: ActorRef, fmt: FormatOption = Format.table) -> None:
    """Show one actor.

    Example: tracker actor show "Comment Crew"
    """
    from tracker.services.actors import actor_detail

    with session(write=False) as s:
        emit_record(actor_detail(s, actor), fmt)


@app.command("edit")
def edit(
    actor: ActorRef,
    name: Annotated[
        str | None, typer.Option(help="New name; the old one stays as an alias.")
    ] = None,
    kind: Annotated[ActorKind | None, typer.Option(help="What sort of actor.")] = None,
    description: Annotated[
        str | None, typer.Option(help="Role or description ('' clears).")
    ] = None,
    reliability: Annotated[
        str | None, typer.Option(help="Reliability grade A-F ('' clears).")
    ] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Add an alias (repeatable).")] = None,
    remove_alias: Annotated[
        list[str] | None, typer.Option(help="Remove an alias (repeatable).")
    ] = None,
) -> None:
    """Change an actor's name, kind, description or aliases.

    Example: tracker actor edit APT1 --alias "Comment Panda"
    """
    from tracker.services.actors import edit_actor

    with session() as s:
        found = edit_actor(
            s,
            actor,
            name=name,
            kind=kind,
            description=description,
            reliability=reliability,
            add_aliases=alias or [],
            remove_aliases=remove_alias or [],
        )
    say(f"updated actor {found.name!r} (#{found.id})")


@app.command("merge")
def merge(
    keep: Annotated[
        str, typer.Argument(metavar="KEEP", help="Actor that stays.", autocompletion=actor_names)
    ],
    other: Annotated[
        str,
        typer.Argument(
            metavar="OTHER",
            help="Actor folded into KEEP, then removed.",
            autocompletion=actor_names,
        ),
    ],
    yes: YesOption = False,
) -> None:
    """Fold OTHER into KEEP: names become aliases, claims by and about it move over.

    Shows what will change and asks first (off a terminal, give --yes). Claims keep the name
    they were attributed under; 'tracker actor unmerge OTHER-ID' undoes the merge.

    Example: tracker actor merge APT1 "Comment Crew" --yes
    """
    from tracker.services.actors import plan_merge
    from tracker.services.merging import apply_merge, same_plan

    with session(write=False) as s:
        plan = plan_merge(s, keep, other)
    if plan.refused:
        raise Conflict(f"cannot merge: {plan.refused[0]}")
    assert plan.keep is not None
    what = f"actor {plan.other['name']!r} (#{plan.other['id']})"
    into = f"{plan.keep['name']!r} (#{plan.keep['id']})"
    confirm([f"merging {what} into {into}:", *plan.lines()], "Merge?", yes)
    with session() as s:
        again = plan_merge(s, keep, other)
        if not same_plan(plan, again):
            raise Conflict(
                "the actors changed since the preview; nothing was changed, run it again"
            )
        apply_merge(s, again)
    say(f"merged {plan.other['name']!r} into {plan.keep['name']!r} (#{plan.keep['id']})")


@app.command("unmerge")
def unmerge(
    actor: Annotated[
        str, typer.Argument(metavar="ID", help="Id the merged actor had (see 'actor history').")
    ],
) -> None:
    """Undo a merge: the merged actor comes back with its id, uid, names and claims.

    Example: tracker actor unmerge 7
    """
    from tracker.services.actors import unmerge_actor

    with session() as s:
        restored = unmerge_actor(s, actor)
        name, ident = restored.name, restored.id
    say(f"restored actor {name!r} (#{ident})")


@app.command("delete")
def delete(actor: ActorRef, yes: YesOption = False) -> None:
    """Delete an actor that nothing refers to (else refused: merge it instead).

    Example: tracker actor delete "Typo Corp" --yes
    """
    from tracker.services.actors import delete_actor, plan_delete

    with session(write=False) as s:
        plan = plan_delete(s, actor)
    if not plan.refused:
        confirm([f"deleting actor {plan.other['name']!r} (#{plan.other['id']})"], "Delete?", yes)
    with session() as s:
        ident = delete_actor(s, actor)
    say(f"deleted actor #{ident}; 'tracker actor history {ident}' still shows it")


@app.command("history")
def history(actor: ActorRef, fmt: FormatOption = Format.table) -> None:
    """Show every change to an actor, oldest first (merged and deleted actors too, by id).

    Example: tracker actor history "Comment Crew"
    """
    from tracker.cli.history import emit_history
    from tracker.services.history import entity_history

    with session(write=False) as s:
        entries = entity_history(s, "actor", actor)
    emit_history(entries, fmt)
