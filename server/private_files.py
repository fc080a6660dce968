"""Files with personal data are readable by their owner only, whatever the operator's umask.

The SQLite database (and SQLite's -wal/-shm files, which take the database file's mode),
attachments, QR codes with collector secrets, backups and the instance secrets are all created
by this process. Setting the process umask once covers every one of them, including files made
by libraries we do not control (SQLite, gunicorn's worker heartbeat files); folders are also
created 0700 explicitly so a shared parent never exposes them.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def make_process_private() -> None:
    """New files 0600, new folders 0700, from here on, in this process and its children."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only; an existing folder is left as it is (the
    operator may have chosen its mode)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another worker process made it first
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return path
