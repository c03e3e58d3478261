"""tracker incident ...: what happened (an intrusion, a leak, an influence operation)."""

from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import (
    DossierFormatOption,
    Format,
    FormatOption,
    NewOption,
    OutputOption,
    YesOption,
    confirm,
    emit_dossier,
    emit_record,
    emit_rows,
    group,
    heading,
    say,
    session,
    transact,
    web_of,
)
from tracker.cli.complete import actor_names
from tracker.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
from tracker.vocab import IncidentKind

app = group("Record and look up incidents (what happened, and whom it is blamed on).")

IncidentRef = Annotated[str, typer.Argument(metavar="INCIDENT", help="Incident id, name or alias.")]
Kind = Annotated[
    IncidentKind | None, typer.Option(help="What happened: " + ", ".join(IncidentKind) + ".")
]
Began = Annotated[
    str | None,
    typer.Option(
        "--date", "-d", metavar="DATE", help="When it began: YYYY, YYYY-MM or YYYY-MM-DD."
    ),
]
Until = Annotated[str | None, typer.Option(metavar="DATE", help="When it ended.")]
Victims = Annotated[
    list[str] | None,
    typer.Option("--victim", help="An actor it hit (repeatable).", autocompletion=actor_names),
]
Description = Annotated[str | None, typer.Option(help="What happened, in a few words.")]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The incident's name.")],
    alias: Annotated[list[str] | None, typer.Option(help="Another name (repeatable).")] = None,
    kind: Kind = None,
    date: Began = None,
    until: Until = None,
    victim: Victims = None,
    description: Description = None,
    new: NewOption = False,
) -> None:
    """Add an incident; prints its id.

    Example: tracker incident add "APT1 intrusions" --kind data-theft --date 2006 --until 2013-02
    """
    from tracker.services.incidents import add_incident

    incident = transact(
        lambda s: add_incident(
            s,
            name,
            kind=kind,
            aliases=alias or [],
            started=date,
            ended=until,
            victims=victim or [],
            description=description,
            new=new,
        )
    )
    label, ident = incident.name, incident.id
    say(f"added incident {label!r} (#{ident})")
    typer.echo(ident)


@app.command("list")
def list_(fmt: FormatOption = Format.table) -> None:
    """List incidents, earliest first, with how many claims concern each.

    Example: tracker incident list --format csv
    """
    from tracker.services.incidents import list_incidents

    with session(write=False) as s:
        rows = list_incidents(s)
    emit_rows(rows, ["id", "name", "kind", "started", "ended", "aliases", "claims"], fmt)


@app.command("show")
def show(
    incident: IncidentRef, fmt: DossierFormatOption = None, output: OutputOption = "-"
) -> None:
    """Show one incident: its names, dates, victims and the claims about it (--format markdown
    or html: a document to hand over).

    Example: tracker incident show "APT1 intrusions"
    """
    from tracker.render.dossiers import incident_document
    from tracker.services.incidents import incident_record

    with session(write=False) as s:
        found = incident_record(s, incident)
    lines = [heading(f"Incident #{found['id']} {found['name']}") + f"  [{found['kind']}]"]
    if found["aliases"]:
        lines.append(f"  also: {', '.join(found['aliases'])}")
    if found["started"] or found["ended"]:
        lines.append(f"  when: {found['started'] or '?'} .. {found['ended'] or '?'}")
    if found["victims"]:
        lines.append(
            "  victims: " + ", ".join(f"{v['name']} (#{v['id']})" for v in found["victims"])
        )
    if found["description"]:
        lines.append(f"  {found['description']}")
    claims = ", ".join(f"#{c}" for c in found["claims"]) or "none"
    lines.append(f"  claims: {claims}")
    emit_dossier(
        fmt,
        output,
        lambda f: emit_record(found, f, lines),
        lambda: incident_document(found),
        web_of("Who blames whom for this incident", incident=str(found["id"])),
    )


@app.command("edit")
def edit(
    incident: IncidentRef,
    name: Annotated[
        str | None, typer.Option(help="New name; the old one stays as an alias.")
    ] = None,
    kind: Kind = None,
    date: Began = None,
    until: Until = None,
    description: Description = None,
    alias: Annotated[list[str] | None, typer.Option(help="Add an alias (repeatable).")] = None,
    remove_alias: Annotated[
        list[str] | None, typer.Option(help="Remove an alias (repeatable).")
    ] = None,
    victim: Victims = None,
    remove_victim: Annotated[
        list[str] | None, typer.Option(help="Remove a victim (repeatable).")
    ] = None,
) -> None:
    """Change an incident ('' clears an optional field); every change is kept in its history.

    Example: tracker incident edit "APT1 intrusions" --alias "Comment Crew campaign"
    """
    from tracker.services.incidents import edit_incident

    found, changes = transact(
        lambda s: edit_incident(
            s,
            incident,
            name=name,
            kind=kind,
            started=date,
            ended=until,
            description=description,
            add_aliases=alias or [],
            remove_aliases=remove_alias or [],
            add_victims=victim or [],
            remove_victims=remove_victim or [],
        )
    )
    label, ident = found.name, found.id
    say(
        f"updated incident {label!r} (#{ident})"
        if changes
        else f"incident #{ident}: nothing to change"
    )


@app.command("merge")
def merge(
    keep: Annotated[str, typer.Argument(metavar="KEEP", help="Incident that stays.")],
    other: Annotated[
        str, typer.Argument(metavar="OTHER", help="Incident folded into KEEP, then removed.")
    ],
    yes: YesOption = False,
) -> None:
    """Fold OTHER into KEEP (a duplicate of our own making): names become aliases, claims and
    victims move over. Shows what will change and asks first (off a terminal, give --yes);
    'tracker incident unmerge OTHER-ID' undoes it.

    Example: tracker incident merge "APT1 intrusions" "Comment Crew hacks" --yes
    """
    from tracker.services.incidents import plan_merge
    from tracker.services.merging import apply_merge, same_plan

    with session(write=False) as s:
        plan = plan_merge(s, keep, other)
    if plan.refused:
        raise Conflict(f"cannot merge: {plan.refused[0]}")
    assert plan.keep is not None
    what = f"incident {plan.other['name']!r} (#{plan.other['id']})"
    into = f"{plan.keep['name']!r} (#{plan.keep['id']})"
    confirm([f"merging {what} into {into}:", *plan.lines()], "Merge?", yes)

    def work(s: "Session") -> None:
        again = plan_merge(s, keep, other)
        if not same_plan(plan, again):
            raise Conflict(
                "the incidents changed since the preview; nothing was changed, run it again"
            )
        apply_merge(s, again)

    transact(work)
    say(f"merged {plan.other['name']!r} into {plan.keep['name']!r} (#{plan.keep['id']})")


@app.command("unmerge")
def unmerge(
    incident: Annotated[
        str, typer.Argument(metavar="ID", help="Id the merged incident had (see its history).")
    ],
) -> None:
    """Undo a merge: the merged incident comes back with its id, uid, names and claims.

    Example: tracker incident unmerge 2
    """
    from tracker.services.incidents import unmerge_incident

    restored = transact(lambda s: unmerge_incident(s, incident))
    name, ident = restored.name, restored.id
    say(f"restored incident {name!r} (#{ident})")


@app.command("history")
def history(incident: IncidentRef, fmt: FormatOption = Format.table) -> None:
    """Show every change to an incident, oldest first (merged ones too, by id).

    Example: tracker incident history "APT1 intrusions"
    """
    from tracker.cli.history import emit_history
    from tracker.services.history import entity_history

    with session(write=False) as s:
        entries = entity_history(s, "incident", incident)
    emit_history(entries, fmt)
