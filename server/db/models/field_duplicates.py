"""Possible duplicate visits (domain.md 4.1, "same content, different instanceID"; issue 9 item 6).

The same workplace visited by the same peer educator on the same day under another instanceID
is kept, flagged here and put in front of staff. Until staff decide, the later visit is not
counted (its submission is left out of the indicator report); "same visit" keeps it out for
good, "different visits" counts both. A second village report for the same village and month is
handled by the village report's own status (``correction_pending``), not here.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow


class DuplicateVisitStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for staff; the second visit is not counted
    SAME = "same"  # staff: one visit sent twice; counted once
    DIFFERENT = "different"  # staff: two visits; both counted
    WITHDRAWN = "withdrawn"  # an edit made the two visits differ (workplace, date or collector)


#: The statuses under which the second visit is left out of every count.
HELD = (DuplicateVisitStatus.PENDING, DuplicateVisitStatus.SAME)


class PossibleDuplicateVisit(Base):
    __tablename__ = "possible_duplicate_visits"
    __table_args__ = (UniqueConstraint("first_visit_id", "second_visit_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    first_visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_visits.id"), index=True)
    second_visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_visits.id"), index=True)
    # The submission left out of counts while the pair is held (the second visit's).
    second_submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    # The shared key when the pair was found (codes and a date only).
    workplace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workplaces.id"), nullable=True)
    pe_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    visit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[DuplicateVisitStatus] = mapped_column(
        str_enum(DuplicateVisitStatus, 16), default=DuplicateVisitStatus.PENDING, index=True
    )
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
