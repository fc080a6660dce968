"""Staff records of the programme's activities that no form carries (domain.md 2.2 and 5):
gatekeepers, courses and sessions with attendance, meetings, distributions, the hotline log,
and the import batches they may come from. Savings and livelihood are in ``savings.py``.

Every row entered by an import carries ``import_batch_id`` so the batch can be undone as one.
Columns marked ``# S`` are sensitive: stored, never logged, never in device CSVs or URLs.
"""

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
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow


class ReportGroup(enum.StrEnum):
    """domain.md 5: prostitution = brothel_based + freelance_sex_work; karaoke; other."""

    PROSTITUTION = "prostitution"
    KARAOKE = "karaoke"
    OTHER = "other"


class OrganisationType(enum.StrEnum):
    POLICE = "police"
    MUNICIPAL_CCRP = "municipal_ccrp"
    DISTRICT_WG_CHILD_RIGHTS = "district_wg_child_rights"
    HIV_AIDS_WG = "hiv_aids_wg"
    NGO = "ngo"
    EMPLOYER_OWNER = "employer_owner"
    VILLAGE_CHIEF = "village_chief"
    COMMUNE_COUNCIL = "commune_council"
    COMMUNE_WOMEN_FOCAL = "commune_women_focal"
    OTHER = "other"


class CourseCategory(enum.StrEnum):
    AWARENESS = "awareness"
    PE_INITIAL = "pe_initial"
    PE_REFRESHER = "pe_refresher"
    GATEKEEPER_SENSITISATION = "gatekeeper_sensitisation"
    VILLAGE_DATA_TRAINING = "village_data_training"
    VOCATIONAL = "vocational"


class TargetGroup(enum.StrEnum):
    WOMEN_IN_PROSTITUTION = "women_in_prostitution"
    KARAOKE_WORKERS = "karaoke_workers"
    PE = "pe"
    GATEKEEPERS = "gatekeepers"
    LOCAL_AUTHORITIES = "local_authorities"


class AttendeeKind(enum.StrEnum):
    MEMBER = "member"
    PEER_EDUCATOR = "peer_educator"
    GATEKEEPER = "gatekeeper"


class MeetingType(enum.StrEnum):
    PE_MONTHLY = "pe_monthly"
    GATEKEEPER = "gatekeeper"
    NETWORK = "network"


class DistributionItem(enum.StrEnum):
    GUIDELINE_BOOKLET = "guideline_booklet"
    LEAFLET = "leaflet"
    SAVINGS_BOOK = "savings_book"
    OTHER = "other"


class RecipientType(enum.StrEnum):
    MEMBER = "member"
    PEER_EDUCATOR = "peer_educator"
    GATEKEEPER = "gatekeeper"
    PUBLIC = "public"
    OTHER = "other"


class ReportChannel(enum.StrEnum):
    POLICE_HOTLINE = "police_hotline"
    KWCD_PHONE = "kwcd_phone"
    IN_PERSON = "in_person"
    FORM = "form"


class ReporterType(enum.StrEnum):
    MEMBER = "member"
    PEER_EDUCATOR = "peer_educator"
    GATEKEEPER = "gatekeeper"
    OTHER = "other"
    ANONYMOUS = "anonymous"


class ImportBatch(Base):
    """One applied import file. Undo deletes every row carrying its id, in one transaction."""

    __tablename__ = "import_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the file (never the client's file name: it may carry a name).
    file_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


def batch_column() -> Mapped[uuid.UUID | None]:
    return mapped_column(ForeignKey("import_batches.id"), nullable=True, index=True)


class Gatekeeper(Base):
    """A person in a public role (police, village chief, owner...) in the network; not a user."""

    __tablename__ = "gatekeepers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    gatekeeper_code: Mapped[str] = mapped_column(String(16), unique=True)
    name_km: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    name_latin: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    organisation_type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType))
    organisation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    position: Mapped[str | None] = mapped_column(String(100), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)
    district_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    phone_e164: Mapped[str | None] = mapped_column(String(20), nullable=True)  # S
    sensitised_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # employer_owner gatekeepers: the workplace they own (conflict-of-interest warning).
    workplace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workplaces.id"), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    course_code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[CourseCategory] = mapped_column(str_enum(CourseCategory))
    # awareness topic (trafficking, rights, labour_law, ...) or vocational trade.
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainingSession(Base):
    """One held session of a course. Unregistered participants are an anonymous headcount."""

    __tablename__ = "training_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    session_code: Mapped[str] = mapped_column(String(32), unique=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str | None] = mapped_column(String(200), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    target_group: Mapped[TargetGroup] = mapped_column(str_enum(TargetGroup))
    facilitator: Mapped[str | None] = mapped_column(String(100), nullable=True)  # a code
    anonymous_headcount: Mapped[int] = mapped_column(Integer, default=0)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attendance(Base):
    """An identified participant of a session: a member, a peer educator or a gatekeeper."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        UniqueConstraint("session_id", "peer_educator_id"),
        UniqueConstraint("session_id", "gatekeeper_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    kind: Mapped[AttendeeKind] = mapped_column(str_enum(AttendeeKind, 16))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), nullable=True, index=True)
    peer_educator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("peer_educators.id"), nullable=True, index=True
    )
    gatekeeper_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("gatekeepers.id"), nullable=True, index=True
    )
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    meeting_code: Mapped[str] = mapped_column(String(32), unique=True)
    meeting_type: Mapped[MeetingType] = mapped_column(str_enum(MeetingType, 16))
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    anonymous_headcount: Mapped[int] = mapped_column(Integer, default=0)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingAttendance(Base):
    __tablename__ = "meeting_attendances"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id"),
        UniqueConstraint("meeting_id", "peer_educator_id"),
        UniqueConstraint("meeting_id", "gatekeeper_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id"), index=True)
    kind: Mapped[AttendeeKind] = mapped_column(str_enum(AttendeeKind, 16))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    peer_educator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("peer_educators.id"), nullable=True
    )
    gatekeeper_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("gatekeepers.id"), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()


class Distribution(Base):
    """Materials handed out: booklets, leaflets, savings books, by recipient type."""

    __tablename__ = "distributions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    distribution_date: Mapped[date] = mapped_column(Date, index=True)
    item: Mapped[DistributionItem] = mapped_column(str_enum(DistributionItem))
    quantity: Mapped[int] = mapped_column(Integer)
    recipient_type: Mapped[RecipientType] = mapped_column(str_enum(RecipientType, 16))
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralReport(Base):
    """How a referral reached KWCD: the channel and the reporter's type (hotline log).

    Kept beside the referral, not on it: channel and reporter are S+ (reporter protection,
    domain.md 1.5 rule 5), like ``ReferralSource``. One row per referral.
    """

    __tablename__ = "referral_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), unique=True)
    channel: Mapped[ReportChannel] = mapped_column(str_enum(ReportChannel, 16))  # S+
    reporter_type: Mapped[ReporterType] = mapped_column(str_enum(ReporterType, 16))  # S+
    reported_on: Mapped[date] = mapped_column(Date, index=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportSnapshot(Base):
    """A frozen indicator report: exactly what was sent, and the SHA-256 of that content."""

    __tablename__ = "report_snapshots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    period: Mapped[str] = mapped_column(String(32), index=True)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of the report
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _report_indexes() -> None:
    """Indexes the indicator report needs on tables defined elsewhere: each workplace's last
    counted visit by a date (risk at the period end) is read from one covering index, and
    referrals are counted by event date."""
    from server.db.models.cases import MonitoringVisit, Referral

    Index("ix_monitoring_visits_last_risk", MonitoringVisit.workplace_id, MonitoringVisit.visit_date,
          MonitoringVisit.submission_id, MonitoringVisit.risk_level)
    Index("ix_referrals_event_date", Referral.event_date)


_report_indexes()
