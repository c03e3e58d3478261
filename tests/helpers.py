"""Helpers shared by test modules (import as `from helpers import ...`)."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in a stable order, read without changing anything."""
    from sqlalchemy import select

    from tracker.db import open_database
    from tracker.models import Base

    database = open_database(url, write=False)
    try:
        with database.connect() as conn:
            return {
                name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for name, t in Base.metadata.tables.items()
            }
    finally:
        database.close()


def run_tracker(
    *args: str, env: dict[str, str] | None = None, as_nobody: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The real `tracker` in a subprocess (for closed streams, other users, resource limits)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(Path(__file__).parent.parent)
    preexec = kwargs.pop("preexec_fn", None)
    command = [sys.executable, "-m", "tracker", *args]
    if as_nobody:
        # The interpreter lives under /root, which nobody cannot read: start as root, load
        # every module, then become nobody before the command runs.
        command = [sys.executable, "-c", _AS_NOBODY, *args]
    return subprocess.run(
        command,
        env=full_env,
        capture_output=True,
        text=True,
        errors="replace",
        preexec_fn=preexec,
        timeout=60,
        **kwargs,
    )


_AS_NOBODY = """
import importlib, os, pkgutil, pwd, sys
import sqlite3, csv, json, getpass, uuid, traceback, urllib.parse
import sqlalchemy.dialects.sqlite, sqlalchemy.orm, sqlalchemy.sql.default_comparator
import tracker, tracker.cli, tracker.services, tracker.migrations
for package in (tracker, tracker.cli, tracker.services):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
import rich.console, rich.table, platformdirs
nobody = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
os.environ["HOME"] = "/nonexistent"
sys.argv = ["tracker", *sys.argv[1:]]
tracker.cli.main()
"""
