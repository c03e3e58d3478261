"""Options several commands share, each defined once: the claim filters of `claim list` and
`export claims`.

A command takes the filters by declaring a `filters` parameter and the `claim_filters`
decorator: the decorator puts the filter options in that parameter's place and hands the command
one ClaimFilter. Adding a filter is one entry in FILTERS (and a field of ClaimFilter).
"""

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.complete import actor_names, source_titles
from tracker.vocab import Status, Verdict

if TYPE_CHECKING:
    from tracker.services.claim_report import ClaimFilter

UNRATED = "none"  # as tracker.services.claim_report.UNRATED, which the CLI does not import early
# A verdict, or none: what `--verdict` filters on.
VerdictOrNone = StrEnum(  # type: ignore[misc]
    "VerdictOrNone", [*((v.name, v.value) for v in Verdict), (UNRATED, UNRATED)]
)

FILTERS: dict[str, Any] = {
    "by": Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            "-b",
            metavar="ACTOR",
            help="Claims made by this actor; repeated, by any of them.",
            autocompletion=actor_names,
        ),
    ],
    "about": Annotated[
        list[str] | None,
        typer.Option(
            "--about",
            "-a",
            metavar="ACTOR",
            help="Claims about this actor; repeated, about all of them.",
            autocompletion=actor_names,
        ),
    ],
    "any_about": Annotated[
        list[str] | None,
        typer.Option(
            "--any-about",
            metavar="ACTOR",
            help="Claims about at least one of these actors (repeat it).",
            autocompletion=actor_names,
        ),
    ],
    "source": Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            metavar="SOURCE",
            help="Claims appearing in this source (id, URL or title); repeated, in all of them.",
            autocompletion=source_titles,
        ),
    ],
    "any_source": Annotated[
        list[str] | None,
        typer.Option(
            "--any-source",
            metavar="SOURCE",
            help="Claims appearing in at least one of these sources (repeat it).",
            autocompletion=source_titles,
        ),
    ],
    "tag": Annotated[
        list[str] | None,
        typer.Option(
            "--tag", "-t", metavar="TAG", help="Claims with this tag; repeated, with all of them."
        ),
    ],
    "any_tag": Annotated[
        list[str] | None,
        typer.Option(
            "--any-tag", metavar="TAG", help="Claims with at least one of these tags (repeat it)."
        ),
    ],
    "verdict": Annotated[
        list[VerdictOrNone] | None,
        typer.Option(
            "--verdict",
            help=f"Current verdict, or {UNRATED} for claims not rated yet; repeated, any of them.",
        ),
    ],
    "status": Annotated[
        list[Status] | None,
        typer.Option("--status", help="Workflow status; repeated, any of them."),
    ],
    "since": Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Stated on or after this (partial) date."),
    ],
    "until": Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Stated on or before this (partial) date."),
    ],
}

# What the help of a filtering command says once about how its filters combine.
COMBINING = (
    "Different filters combine with AND. A repeated --about, --source or --tag keeps claims "
    "matching all of its values; --any-about, --any-source and --any-tag keep claims matching at "
    "least one; a repeated --by, --verdict or --status keeps claims matching any of its values."
)


def claim_filter(**values: Any) -> "ClaimFilter":
    """A ClaimFilter from the options' values (an option not given is None)."""
    from tracker.services.claim_report import ClaimFilter

    scalars = ("since", "until", "limit")
    given: dict[str, Any] = {k: v if k in scalars else (v or ()) for k, v in values.items()}
    return ClaimFilter(**given)


def claim_filters(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the claim filter options in place of its `filters` parameter, which then
    receives them as one ClaimFilter."""
    signature = inspect.signature(command)
    options = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in FILTERS.items()
    ]
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "filters":
            parameters.extend(options)
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def with_filters(**values: Any) -> None:
        filters = claim_filter(**{name: values.pop(name) for name in FILTERS})
        command(filters=filters, **values)

    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filters.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "filters"},
        **FILTERS,
    }
    return with_filters
