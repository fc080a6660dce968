"""What one merge carries from step to step: the locked submission, its answers, the outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Collector, Submission, SubmissionVersion
from server.sync.merge.answers import EntityMeta, parse_date


class MergeError(Exception):
    """A submission that cannot be merged. The message is a short code-like reason."""


@dataclass
class MergeOutcome:
    submission_id: uuid.UUID
    form_id: str = ""
    version_id: int | None = None
    skipped: bool = False  # already merged (or encrypted, not merged yet)
    reason: str | None = None
    member_id: uuid.UUID | None = None
    workplace_ids: list[uuid.UUID] = field(default_factory=list)
    visit_id: uuid.UUID | None = None
    village_report_id: uuid.UUID | None = None
    referrals_created: list[uuid.UUID] = field(default_factory=list)
    referrals_attached: list[uuid.UUID] = field(default_factory=list)
    referrals_source_edited: list[uuid.UUID] = field(default_factory=list)
    candidate_pairs: list[uuid.UUID] = field(default_factory=list)
    merge_events: list[uuid.UUID] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    unfit_open: int = 0  # answers that did not fit, waiting for staff (issue 9 item 9)


@dataclass
class MergeContext:
    session: Session
    submission: Submission
    version: SubmissionVersion
    form_id: str
    answers: dict[str, Any]
    entity: EntityMeta | None
    event_date: date
    outcome: MergeOutcome
    remerge: bool  # an earlier version of this submission was merged already
    # What the staff list's filter columns take from this merge, when the handler knows it
    # without reading back (a first merge): list_columns.Listed, and whether an alert is
    # active. None: list_columns reads the case rows.
    listed: tuple[date | None, str | None, bool] | None = None
    has_alert: bool | None = None
    account: Collector | None = None  # the collector account that sent this version

    @property
    def vid(self) -> int:
        return self.version.id

    @property
    def collector(self) -> str | None:
        """The peer educator who filled the form (answer, else the token's collector)."""
        return self.s("collector") or self.version.collector_code

    def s(self, name: str) -> str | None:
        """A text answer, stripped; None when empty or not a leaf."""
        v = self.answers.get(name)
        return v.strip() or None if isinstance(v, str) else None

    def i(self, name: str) -> int | None:
        v = self.s(name)
        try:
            return int(float(v)) if v is not None else None
        except ValueError:
            return None

    def d(self, name: str) -> date | None:
        return parse_date(self.s(name))
