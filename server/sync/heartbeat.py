"""Merger heartbeats: each merger process rewrites its row every BEAT_EVERY seconds, so any
app server on the same database can tell whether merging is alive (/readyz, /metrics).
On SQLite the beat is a file's modification time instead (sqlite_beats_dir).

A beat is an UPDATE of one row by primary key (an INSERT the first time), in its own short
transaction; a failed beat is logged and ignored (the merger's work matters more, and the next
beat tries again). A merger that stops cleanly deletes its row; one that is killed leaves a row
whose age tells the story.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from server.db.models import MergerHeartbeat, utcnow
from server.db.session import Database
from server.private_files import private_dir

logger = logging.getLogger(__name__)

BEAT_EVERY = 5.0  # seconds
# A merger is alive if it beat within this many seconds (a merge of a large backlog batch
# can keep a loop busy for a while between beats).
ALIVE_WITHIN = 60.0


def merger_id() -> str:
    """host:pid:random - says where to look, never who submitted what."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sqlite_beats_dir(db: Database) -> Path | None:
    """SQLite: the beats are files beside the database (every process using it is on this
    machine), so a beat never takes SQLite's single write lock from intake or a merge, nor
    breaks another connection's read-then-write transaction."""
    if not db.is_sqlite:
        return None
    path = make_url(db.url).database
    return Path(f"{path}-mergers") if path and path != ":memory:" else None


class Heartbeat:
    def __init__(self, db: Database, every: float = BEAT_EVERY) -> None:
        self.db = db
        self.every = every
        self.id = merger_id()
        self._next = 0.0
        folder = sqlite_beats_dir(db)
        self.file = folder / self.id.replace(":", "_") if folder is not None else None

    def beat(self, *, force: bool = False) -> None:
        """Write the beat if it is due (cheap to call on every loop)."""
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.every
        if self.file is not None:
            try:
                private_dir(self.file.parent)
                self.file.touch()  # the beat is the file's modification time
            except OSError as exc:
                logger.warning("merger heartbeat not written: %s", type(exc).__name__)
            return
        try:
            with self.db.transaction() as session:
                updated = session.execute(
                    update(MergerHeartbeat).where(MergerHeartbeat.id == self.id).values(beat_at=utcnow())
                ).rowcount
                if not updated:
                    session.add(MergerHeartbeat(id=self.id))
        except SQLAlchemyError as exc:
            logger.warning("merger heartbeat not written: %s", type(exc).__name__)

    def stop(self) -> None:
        if self.file is not None:
            self.file.unlink(missing_ok=True)
            return
        try:
            with self.db.transaction() as session:
                session.execute(delete(MergerHeartbeat).where(MergerHeartbeat.id == self.id))
        except SQLAlchemyError as exc:
            logger.warning("merger heartbeat not removed: %s", type(exc).__name__)


@dataclass(frozen=True)
class MergersState:
    alive: int  # mergers that beat within ALIVE_WITHIN seconds
    last_beat_age_s: float | None  # seconds since the most recent beat of any merger; None: never


def _file_beats(folder: Path) -> list[float]:
    beats = []
    for file in folder.iterdir() if folder.is_dir() else ():
        try:
            beats.append(file.stat().st_mtime)
        except FileNotFoundError:  # a merger stopping right now
            continue
    return beats


def mergers_state(db: Database, alive_within: float = ALIVE_WITHIN) -> MergersState:
    now = datetime.now(UTC)
    folder = sqlite_beats_dir(db)
    if folder is not None:
        beats = _file_beats(folder)
        if not beats:
            return MergersState(0, None)
        ages = [max(0.0, now.timestamp() - b) for b in beats]
        return MergersState(sum(1 for a in ages if a <= alive_within), min(ages))
    with db.session() as session:
        alive, last = session.execute(
            select(
                func.count().filter(MergerHeartbeat.beat_at >= now - timedelta(seconds=alive_within)),
                func.max(MergerHeartbeat.beat_at),
            )
        ).one()
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return MergersState(int(alive or 0), None if last is None else max(0.0, (now - last).total_seconds()))
