"""tracker actor ...: the people and organizations who make claims or are their subjects."""

from typing import Annotated

import typer

from tracker.cli import records
from tracker.cli.common import (
    AllOption,
    ColumnsOption,
    DossierFormatOption,
    Format,
    FormatOption,
    LimitOption,
    OutputOption,
    SortOption,
    YesOption,
    emit_dossier,
    emit_list,
    emit_record,
    group,
    list_limit,
    say,
    session,
    transact,
    web_of,
)
from tracker.cli.complete import actor_names
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

    actor = transact(
        lambda s: add_actor(
            s,
            name,
            kind=kind,
            aliases=alias or [],
            description=description,
            reliability=reliability,
            new=new,
        )
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
def show(actor: ActorRef, fmt: DossierFormatOption = None, output: OutputOption = "-") -> None:
    """Show one actor (--format markdown or html: a document to hand over).

    Example: tracker actor show "Comment Crew"
    """
    from tracker.render.dossiers import actor_document
    from tracker.services.actors import actor_detail

    with session(write=False) as s:
        detail = actor_detail(s, actor)
    emit_dossier(
        fmt,
        output,
        lambda f: emit_record(detail, f),
        lambda: actor_document(detail),
        web_of("Claims by and about this actor", actor=str(detail["id"])),
    )


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

    found, changes = transact(
        lambda s: edit_actor(
            s,
            actor,
            fields={
                "name": name,
                "kind": kind,
                "description": description,
                "reliability": reliability,
            },
            add={"aliases": alias or []},
            remove={"aliases": remove_alias or []},
        )
    )
    if not changes:
        say(f"actor #{found.id}: nothing to change")
        return
    say(f"updated actor {found.name!r} (#{found.id})")


Relation = Annotated[
    str, typer.Argument(metavar="part-of", help="The relation: part-of (the only one).")
]


def _part_of(relation: str) -> None:
    if relation.strip().lower() != "part-of":
        raise typer.BadParameter(
            f"{relation!r} is not a relation between actors: use part-of", param_hint="RELATION"
        )


@app.command("relate")
def relate(
    part: Annotated[str, typer.Argument(metavar="PART", autocompletion=actor_names)],
    relation: Relation,
    whole: Annotated[str, typer.Argument(metavar="WHOLE", autocompletion=actor_names)],
) -> None:
    """Record that PART is part of WHOLE (a unit of an agency of a state); cycles are refused.

    Example: tracker actor relate "PLA Unit 61398" part-of "People's Liberation Army"
    """
    from tracker.services.actors import relate_actors

    _part_of(relation)
    found, into = transact(lambda s: relate_actors(s, part, whole))
    say(f"{found.name!r} (#{found.id}) is part of {into.name!r} (#{into.id})")


@app.command("unrelate")
def unrelate(
    part: Annotated[str, typer.Argument(metavar="PART", autocompletion=actor_names)],
    relation: Relation,
    whole: Annotated[str, typer.Argument(metavar="WHOLE", autocompletion=actor_names)],
) -> None:
    """Remove a part-of relation between two actors.

    Example: tracker actor unrelate "PLA Unit 61398" part-of "People's Liberation Army"
    """
    from tracker.services.actors import unrelate_actors

    _part_of(relation)
    found, into = transact(lambda s: unrelate_actors(s, part, whole))
    say(f"{found.name!r} is no longer recorded as part of {into.name!r}")


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
    records.merge("actor", keep, other, yes)


@app.command("unmerge")
def unmerge(
    actor: Annotated[
        str, typer.Argument(metavar="ID", help="Id the merged actor had (see 'actor history').")
    ],
) -> None:
    """Undo a merge: the merged actor comes back with its id, uid, names and claims.

    Example: tracker actor unmerge 7
    """
    records.unmerge("actor", actor)


@app.command("delete")
def delete(actor: ActorRef, yes: YesOption = False) -> None:
    """Delete an actor that nothing refers to (else refused: merge it instead).

    Example: tracker actor delete "Typo Corp" --yes
    """
    records.delete("actor", actor, yes)


@app.command("history")
def history(actor: ActorRef, fmt: FormatOption = Format.table) -> None:
    """Show every change to an actor, oldest first (merged and deleted actors too, by id).

    Example: tracker actor history "Comment Crew"
    """
    records.history("actor", actor, fmt)
