"""Village reports and referrals with their sources (domain.md 2, 3.4).

Columns marked ``# S`` are sensitive: stored, never logged, never in URLs or error messages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow
from server.db.models.case_enums import (
    Priority,
    ReferralCategory,
    ReferralSourceKind,
    ReferralStatus,
    VillageReportStatus,
)


class VillageReport(Base):
    """Form 3 aggregates for (village_code, period_ym). No names of residents."""

    __tablename__ = "village_reports"
    # `accepted_period_ym` is the period while this report is the accepted one, NULL otherwise:
    # NULLs never collide, so the database allows one accepted report per key on both engines.
    __table_args__ = (
        UniqueConstraint("village_code", "accepted_period_ym"),
        # The report counts a period's reports in one status (corrections pending) from the index.
        Index("ix_village_reports_status_period_ym", "status", "period_ym"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), unique=True)
    village_code: Mapped[str] = mapped_column(String(8), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    period_ym: Mapped[str] = mapped_column(String(7), index=True)
    accepted_period_ym: Mapped[str | None] = mapped_column(String(7), nullable=True)
    status: Mapped[VillageReportStatus] = mapped_column(str_enum(VillageReportStatus))
    correction_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("village_reports.id"), nullable=True
    )
    reporter_code: Mapped[str | None] = mapped_column(String(100), nullable=True)  # S+
    reporter_role: Mapped[str | None] = mapped_column(String(32), nullable=True)  # S+
    n_households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_left_women_15_24: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_left_under18: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_left_via_broker: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_returned: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_returned_need_help: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_children_working_away: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_venues: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_new_venues: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_sessions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_part_f: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_part_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destinations: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- referrals --------------------------------------------------------------------------------
class Referral(Base):
    """A case. Child-protection referrals are always `restricted` (staff_child only)."""

    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    case_code: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[ReferralCategory] = mapped_column(str_enum(ReferralCategory), index=True)
    triggers: Mapped[list[str]] = mapped_column(JSON, default=list)  # S
    source: Mapped[ReferralSourceKind] = mapped_column(str_enum(ReferralSourceKind))
    status: Mapped[ReferralStatus] = mapped_column(
        str_enum(ReferralStatus), default=ReferralStatus.NEW, index=True
    )
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 8), default=Priority.NORMAL)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    workplace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workplaces.id"), nullable=True, index=True
    )
    village_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id"), nullable=True, index=True
    )
    # Anonymous person: {"age_group": ..., "sex": ..., "n": ...} (S).
    person_descriptor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A source submission was edited and no longer carries a trigger: staff decide.
    source_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # from the form
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id"), nullable=True, index=True
    )
    # A referral_services code: where staff referred the case, and who gave the service.
    referred_to: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Optimistic concurrency for staff actions (ETag / If-Match).
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    sources: Mapped[list[ReferralSource]] = relationship(
        back_populates="referral", order_by="ReferralSource.id"
    )


class ReferralSource(Base):
    """Which submission (and which alert inside it) raised or joined a referral.

    Stored apart from the referral (reporter protection, domain.md 1.5 rule 5): the reporter
    is only here. `active` is false once an edit of the submission removed the trigger.
    """

    __tablename__ = "referral_sources"
    __table_args__ = (UniqueConstraint("referral_id", "submission_id", "alert_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id"), nullable=True
    )
    # Which alert of the submission: the category, or "case_alert:<n>" for village concerns.
    alert_key: Mapped[str] = mapped_column(String(64))
    triggers: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_code: Mapped[str | None] = mapped_column(String(100), nullable=True)  # S+
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="sources")
