"""Savings groups, books and deposits; apprenticeships and livelihood support (domain.md 2.2).

Staff records (entry or import), never from the forms. Amounts are S: KWCD manages the money.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.activities import RecipientType, ReportGroup, batch_column
from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow


class Currency(enum.StrEnum):
    KHR = "KHR"
    USD = "USD"


class TransactionKind(enum.StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class ApprenticeshipStatus(enum.StrEnum):
    ONGOING = "ongoing"
    COMPLETED = "completed"
    DROPPED = "dropped"


class ApprenticeshipOutcome(enum.StrEnum):
    EMPLOYED = "employed"
    OWN_BUSINESS = "own_business"
    RETURNED_TO_SECTOR = "returned_to_sector"
    UNKNOWN = "unknown"


class LivelihoodType(enum.StrEnum):
    RETURN_HOME_BUSINESS = "return_home_business"
    GROCERY = "grocery"
    CIGARETTES = "cigarettes"
    SUGAR_CANE_JUICE = "sugar_cane_juice"
    PHONE_CALL_SERVICE = "phone_call_service"
    MOBILE_BEAUTY = "mobile_beauty"
    OTHER = "other"


class SavingsGroup(Base):
    """A savings group; `group_code` is the `name` in the phones' savings_groups.csv."""

    __tablename__ = "savings_groups"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    group_code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # a group label, not a person's name
    report_group: Mapped[ReportGroup] = mapped_column(str_enum(ReportGroup, 16))
    facilitator_pe_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leader_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    formed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    closed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SavingsMembership(Base):
    __tablename__ = "savings_memberships"
    __table_args__ = (UniqueConstraint("group_id", "member_id", "joined_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("savings_groups.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    joined_date: Mapped[date] = mapped_column(Date)
    left_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()


class SavingsBook(Base):
    """A printed book; held by a member, a peer educator or a gatekeeper."""

    __tablename__ = "savings_books"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    book_number: Mapped[str] = mapped_column(String(32), unique=True)
    holder_type: Mapped[RecipientType] = mapped_column(str_enum(RecipientType, 16))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), nullable=True, index=True)
    peer_educator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("peer_educators.id"), nullable=True
    )
    gatekeeper_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("gatekeepers.id"), nullable=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("savings_groups.id"), nullable=True)
    issued_date: Mapped[date] = mapped_column(Date, index=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SavingsTransaction(Base):
    """A deposit or withdrawal written in a book (staff entry)."""

    __tablename__ = "savings_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("savings_books.id"), index=True)
    kind: Mapped[TransactionKind] = mapped_column(str_enum(TransactionKind, 16))
    transaction_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # S
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3))
    recorded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Apprenticeship(Base):
    __tablename__ = "apprenticeships"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    workplace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workplaces.id"), index=True)
    # Recorded on the event: where she worked when she started (domain.md 5).
    report_group: Mapped[ReportGroup] = mapped_column(str_enum(ReportGroup, 16))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    planned_end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[ApprenticeshipStatus] = mapped_column(str_enum(ApprenticeshipStatus, 16))
    outcome: Mapped[ApprenticeshipOutcome | None] = mapped_column(
        str_enum(ApprenticeshipOutcome, 32), nullable=True
    )
    business_start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LivelihoodSupport(Base):
    """A grant or start-up support for a member, or for a child through her case."""

    __tablename__ = "livelihood_supports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), nullable=True, index=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"), nullable=True)
    support_type: Mapped[LivelihoodType] = mapped_column(str_enum(LivelihoodType))
    report_group: Mapped[ReportGroup] = mapped_column(str_enum(ReportGroup, 16))
    commune_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    grant_source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    support_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)  # S
    currency: Mapped[Currency | None] = mapped_column(str_enum(Currency, 3), nullable=True)
    import_batch_id: Mapped[uuid.UUID | None] = batch_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
