"""Dossiers and reports as documents: one model (document.py), built from the commands' data
(dossiers.py), written as Markdown (markdown.py) or self-contained HTML (html.py)."""
