"""What people read and look at, made from plain data (no database, no CLI here).

Documents: one model (document.py), built from the commands' data (dossiers.py), written as
Markdown (markdown.py) or self-contained HTML (html.py). Pictures: the graph as DOT, Mermaid, SVG
or PNG (graph_*.py, svg.py), and the timeline as SVG (timeline_svg.py). Every value from the
database is user text and is escaped for the format it lands in; ids in DOT and Mermaid are made
from kinds and numbers only.
"""
