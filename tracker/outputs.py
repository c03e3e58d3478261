"""The one guard every file a command writes goes through: an output must never be the
database (or one of the files SQLite keeps beside it) or a file the command is reading.

Files are compared by what they are, not how they are named: device and inode for a file that
exists (so a symlink, a hard link, `./x` and `/abs/x` are all caught), and the real folder and
name for one that does not yet (so `db-wal` is refused before SQLite has made it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import OutputRefused

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# What SQLite keeps beside a database file, and how to name each in a message.
SIDE_FILES = {
    "": "the database",
    "-wal": "the database's write-ahead log",
    "-shm": "the database's shared-memory index",
    "-journal": "the database's rollback journal",
}

PathLike = str | os.PathLike[str]


def identity(path: PathLike) -> tuple[object, ...]:
    """What a path names: (device, inode) if it exists; else its real folder's and its name."""
    try:
        info = os.stat(path)
        return ("inode", info.st_dev, info.st_ino)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except (OSError, ValueError):
        return ("path", os.path.realpath(path))
    real = Path(os.path.realpath(path))
    try:
        folder = os.stat(real.parent)
    except OSError:
        return ("path", str(real))
    return ("name", folder.st_dev, folder.st_ino, real.name)


def database_files(url: URL | None) -> list[tuple[str, Path]]:
    """The files of a SQLite database, each with how to name it; none for a server."""
    if url is None or url.get_backend_name() != "sqlite" or not url.database:
        return []
    if url.database == ":memory:":
        return []
    base = url.database.removeprefix("file:")
    return [(label, Path(base + suffix)) for suffix, label in SIDE_FILES.items()]


def refuse_overwrite(
    target: PathLike,
    *,
    database: URL | None = None,
    inputs: Iterable[PathLike] = (),
) -> None:
    """Raise OutputRefused (exit 74) if writing `target` would overwrite the database, one of
    its side files or one of `inputs`. `-` (standard output) is always allowed."""
    if str(target) == "-":
        return
    protected = database_files(database)
    protected += [(f"the input file {str(i)!r}", Path(i)) for i in inputs if str(i) != "-"]
    if not protected:
        return
    wanted = identity(Path(target).expanduser())
    for label, path in protected:
        if identity(path) == wanted:
            raise OutputRefused(
                f"cannot write {str(target)!r}: it is {label} ({path}); nothing was changed"
            )
