"""Entity-list bodies built once per list version and kept in the instance folder.

A collector's members.csv or workplaces.csv only changes when the case data (the list version
bumped by database triggers, migration 0007) or her account changes, and both are already in
the list's ETag (``lists.media_hash``). So the body is built once per ETag, written to
``<instance>/lists/`` (folder 0700, files 0600: the lists carry codes only, but they are
still programme data) and every later download streams that file. The key is the ETag, read
from the database, never process memory: every app process on one PostgreSQL agrees on which
body is current, and a process that has not built it yet builds its own copy.

Bodies are written to a temporary file and renamed into place, so a reader sees a whole body or
none. Storing a body removes the other bodies of the same list and collector (an open file stays
readable on POSIX until the process serving it closes it; if two versions race, the loser is
simply built again on its next download).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

STORE_FOLDER = "lists"
log = logging.getLogger(__name__)


def _folder(instance_dir: Path) -> Path:
    folder = instance_dir / STORE_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _scope(filename: str, collector_id: object) -> str:
    # The list and the account, without the account's code: file names carry no names.
    return f"{Path(filename).stem}-{collector_id}"


def open_body(
    instance_dir: Path, filename: str, collector_id: object, etag: str,
    build: Callable[[], bytes],
) -> BinaryIO:
    """The stored body of this list for this collector at this ETag, open for reading;
    built (by ``build``) and stored first when no process has stored it yet."""
    scope = _scope(filename, collector_id)
    try:
        folder = _folder(instance_dir)
        return (folder / f"{scope}-{etag}.csv").open("rb")
    except FileNotFoundError:
        pass
    except OSError:
        # No usable store (read-only or misconfigured instance folder): the phone still gets
        # its list, built for this request as before the store existed.
        log.warning("entity-list store unusable", exc_info=True)
        return io.BytesIO(build())
    body = build()
    try:
        return _store(folder, scope, etag, body)
    except OSError:
        log.warning("entity-list body not stored", exc_info=True)
        return io.BytesIO(body)


def _store(folder: Path, scope: str, etag: str, body: bytes) -> BinaryIO:
    path = folder / f"{scope}-{etag}.csv"
    # mkstemp creates the file 0600 in the store folder (same file system: rename is atomic).
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".building-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    stored = path.open("rb")
    _drop_others(folder, scope, path)
    return stored


def _drop_others(folder: Path, scope: str, current: Path) -> None:
    for old in folder.glob(f"{scope}-*.csv"):
        if old != current:
            old.unlink(missing_ok=True)
