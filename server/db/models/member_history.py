"""A member's history that reports read at the time of an event (issue 9 item 8)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, UTCDateTime, utcnow


class MemberSector(Base):
    """The sector a member worked in from a date on (domain.md 2.2 "sector (+ history)"), as an
    intake said it. Dated by the intake's event date, not its receipt: a late intake about
    October counts in October. The member's ``sector`` is the latest of these by date. (S)"""

    __tablename__ = "member_sectors"
    __table_args__ = (Index("ix_member_sectors_member_since", "member_id", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    sector: Mapped[str] = mapped_column(String(32))
    since: Mapped[date] = mapped_column(Date)
    # The intake that said it (None: the sector recorded before history was kept).
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
