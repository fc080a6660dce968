"""Code lookups for imports and staff entry: member, peer-educator, gatekeeper, session, course,
book, group and workplace codes to ids, cached for one file.

Merged-away records resolve to their survivor (domain.md 5 counts canonical records only), so an
attendance sheet printed before a merge still lands on the right person.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    Course,
    Gatekeeper,
    Meeting,
    Member,
    PeerEducator,
    Referral,
    SavingsBook,
    SavingsGroup,
    TrainingSession,
    Workplace,
)

_MAX_MERGE_CHAIN = 20


class Lookups:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, str], Any] = {}
        # Keys already used by earlier rows of the same file (duplicate checks in builders).
        self.seen: set[tuple[Any, ...]] = set()

    def _get(self, kind: str, code: str, stmt: Any) -> Any:
        key = (kind, code.upper())
        if key not in self._cache:
            self._cache[key] = self.session.execute(stmt).first()
        return self._cache[key]

    def member(self, code: str) -> uuid.UUID | None:
        """The canonical member with this card code (following merges), or None."""
        row = self._get("member", code, select(Member.id, Member.merged_into_member_id, Member.status)
                        .where(func.upper(Member.member_code) == code.upper()))
        if row is None:
            return None
        member_id, merged_into, _status = row
        for _ in range(_MAX_MERGE_CHAIN):
            if merged_into is None:
                return member_id
            member_id, merged_into = self.session.execute(
                select(Member.id, Member.merged_into_member_id).where(Member.id == merged_into)
            ).one()
        return None

    def _id(self, kind: str, column: Any, code: str) -> uuid.UUID | None:
        row = self._get(kind, code, select(column.class_.id).where(func.upper(column) == code.upper()))
        return row[0] if row else None

    def peer_educator(self, code: str) -> uuid.UUID | None:
        return self._id("pe", PeerEducator.pe_code, code)

    def gatekeeper(self, code: str) -> uuid.UUID | None:
        return self._id("gk", Gatekeeper.gatekeeper_code, code)

    def session_(self, code: str) -> uuid.UUID | None:
        return self._id("session", TrainingSession.session_code, code)

    def meeting(self, code: str) -> uuid.UUID | None:
        return self._id("meeting", Meeting.meeting_code, code)

    def course(self, code: str) -> uuid.UUID | None:
        return self._id("course", Course.course_code, code)

    def book(self, number: str) -> uuid.UUID | None:
        return self._id("book", SavingsBook.book_number, number)

    def group(self, code: str) -> uuid.UUID | None:
        return self._id("group", SavingsGroup.group_code, code)

    def referral(self, code: str) -> uuid.UUID | None:
        return self._id("referral", Referral.case_code, code)

    def workplace(self, code: str) -> tuple[uuid.UUID, str | None] | None:
        """(id, commune) of the canonical workplace with this code."""
        row = self._get("workplace", code, select(Workplace.id, Workplace.merged_into_workplace_id)
                        .where(func.upper(Workplace.workplace_code) == code.upper()))
        if row is None:
            return None
        wid, merged_into = row
        for _ in range(_MAX_MERGE_CHAIN):
            if merged_into is None:
                commune = self.session.scalar(select(Workplace.commune_code).where(Workplace.id == wid))
                return wid, commune
            wid, merged_into = self.session.execute(
                select(Workplace.id, Workplace.merged_into_workplace_id).where(Workplace.id == merged_into)
            ).one()
        return None
