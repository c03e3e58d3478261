"""SVG and PNG through the programs that draw them (Graphviz's `dot`, librsvg's
`rsvg-convert`), and the last pass every SVG goes through before anyone sees it.

The programs run without a shell, input on stdin, with a timeout. `clean_svg` keeps an SVG to
drawing: no prologue or DTD (nothing to fetch), no scripts, event attributes, embedded HTML,
images, styles or links other than http(s).
"""

import shutil
import subprocess
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring

from tracker.errors import ToolMissing, TrackerError
from tracker.render.graph_dot import to_dot
from tracker.services.graph import Graph

TIMEOUT = 120  # seconds; a few hundred nodes take Graphviz about a second here
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Elements that could run code, load something or show HTML: never kept.
_FORBIDDEN = {"script", "foreignObject", "image", "style", "iframe", "object", "embed", "use"}
_HREFS = {"href", f"{{{XLINK_NS}}}href"}


def run_program(
    program: str, args: list[str], data: bytes, *, needed_for: str, package: str, named: str
) -> bytes:
    """`program args` with `data` on stdin; its stdout. A missing program is ToolMissing
    (exit 69) naming it as people know it (`named`) and the Debian package to install."""
    path = shutil.which(program)
    if path is None:
        raise ToolMissing(f"{needed_for} needs {named}: install the {package!r} package")
    try:
        done = subprocess.run(
            [path, *args], input=data, capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise TrackerError(f"{program} took over {TIMEOUT} s and was stopped") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TrackerError(f"{program} failed: {reason[0] if reason else done.returncode}")
    return done.stdout


def _dot(graph: Graph, fmt: str) -> bytes:
    return run_program(
        "dot",
        [f"-T{fmt}"],
        to_dot(graph).encode("utf-8"),
        needed_for=f"--format {fmt}",
        package="graphviz",
        named="Graphviz's dot program",
    )


def render_svg(graph: Graph) -> str:
    """The graph as one self-contained SVG document (Graphviz's layout), safe to embed."""
    return clean_svg(_dot(graph, "svg").decode("utf-8"))


def render_png(graph: Graph) -> bytes:
    return _dot(graph, "png")


def svg_to_png(svg: str) -> bytes:
    """An SVG drawn as PNG by librsvg (which loads nothing from outside the document)."""
    return run_program(
        "rsvg-convert",
        ["--format", "png"],
        svg.encode("utf-8"),
        needed_for="--format png",
        package="librsvg2-bin",
        named="librsvg's rsvg-convert program",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _harmless(name: str, value: str) -> bool:
    if _local(name).lower().startswith("on"):  # onload, onclick ...: script
        return False
    if name in _HREFS:
        return value.startswith(("http://", "https://"))
    return "url(" not in value or "url(#" in value  # a fill may point inside, never outside


def clean_svg(svg: str) -> str:
    """The SVG element alone, with nothing that runs, loads or links outside http(s)."""
    start = svg.find("<svg")
    if start < 0:
        raise TrackerError("the drawing program returned no SVG")
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    root = fromstring(svg[start:], forbid_dtd=True)
    for parent in root.iter():
        for child in list(parent):
            if _local(child.tag) in _FORBIDDEN:
                parent.remove(child)
        for name in list(parent.attrib):
            if not _harmless(name, parent.attrib[name].strip().lower()):
                del parent.attrib[name]
    text: str = ElementTree.tostring(root, encoding="unicode")
    return text + "\n"
