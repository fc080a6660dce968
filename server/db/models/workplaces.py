"""Workplaces, their names and versions, entity-update conflicts, and monitoring visits.

Columns marked ``# S`` are sensitive: stored, never logged, never in URLs or error messages."""

from __future__ import annotations

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
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow
from server.db.models.case_enums import ConflictKind, EntityType, RiskLevel, WorkplaceStatus


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
