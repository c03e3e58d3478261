"""Pictures: the graph as DOT, Mermaid, SVG or PNG, and the timeline as SVG or PNG.

Renderers take plain models (services.graph.Graph, timeline events) and know nothing of the
database or the CLI. Every value from the database is user text and is escaped for the format
it lands in; ids in DOT and Mermaid are made from kinds and numbers only.
"""
