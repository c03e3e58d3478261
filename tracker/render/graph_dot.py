"""The graph in Graphviz's DOT language. Every id is generated (`c3`, `a1`); every label is a
quoted string with `\\` and `"` escaped (so Graphviz's own `\\N`-style sequences stay text) and
`&` written as `&amp;` (Graphviz reads entities in labels; this keeps `&lt;` as typed)."""

from tracker.render.styles import EDGES, FONT, NODES, cut, lines
from tracker.services.graph import Graph, Node

LABEL_WIDTH = 34
LABEL_LINES = 4
TOOLTIP = 500


def quote(value: str) -> str:
    """A DOT quoted string that Graphviz shows exactly as `value`."""
    escaped = value.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _multiline(parts: list[str]) -> str:
    # `\n` is DOT's own line break, added after each part's escaping.
    return '"' + "\\n".join(quote(p)[1:-1] for p in parts) + '"'


def safe_url(url: str) -> str:
    """An http(s) URL as Graphviz may copy it into SVG unescaped (2.43 does): characters that
    would end the attribute or start markup are percent-encoded, `&` is written as an entity."""
    encoded = "".join(f"%{ord(ch):02X}" if ch in " \"<>'\\`{}|^" else ch for ch in url)
    return encoded.replace("&", "&amp;")


def _node(node: Node) -> str:
    shape, fill = NODES[node.kind]
    label = lines(node.label, LABEL_WIDTH, LABEL_LINES)
    if node.detail:
        label.append(cut(node.detail, LABEL_WIDTH + 6))
    attrs = [
        f"label={_multiline(label)}",
        f"tooltip={quote(cut(node.label, TOOLTIP))}",
        f"shape={shape}",
        f'fillcolor="{fill}"',
    ]
    if node.kind == "claim":
        attrs.append('style="rounded,filled,bold"' if node.focus else 'style="rounded,filled"')
    if node.focus:
        attrs.append("penwidth=2.5")
    if node.url:
        attrs += [f'URL="{safe_url(node.url)}"', 'target="_blank"']
    return f"  {node.key} [{', '.join(attrs)}];"


def to_dot(graph: Graph) -> str:
    """The whole graph as a DOT document."""
    out = [
        "digraph tracker {",
        f"  graph [rankdir=LR, fontname={quote(FONT)}, fontsize=11, "
        f"label={quote(graph.title + (' - ' + graph.note if graph.note else ''))}, "
        'labelloc=t, tooltip="", newrank=true];',
        f'  node [style=filled, fontname={quote(FONT)}, fontsize=10, color="#444444"];',
        f"  edge [fontname={quote(FONT)}, fontsize=9];",
    ]
    clustered = {key for members in graph.clusters.values() for key in members}
    by_key = {n.key: n for n in graph.nodes}
    for origin, members in sorted(graph.clusters.items()):
        title = f"resting on {cut(by_key[origin].label, 40)}"
        out.append(f"  subgraph cluster_{origin} {{")
        out.append(
            f'    label={quote(title)}; style="rounded,dashed"; color="#888888"; '
            'fontsize=9; tooltip="";'
        )
        out += ["  " + _node(by_key[key]) for key in members]
        out.append("  }")
    out += [_node(n) for n in graph.nodes if n.key not in clustered]
    for edge in graph.edges:
        style = EDGES[edge.kind]
        out.append(
            f"  {edge.source} -> {edge.target} [label={quote(style.label)}, "
            f'color="{style.color}", fontcolor="{style.color}", style={style.line}, '
            f"penwidth={style.width}];"
        )
    out.append("}")
    return "\n".join(out) + "\n"
