"""Files only their owner can read: stores, briefs, exports and other outputs.

A store holds TLP:AMBER and RED alerts and the audit log; a brief or an export holds alerts.
Whatever the process umask, EWS creates such files with mode 0600 and the folders it creates
for them with mode 0700. Files and folders that already exist keep their mode: EWS does not
tighten what a person made (an existing store folder, the working directory), it only never
creates anything readable by others.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077

_umask_lock = threading.Lock()
_umask_users = 0
_umask_saved = 0


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents, each new folder 0700; returns ``path``.

    Folders that already exist are left as they are.
    """
    path = path.expanduser()
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: not ours to change
        folder.chmod(DIR_MODE)  # mkdir's mode passes through the umask; chmod does not
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` as a new 0600 file (its folder created 0700 if missing).

    Written to a temporary file beside it and renamed: a reader never sees half a file, and
    a file that was there before is replaced, not rewritten in place (so it takes the new
    mode; its old mode is not kept).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = path.expanduser()
    folder = private_dir(path.parent)
    # mkstemp creates the file 0600 whatever the umask, under a name no one else uses.
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(FILE_MODE)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_private(path: Path) -> Path:
    """Create ``path`` as a new, empty 0600 file (its folder 0700 if missing) for a writer
    that opens the file by name afterwards (Parquet); refuses a file that exists."""
    path = path.expanduser()
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)
    path.chmod(FILE_MODE)
    return path


def hold_private_umask() -> None:
    """Tighten the process umask to at least 077 until :func:`release_private_umask`, so
    files a library creates on its own (DuckDB's store file, its write-ahead log, its spill
    files) are 0600.

    The umask belongs to the whole process: holds may overlap (threads, several stores open
    at once); the first tightens it and the last release restores it. Files other threads
    create meanwhile are only ever made more private, never less.
    """
    global _umask_users, _umask_saved  # noqa: PLW0603  # the umask is one per process
    with _umask_lock:
        current = os.umask(PRIVATE_UMASK)
        os.umask(current | PRIVATE_UMASK)  # tightened on every hold, in case it was reset
        if _umask_users == 0:
            _umask_saved = current
        _umask_users += 1


def release_private_umask() -> None:
    """End one :func:`hold_private_umask`."""
    global _umask_users  # noqa: PLW0603
    with _umask_lock:
        if _umask_users == 0:
            return
        _umask_users -= 1
        if _umask_users == 0:
            os.umask(_umask_saved)


@contextmanager
def private_umask() -> Iterator[None]:
    """:func:`hold_private_umask` for the length of a block."""
    hold_private_umask()
    try:
        yield
    finally:
        release_private_umask()
