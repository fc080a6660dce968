"""Villages and the people of the case database: members, their aliases and phones, peer educators.

Columns marked ``# S`` are sensitive (PII): stored, never logged, never in device CSVs, URLs or
error messages."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow
from server.db.models.case_enums import AliasKind, MemberStatus


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
