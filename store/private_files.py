"""Folders 0700 and files 0600 from the moment they exist: the data folder holds secrets and personal data.

Modes are given to `os.mkdir` and `os.open` when an entry is created, never set by `chmod` after something
was written (a reader could open the file in between). The umask can only take permissions away, so these
modes hold whatever umask the process runs under.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 folders (`Path.mkdir(parents=True)` would give the
    parents the default mode); an existing folder is left as it is."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue
    return path


def private_data_dir(path: Path) -> Path:
    """The data folder itself, 0700: created so, or narrowed to it with a warning when it was wider (a data
    folder from an earlier version; its files are the operator's to narrow, see docs/operations.md)."""
    private_dir(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            path.chmod(DIR_MODE)
        except PermissionError:  # not ours (a volume owned by another user): say so, the files stay 0600
            log.warning("data folder %s is %s and not ours to narrow; make it 0700", path, oct(mode))
        else:
            log.warning("data folder %s was %s; narrowed it to 0700", path, oct(mode))
    return path


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (SQLite then opens it as a new database and
    gives its -wal and -shm files the database file's mode)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` to ``path`` as a 0600 file, durably, through a temporary file renamed over it.

    With ``exclusive`` an existing ``path`` wins: nothing is written and False is returned (two processes
    generating the same secret at once keep one).
    """
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            try:
                os.link(tmp, path)  # fails if path exists: the first writer wins
            except FileExistsError:
                return False
            return True
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)
