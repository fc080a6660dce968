"""Raw submissions, append-only: a logical submission and its versions (deprecatedID chain)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow


class SubmissionState(enum.StrEnum):
    RECEIVED = "received"  # stored, not merged yet
    STORED_ENCRYPTED = "stored_encrypted"  # kept, waiting for staff to decrypt
    MERGED = "merged"
    MERGE_FAILED = "merge_failed"


class ReviewState(enum.StrEnum):
    """Staff review (received and edited are set by intake; the others by staff). Rejected
    submissions are left out of the indicator report (domain.md 5)."""

    RECEIVED = "received"
    EDITED = "edited"
    HAS_ISSUES = "has_issues"
    APPROVED = "approved"
    REJECTED = "rejected"


class Submission(Base):
    """One logical submission, identified by its first (root) instanceID."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("form_id", "root_instance_id"),
        # The staff submission list: newest first, optionally by review state (casework.listing).
        Index("ix_submissions_created_at_id", "created_at", "id"),
        Index("ix_submissions_review_state_created_at", "review_state", "created_at"),
        # Each list filter paired with the sort key, so a filtered page is an index range.
        Index("ix_submissions_commune_created_at", "commune_code", "created_at"),
        Index("ix_submissions_event_date_created_at", "event_date", "created_at"),
        Index("ix_submissions_has_alert_created_at", "has_alert", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    root_instance_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[SubmissionState] = mapped_column(
        str_enum(SubmissionState), default=SubmissionState.RECEIVED, index=True
    )
    review_state: Mapped[ReviewState] = mapped_column(str_enum(ReviewState), default=ReviewState.RECEIVED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Merge bookkeeping: which version was last merged, when, and why it failed.
    merged_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    merge_attempts: Mapped[int] = mapped_column(Integer, default=0)
    merge_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the staff list filters on, copied from the case rows by each merge (sync.merge.list_columns):
    # reaching them through joins cost 150-300 ms a page at 100,000 submissions. No Python-side
    # defaults: the fast intake INSERT ... SELECT (sync.intake) leaves them to the database.
    # The day of the event, or the first day of the month a monthly report covers (event_month).
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    event_month: Mapped[bool] = mapped_column(Boolean, server_default=false())
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    has_alert: Mapped[bool] = mapped_column(Boolean, server_default=false())

    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission", order_by="SubmissionVersion.id"
    )

    @property
    def current_version(self) -> SubmissionVersion:
        return next(v for v in reversed(self.versions) if v.is_current)


class SubmissionVersion(Base):
    """The XML exactly as received for one instanceID. Never updated except `is_current`."""

    __tablename__ = "submission_versions"
    # The database enforces identity: concurrent identical POSTs store one row.
    __table_args__ = (
        UniqueConstraint("form_id", "instance_id"),
        # Staff open a submission by any version's instanceID, without its form (web pages, API).
        Index("ix_submission_versions_instance_id", "instance_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    instance_id: Mapped[str] = mapped_column(String(255))
    deprecated_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the canonical XML (C14N 2.0): engines differ in declarations and whitespace.
    c14n_sha256: Mapped[str] = mapped_column(String(64))
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("collectors.id"), index=True)
    collector_code: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    device_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="versions")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="version", order_by="Attachment.filename"
    )


class Attachment(Base):
    """A file the submission XML refers to; `stored_name` is generated, never the client's."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("version_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    version: Mapped[SubmissionVersion] = relationship(back_populates="attachments")

    @property
    def present(self) -> bool:
        return self.stored_name is not None


class RejectedCopy(Base):
    """A payload we refused (e.g. same instanceID, different XML): kept for staff, never lost."""

    __tablename__ = "rejected_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), nullable=True)
    instance_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("collectors.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UnfitStatus(enum.StrEnum):
    OPEN = "open"  # waiting for staff
    CORRECTED = "corrected"  # staff entered a value; the merge uses it
    DISMISSED = "dismissed"  # staff decided the answer stays out
    SUPERSEDED = "superseded"  # an edit of the submission replaced the version


class UnfitAnswer(Base):
    """An answer the merge could not use (issue 9 item 9): the submission was merged without
    it, and staff correct or dismiss it. `value` is personal data (S), shown only to roles
    that read answers; never logged."""

    __tablename__ = "unfit_answers"
    __table_args__ = (UniqueConstraint("submission_version_id", "field", "repeat", "row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    submission_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    field: Mapped[str] = mapped_column(String(64))
    # The repeat group and its 1-based row, empty outside repeats ("" not NULL: part of the key).
    repeat: Mapped[str] = mapped_column(String(64), default="")
    row: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[str] = mapped_column(Text)  # S: the first KEPT_CHARS characters
    reason: Mapped[str] = mapped_column(String(32))
    limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[UnfitStatus] = mapped_column(str_enum(UnfitStatus, 16), default=UnfitStatus.OPEN,
                                                index=True)
    corrected_value: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MergerHeartbeat(Base):
    """One row per running merger process, rewritten every few seconds (server/sync/heartbeat.py):
    /readyz and /metrics tell from it whether any merger is alive, on whichever server."""

    __tablename__ = "merger_heartbeats"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:random, no personal data
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
