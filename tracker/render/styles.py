"""How each kind of node and edge is drawn, shared by every renderer: colour, line style and
a label, so that the picture reads in greyscale too."""

import re
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class EdgeStyle:
    label: str
    color: str
    line: str  # solid, dashed or dotted
    width: float = 1.0


EDGES = {
    "claimant": EdgeStyle("said", "#555555", "solid"),
    "about": EdgeStyle("about", "#777777", "dotted"),
    "blames": EdgeStyle("blames", "#c0392b", "solid", 2.5),
    "clears": EdgeStyle("clears", "#1e8449", "dashed", 1.5),
    "denial": EdgeStyle("denies", "#1e8449", "dashed", 3.0),
    "responsibility": EdgeStyle("claims responsibility", "#7d3c98", "solid", 3.0),
    "same-as": EdgeStyle("same as", "#555555", "dotted", 1.5),
    "supports": EdgeStyle("supports", "#2471a3", "solid", 2.0),
    "disputes": EdgeStyle("disputes", "#d35400", "dashed", 2.0),
    "refutes": EdgeStyle("refutes", "#922b21", "dashed", 3.0),
    "repeats": EdgeStyle("repeats", "#7f8c8d", "dotted", 1.5),
    "cites": EdgeStyle("cites", "#34495e", "solid", 1.5),
    "qualifies": EdgeStyle("qualifies", "#b7950b", "dashed", 1.5),
    "supersedes": EdgeStyle("supersedes", "#000000", "solid", 2.5),
    "appears-in": EdgeStyle("appears in", "#999999", "solid"),
    "rests-on": EdgeStyle("rests on", "#999999", "solid", 1.5),
    "concerns": EdgeStyle("concerns", "#888888", "dashed"),
    "part-of": EdgeStyle("part of", "#1a5276", "solid", 1.5),
}

# kind -> (Graphviz shape, fill colour)
NODES = {
    "claim": ("box", "#fdf2d0"),
    "actor": ("ellipse", "#d6eaf8"),
    "source": ("note", "#eeeeee"),
    "incident": ("hexagon", "#f5b7b1"),
}

FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"
# Characters no XML document may hold, nor any picture show: control characters (tabs and
# line breaks become spaces first), surrogates, and the two non-characters U+FFFE and U+FFFF.
_UNDRAWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def plain(value: str) -> str:
    """One line of drawable text."""
    return _UNDRAWABLE.sub("", _SPACES.sub(" ", value)).strip()


def lines(value: str, width: int, most: int) -> list[str]:
    """`value` wrapped at spaces into at most `most` lines; what does not fit ends in `…`."""
    return textwrap.wrap(plain(value), width, max_lines=most, placeholder=" …") or [""]


def cut(value: str, most: int) -> str:
    text = plain(value)
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"
