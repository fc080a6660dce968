"""Merger heartbeats: each merger process rewrites its row every BEAT_EVERY seconds, so any
app server on the same database can tell whether merging is alive (/readyz, /metrics).

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

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from server.db.models import MergerHeartbeat, utcnow
from server.db.session import Database

logger = logging.getLogger(__name__)

BEAT_EVERY = 5.0  # seconds
# A merger is alive if it beat within this many seconds (a merge of a large backlog batch
# can keep a loop busy for a while between beats).
ALIVE_WITHIN = 60.0


def merger_id() -> str:
    """host:pid:random - says where to look, never who submitted what."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    def __init__(self, db: Database, every: float = BEAT_EVERY) -> None:
        self.db = db
        self.every = every
        self.id = merger_id()
        self._next = 0.0

    def beat(self, *, force: bool = False) -> None:
        """Write the beat if it is due (cheap to call on every loop)."""
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.every
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
        try:
            with self.db.transaction() as session:
                session.execute(delete(MergerHeartbeat).where(MergerHeartbeat.id == self.id))
        except SQLAlchemyError as exc:
            logger.warning("merger heartbeat not removed: %s", type(exc).__name__)


@dataclass(frozen=True)
class MergersState:
    alive: int  # mergers that beat within ALIVE_WITHIN seconds
    last_beat_age_s: float | None  # seconds since the most recent beat of any merger; None: never


def mergers_state(db: Database, alive_within: float = ALIVE_WITHIN) -> MergersState:
    now = datetime.now(UTC)
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
