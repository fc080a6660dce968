"""The case database: members, workplaces, villages, visits, reports, referrals (domain.md 2).

Submission-derived rows are written only by ``server.sync.merge`` (and staff actions in
``server.sync.review``). Every field a submission sets is recorded in ``case_changes``
(provenance: which submission version set which value, and when).

Columns marked ``# S`` are sensitive (PII, or dangerous if leaked): they may be stored,
never logged, never put in device CSVs, URLs or error messages.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow


# --- enumerations -----------------------------------------------------------------------------
class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT_SECTOR = "left_sector"
    MOVED_AWAY = "moved_away"
    LOST_CONTACT = "lost_contact"
    WITHDRAWN = "withdrawn"  # consent withdrawn: identifying fields erased, events kept
    MERGED = "merged"  # lost a staff merge; see merged_into_member_id


class AliasKind(enum.StrEnum):
    NAME_KM = "name_km"  # "family given" in Khmer script
    NAME_LATIN = "name_latin"
    NICKNAME = "nickname"


class WorkplaceStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MOVED = "moved"
    RENAMED = "renamed"
    UNVERIFIED = "unverified"  # created from a visit or village report, awaiting staff
    MERGED = "merged"


class RiskLevel(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class ReferralCategory(enum.StrEnum):
    CHILD_PROTECTION = "child_protection"
    FORCED_LABOUR = "forced_labour"
    TRAFFICKING = "trafficking"
    ABUSE_VIOLENCE = "abuse_violence"
    HEALTH = "health"
    LEGAL = "legal"
    LIVELIHOOD = "livelihood"
    PE_SECURITY = "pe_security"
    OTHER = "other"  # village concern_type=other: staff triage it into a real category


class ReferralSourceKind(enum.StrEnum):
    INTAKE = "intake"
    VISIT = "visit"
    VILLAGE_REPORT = "village_report"
    HOTLINE = "hotline"
    WALK_IN = "walk_in"
    STAFF = "staff"


class ReferralStatus(enum.StrEnum):
    """new -> acknowledged (staff have triaged it) -> referred (to a service) -> closed (with an
    outcome). Transitions live in ``server.casework.referrals``."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class EntityType(enum.StrEnum):
    MEMBER = "member"
    WORKPLACE = "workplace"
    REFERRAL = "referral"
    VILLAGE_REPORT = "village_report"
    VISIT = "visit"


class PairStatus(enum.StrEnum):
    PENDING = "pending"
    MERGED = "merged"
    REJECTED = "rejected"


class ConflictKind(enum.StrEnum):
    SOFT = "soft"  # parallel update, different properties
    HARD = "hard"  # parallel update of the same property
    # An update from an account whose area does not hold the workplace: not applied, kept for
    # staff (issue 9 item 10).
    OUT_OF_AREA = "area"


class VillageReportStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # the report counted for (village, period)
    CORRECTION_PENDING = "correction_pending"  # a second report for the key: staff choose
    SUPERSEDED = "superseded"  # replaced by a correction staff accepted
    REJECTED = "rejected"


# --- gazetteer --------------------------------------------------------------------------------
class Village(Base):
    """A gazetteer village. The 2025 source repeats some codes under different communes,
    so the key is (code, commune_code, gazetteer_version), not the code alone."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("code", "commune_code", "gazetteer_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    commune_code: Mapped[str] = mapped_column(String(6), index=True)
    district_code: Mapped[str] = mapped_column(String(4))
    province_code: Mapped[str] = mapped_column(String(2))
    name_km: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    gazetteer_version: Mapped[str] = mapped_column(String(32))
    replaced_by_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Typed variants staff confirmed ("Phum Bei"), for resolving origin_village_text.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- people -----------------------------------------------------------------------------------
class Member(Base):
    """A woman in the network. Never a child (children become referrals, domain.md 1.6)."""

    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    # NULL only while the code on her card is claimed by another member and staff have not
    # decided (the code is then kept in `claimed_code`); such members are not sent to phones.
    member_code: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    claimed_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    family_name_km: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    given_name_km: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    name_latin_raw: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)  # S
    dob_precision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    age_at_intake: Mapped[int | None] = mapped_column(Integer, nullable=True)  # S
    age_source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    zodiac: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intake_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    birth_year_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    birth_year_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin_village_code: Mapped[str | None] = mapped_column(String(8), nullable=True)  # S
    origin_commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)  # S
    origin_text: Mapped[str | None] = mapped_column(String(200), nullable=True)  # S
    current_workplace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workplaces.id"), nullable=True, index=True
    )
    sector: Mapped[str | None] = mapped_column(String(32), nullable=True)  # S
    months_in_work: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recruited_via: Mapped[str | None] = mapped_column(String(32), nullable=True)  # S
    safe_contact: Mapped[str | None] = mapped_column(String(32), nullable=True)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    savings_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pe_code: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    joined_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus), default=MemberStatus.ACTIVE)
    consent_record: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    merged_into_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id"), nullable=True, index=True
    )
    # ODK entity version of this member in members.csv (starts at 1).
    version: Mapped[int] = mapped_column(Integer, default=1)
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True, index=True
    )
    source_instance_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    aliases: Mapped[list[MemberAlias]] = relationship(
        back_populates="member", order_by="MemberAlias.id", foreign_keys="MemberAlias.member_id"
    )
    phones: Mapped[list[MemberPhone]] = relationship(
        back_populates="member", order_by="MemberPhone.id", foreign_keys="MemberPhone.member_id"
    )


class MemberAlias(Base):
    """Names and nicknames (S). Rows copied from a merged record carry `from_member_id`."""

    __tablename__ = "member_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[AliasKind] = mapped_column(str_enum(AliasKind, 16))
    value: Mapped[str] = mapped_column(String(200))  # S
    from_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id"), nullable=True
    )
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True, index=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )

    member: Mapped[Member] = relationship(back_populates="aliases", foreign_keys=[member_id])


class MemberPhone(Base):
    __tablename__ = "member_phones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)  # S
    owner_type: Mapped[str] = mapped_column(String(32))  # own, family, shared_coworkers, employer
    first_seen: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_seen: Mapped[date | None] = mapped_column(Date, nullable=True)
    from_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id"), nullable=True
    )
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True, index=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )

    member: Mapped[Member] = relationship(back_populates="phones", foreign_keys=[member_id])


class PeerEducator(Base):
    __tablename__ = "peer_educators"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    pe_code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id"), nullable=True, index=True
    )  # S: a peer educator is a member
    trained_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    communes: Mapped[str] = mapped_column(String(500), default="")  # space-separated codes
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- places -----------------------------------------------------------------------------------
class Workplace(Base):
    """A workplace entity (ODK entity list `workplaces`). `version` is the ODK entity version."""

    __tablename__ = "workplaces"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    workplace_code: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    village_code: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)
    landmark_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[WorkplaceStatus] = mapped_column(
        str_enum(WorkplaceStatus), default=WorkplaceStatus.OPEN
    )
    last_visit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_access: Mapped[str | None] = mapped_column(String(32), nullable=True)
    workers_est: Mapped[int | None] = mapped_column(Integer, nullable=True)
    risk_level: Mapped[RiskLevel | None] = mapped_column(str_enum(RiskLevel, 8), nullable=True)  # S
    version: Mapped[int] = mapped_column(Integer, default=1)
    has_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_workplace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workplaces.id"), nullable=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    names: Mapped[list[WorkplaceName]] = relationship(
        back_populates="workplace",
        order_by="WorkplaceName.id",
        foreign_keys="WorkplaceName.workplace_id",
    )

    @property
    def display_name(self) -> str:
        current = [n for n in self.names if n.valid_to is None] or self.names
        if not current:
            return self.workplace_code
        n = current[0]
        return " / ".join(x for x in (n.name_km, n.name_latin) if x) or self.workplace_code


class WorkplaceName(Base):
    """Sign names over time, and aliases (bars are renamed after crackdowns)."""

    __tablename__ = "workplace_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workplace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workplaces.id"), index=True)
    name_km: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name_latin: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_alias: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    from_workplace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workplaces.id"), nullable=True
    )
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True, index=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )

    workplace: Mapped[Workplace] = relationship(back_populates="names", foreign_keys=[workplace_id])


class WorkplaceVersion(Base):
    """One applied ODK entity update: the properties it set, for conflict detection and
    offline-branch ordering (protocol.md 3.5)."""

    __tablename__ = "workplace_versions"
    __table_args__ = (
        UniqueConstraint("workplace_id", "version"),
        # The update in force (latest visit date, then version): one index step, however many.
        Index("ix_workplace_versions_in_force", "workplace_id", "event_date", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workplace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workplaces.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trunk_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Properties set by this update (name -> value as sent).
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True, index=True
    )
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EntityConflict(Base):
    """An update whose baseVersion was not the server's version. Never a rejection."""

    __tablename__ = "entity_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    server_version: Mapped[int] = mapped_column(Integer)
    applied_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[ConflictKind] = mapped_column(str_enum(ConflictKind, 8))
    properties: Mapped[list[str]] = mapped_column(JSON, default=list)  # overlapping names
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True, index=True
    )
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id"), nullable=True
    )
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonitoringVisit(Base):
    """A workplace_visit submission as a case event (S: it sits next to alerts)."""

    __tablename__ = "monitoring_visits"
    # A workplace's latest visit (its risk, the access before this one): one index step.
    __table_args__ = (Index("ix_monitoring_visits_workplace_date", "workplace_id", "visit_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    visit_id: Mapped[str] = mapped_column(String(255), unique=True)  # root instanceID
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), unique=True)
    workplace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workplaces.id"), nullable=True, index=True
    )
    pe_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    visit_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    visit_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    access: Mapped[str | None] = mapped_column(String(32), nullable=True)
    manager_attitude: Mapped[str | None] = mapped_column(String(32), nullable=True)
    n_workers_est: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_met: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_members_present: Mapped[int | None] = mapped_column(Integer, nullable=True)
    u18_suspected: Mapped[str | None] = mapped_column(String(16), nullable=True)
    n_u18: Mapped[int | None] = mapped_column(Integer, nullable=True)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)  # explicit + derived
    activities: Mapped[list[str]] = mapped_column(JSON, default=list)
    n_leaflets: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hotline_called: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    pe_safety: Mapped[str | None] = mapped_column(String(16), nullable=True)
    risk_level: Mapped[RiskLevel | None] = mapped_column(str_enum(RiskLevel, 8), nullable=True)
    triggers: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # other answers, no text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VisitMember(Base):
    """Network members a visit says are affected (members_affected)."""

    __tablename__ = "visit_members"
    __table_args__ = (UniqueConstraint("visit_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_visits.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)


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


# --- provenance, linkage and review ------------------------------------------------------------
class CaseChange(Base):
    """Provenance: which submission version (or staff action) set which field, and when."""

    __tablename__ = "case_changes"
    __table_args__ = (Index("ix_case_changes_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id"), nullable=True, index=True
    )
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(100), default="merge")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkageKey(Base):
    """Blocking keys (domain.md 4.4) of members and workplaces; looked up by key."""

    __tablename__ = "linkage_keys"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    key: Mapped[str] = mapped_column(String(255), index=True)  # S (derived from names/phones)


class CandidatePair(Base):
    """A probable duplicate for staff review. `a_id` < `b_id` (as strings) so a pair is stored once."""

    __tablename__ = "candidate_pairs"
    __table_args__ = (
        UniqueConstraint("entity_type", "a_id", "b_id"),
        # The review queue: pending pairs, best score first.
        Index("ix_candidate_pairs_queue", "status", "score"),
        # A page of the queue in its order (best first) reads one page of the index, no sort.
        Index("ix_candidate_pairs_queue_order", "status", text("score DESC"), "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    a_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    b_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[PairStatus] = mapped_column(
        str_enum(PairStatus, 16), default=PairStatus.PENDING, index=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True
    )
    # Optimistic concurrency for the staff API (ETag).
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Records proposed together (one common name, one place) form one cluster for staff: a new
    # record joins a cluster through its best pair instead of a pair with every member of it.
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)


class MergeEvent(Base):
    """A merge (staff, or the automatic identical-member_code link) and what it changed.

    `snapshot` holds the loser's and survivor's column values before the merge and the ids of
    every row the merge re-pointed or created, so `unmerge` restores the previous state exactly.
    """

    __tablename__ = "merge_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    survivor_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    loser_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    pair_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # staff_merge, auto_member_code
    actor: Mapped[str] = mapped_column(String(100))
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # S
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
