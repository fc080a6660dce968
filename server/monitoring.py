"""Health and Prometheus metrics. Counts, ages and HTTP statuses only: no names, phones, free
text, instanceIDs or tokens ever appear in a label or a value.

Two kinds of metrics, both correct with several gunicorn workers and separate mergers:

* Work queues (submissions by state, merge lag, merge failures, duplicate pairs pending) are
  read from the database at scrape time, so every process answers the same numbers.
* Intake events (submissions received by HTTP status, intake latency) are counted by the
  process that handled them; under `sahakum serve` prometheus_client's multi-process mode sums
  the workers through files in a private folder (instance/run/metrics).

Merger liveness, two signs: every merger process beats a heartbeat row (server/sync/heartbeat.py),
so when mergers are expected (`sahakum serve` without --merge-after-reply) /readyz is not ready
while none has beaten within a minute; and no submission may wait in state `received` longer
than SAHAKUM_MERGE_LAG_LIMIT seconds (default 600), which catches a merger that beats but is stuck.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from server.db.health import database_state
from server.db.models import Submission, SubmissionState
from server.db.models.cases import CandidatePair, PairStatus
from server.db.session import Database
from server.sync.heartbeat import mergers_state

log = logging.getLogger(__name__)

SUBMISSIONS_RECEIVED = Counter(
    "sahakum_submissions_received",
    "Submission POSTs answered, by HTTP status (201 stored, 400 bad input, 409 conflict, ...).",
    ["status"],
)
INTAKE_SECONDS = Histogram(
    "sahakum_intake_seconds",
    "Time to answer a submission POST (reading, storing and committing; not the merge).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def record_intake(status: int, seconds: float) -> None:
    SUBMISSIONS_RECEIVED.labels(status=str(status)).inc()
    INTAKE_SECONDS.observe(seconds)


@dataclass(frozen=True)
class QueueState:
    submissions_by_state: dict[str, int]
    merge_lag_s: float  # age of the oldest submission waiting to be merged; 0 when none waits
    pairs_pending: dict[str, int]


def _age_s(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def queue_state(db: Database) -> QueueState:
    """Three aggregate queries on indexed columns (cheap enough for every scrape)."""
    with db.session() as session:
        by_state = dict(
            session.execute(select(Submission.state, func.count()).group_by(Submission.state)).all()
        )
        # updated_at: an edit puts an old submission back to `received`.
        oldest = session.scalar(
            select(func.min(Submission.updated_at)).where(Submission.state == SubmissionState.RECEIVED)
        )
        pairs = dict(
            session.execute(
                select(CandidatePair.entity_type, func.count())
                .where(CandidatePair.status == PairStatus.PENDING)
                .group_by(CandidatePair.entity_type)
            ).all()
        )
    return QueueState(
        submissions_by_state={str(s): by_state.get(s, 0) for s in SubmissionState},
        merge_lag_s=_age_s(oldest, datetime.now(UTC)),
        pairs_pending={str(k): v for k, v in pairs.items()},
    )


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # check -> "ok" or a short reason without personal data

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def _merger_check(db: Database, lag_s: float, merge_lag_limit_s: int, expect_mergers: bool) -> str:
    if lag_s > merge_lag_limit_s:
        return f"stalled: oldest unmerged submission waits {int(lag_s)} s"
    if expect_mergers:
        mergers = mergers_state(db)
        if not mergers.alive:
            since = "never" if mergers.last_beat_age_s is None else f"{int(mergers.last_beat_age_s)} s ago"
            return f"no merger alive (last heartbeat: {since})"
    return "ok"


def readiness(db: Database, merge_lag_limit_s: int, expect_mergers: bool = False) -> Readiness:
    state = database_state(db.engine, db.url)
    if state.problem is not None:
        log.warning("not ready: %s", state.problem)  # the operator's line; the reply stays vague
        if not state.reachable:
            return Readiness({"database": "unreachable", "migrations": "unknown", "merger": "unknown"})
        return Readiness({"database": "ok", "migrations": "not current", "merger": "unknown"})
    try:
        merger = _merger_check(db, queue_state(db).merge_lag_s, merge_lag_limit_s, expect_mergers)
    except DBAPIError:
        return Readiness({"database": "unreachable", "migrations": "unknown", "merger": "unknown"})
    return Readiness({"database": "ok", "migrations": "ok", "merger": merger})


class QueueCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("sahakum_database_up", "1 if the database answered this scrape.")
        try:
            state = queue_state(self.db)
            mergers = mergers_state(self.db)
        except DBAPIError as exc:
            log.warning("metrics: database query failed (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queue = GaugeMetricFamily(
            "sahakum_submissions", "Submissions by merge state (received = waiting).", labels=["state"]
        )
        for name, count in state.submissions_by_state.items():
            queue.add_metric([name], count)
        yield queue
        yield GaugeMetricFamily(
            "sahakum_merge_lag_seconds",
            "Age of the oldest submission waiting to be merged (0 when none waits).",
            value=state.merge_lag_s,
        )
        yield GaugeMetricFamily(
            "sahakum_merge_failures",
            "Submissions whose last merge failed (retried with back-off; see sahakum sync retry).",
            value=state.submissions_by_state[str(SubmissionState.MERGE_FAILED)],
        )
        yield GaugeMetricFamily(
            "sahakum_mergers_alive",
            "Merger processes that wrote their heartbeat within the last minute.",
            value=mergers.alive,
        )
        if mergers.last_beat_age_s is not None:
            yield GaugeMetricFamily(
                "sahakum_merger_heartbeat_age_seconds",
                "Seconds since the most recent heartbeat of any merger process.",
                value=mergers.last_beat_age_s,
            )
        pairs = GaugeMetricFamily(
            "sahakum_duplicate_pairs_pending",
            "Probable duplicates waiting for staff.",
            labels=["entity_type"],
        )
        for entity in ("member", "workplace"):
            pairs.add_metric([entity], state.pairs_pending.get(entity, 0))
        yield pairs


def metrics_text(db: Database, multiprocess_dir: Path | None) -> bytes:
    """The Prometheus exposition of this app (all worker processes when multi-process)."""
    registry = CollectorRegistry()
    if multiprocess_dir is not None:
        MultiProcessCollector(registry, path=str(multiprocess_dir))
    else:
        registry.register(SUBMISSIONS_RECEIVED)
        registry.register(INTAKE_SECONDS)
    registry.register(QueueCollector(db))
    return generate_latest(registry)
