"""tracker: record who claimed what, where it was said, whom it is about, and who disputes it."""

__version__ = "0.1.0"
