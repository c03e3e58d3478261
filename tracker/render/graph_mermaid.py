"""The graph as a Mermaid flowchart. Ids are generated (`c3`, `a1`); every label is a quoted
string in which anything but letters, digits and plain punctuation is written as a Mermaid
entity (`#35;`), so no text can close the label, start a directive (`click`, `%%{init}`) or be
read as Markdown or HTML."""

import re

from tracker.render.styles import EDGES, NODES, cut, lines
from tracker.services.graph import Graph, Node

LABEL_WIDTH = 34
LABEL_LINES = 4
_SAFE = re.compile(r"[A-Za-z0-9 .,:;!?'()+=/@-]")
# Mermaid node shapes for each kind: (opening, closing).
_SHAPES = {
    "claim": ("(", ")"),
    "actor": ("([", "])"),
    "source": ("[", "]"),
    "incident": ("{{", "}}"),
}
_LINES = {"solid": "-->", "dashed": "-.->", "dotted": "-.->"}


def escape(value: str) -> str:
    """Text as Mermaid shows it literally inside a quoted label."""
    return "".join(ch if _SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in value)


def _label(parts: list[str]) -> str:
    return '"' + "<br>".join(escape(p) for p in parts) + '"'


def _node(node: Node) -> str:
    opening, closing = _SHAPES[node.kind]
    parts = lines(node.label, LABEL_WIDTH, LABEL_LINES)
    if node.detail:
        parts.append(cut(node.detail, LABEL_WIDTH + 6))
    return f"  {node.key}{opening}{_label(parts)}{closing}:::{node.kind}"


def to_mermaid(graph: Graph) -> str:
    """The whole graph as a Mermaid `flowchart` definition."""
    out = ["flowchart LR"]
    if graph.title or graph.note:
        note = graph.title + (f" - {graph.note}" if graph.note else "")
        out.append(f"  note0[{_label([note])}]:::note")
    clustered = {key for members in graph.clusters.values() for key in members}
    by_key = {n.key: n for n in graph.nodes}
    for origin, members in sorted(graph.clusters.items()):
        title = f"resting on {cut(by_key[origin].label, 40)}"
        out.append(f"  subgraph cluster_{origin}[{_label([title])}]")
        out += ["  " + _node(by_key[key]) for key in members]
        out.append("  end")
    out += [_node(n) for n in graph.nodes if n.key not in clustered]
    styles = []
    for number, edge in enumerate(graph.edges):
        style = EDGES[edge.kind]
        out.append(f"  {edge.source} {_LINES[style.line]}|{_label([style.label])}| {edge.target}")
        dash = {"dashed": "stroke-dasharray:6 4,", "dotted": "stroke-dasharray:2 3,"}
        styles.append(
            f"  linkStyle {number} stroke:{style.color},"
            f"{dash.get(style.line, '')}stroke-width:{style.width}px,color:{style.color}"
        )
    out += styles
    for kind, (_shape, fill) in NODES.items():
        out.append(f"  classDef {kind} fill:{fill},stroke:#444444,color:#000000")
    out.append("  classDef note fill:#ffffff,stroke:#ffffff,color:#555555")
    out += [f"  style {n.key} stroke-width:3px" for n in graph.nodes if n.focus]
    return "\n".join(out) + "\n"
