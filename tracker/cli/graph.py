"""tracker graph: the web of claims, actors, sources and incidents around a focus, as a picture."""

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import OutputOption, output_bytes, output_stream, say, session
from tracker.cli.complete import actor_names

if TYPE_CHECKING:
    from tracker.services.graph import Graph

# As services.graph (not imported here: `--help` stays fast).
DEFAULT_DEPTH = 2
MAX_NODES = 300
# Past this Graphviz takes minutes and nobody can read the picture; it also keeps the graph's
# `IN (...)` lists well inside PostgreSQL's 65,535 parameters.
MOST_NODES = 5000


class PictureFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"
    svg = "svg"
    png = "png"


def graph(
    claim: Annotated[
        str | None, typer.Option("--claim", metavar="ID", help="Draw the web around this claim.")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="ACTOR",
            help="Around every claim by, about, blaming or clearing this actor.",
            autocompletion=actor_names,
        ),
    ] = None,
    incident: Annotated[
        str | None,
        typer.Option("--incident", metavar="INCIDENT", help="Around the incident's claims."),
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="Around the claims with this tag.")
    ] = None,
    depth: Annotated[
        int,
        typer.Option(
            "--depth",
            metavar="N",
            help="Follow links between claims (supports, disputes ...) N steps from the focus.",
        ),
    ] = DEFAULT_DEPTH,
    max_nodes: Annotated[
        int,
        typer.Option(
            "--max-nodes",
            metavar="N",
            help=f"Draw at most N nodes (up to {MOST_NODES}); the claims farthest from the "
            "focus are left out first.",
        ),
    ] = MAX_NODES,
    fmt: Annotated[
        PictureFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="dot or mermaid (text), svg or png (drawn by Graphviz's dot program).",
        ),
    ] = PictureFormat.dot,
    output: OutputOption = "-",
) -> None:
    """Draw who says what about whom: claims, claimants, subjects, blame and denials, sources
    with what they rest on (grouped by origin), links between claims and incidents. Without a
    focus: the whole database, up to --max-nodes.

    Example: tracker graph --actor "PLA Unit 61398" --format svg -o apt1.svg
    """
    from tracker.errors import UsageError
    from tracker.services.graph import build_graph

    focus = [f for f in (claim, actor, incident, tag) if f is not None]
    if len(focus) > 1:
        raise UsageError("give one focus: --claim, --actor, --incident or --tag")
    if not 1 <= max_nodes <= MOST_NODES:
        raise UsageError(f"--max-nodes must be between 1 and {MOST_NODES}")
    with session(write=False) as s:
        drawn = build_graph(
            s,
            claim=claim,
            actor=actor,
            incident=incident,
            tag=tag,
            depth=depth,
            max_nodes=max_nodes,
        )
    if drawn.note:
        say(f"graph: {drawn.note}")
    if not drawn.nodes:
        say("graph: no claims to draw")
    write_picture(drawn, fmt, output)


def write_picture(drawn: "Graph", fmt: PictureFormat, output: str) -> None:
    from tracker.render.graph_dot import to_dot
    from tracker.render.graph_mermaid import to_mermaid
    from tracker.render.svg import render_png, render_svg

    if fmt is PictureFormat.png:
        output_bytes(output, render_png(drawn))
        return
    render = {PictureFormat.dot: to_dot, PictureFormat.mermaid: to_mermaid}.get(fmt, render_svg)
    text = render(drawn)  # drawn before the file is opened: a failure leaves no file
    with output_stream(output) as out:
        out.write(text)
