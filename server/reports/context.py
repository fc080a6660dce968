"""What every indicator computation receives: the session, the period, and lookups computed
once per report (canonical ids, exclusions, communes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from server.db.models import Member, Workplace
from server.reports import scope
from server.reports.periods import Period

MAX_LITERAL_IDS = 2000  # beyond this, the exclusion is a subquery rather than a list of ids


@dataclass
class ReportContext:
    session: Session
    period: Period
    # Child-protection referrals are counted only when the reader may see them (the
    # child_protection role, or the command line); otherwise they are left out of every count
    # and the child-protection figures show "<5".
    child_visible: bool = True

    @cached_property
    def excluded(self) -> list[uuid.UUID]:
        """Ids of the submissions that never count, read once per report (usually few)."""
        return list(self.session.scalars(scope.excluded_submissions()))

    def counted(self, column: Any) -> Any:
        """`column` (a submission id) is not an excluded submission. With none excluded there is
        no condition at all: a NOT IN, even of nothing, makes the database read the column and
        so keeps it from answering from an index alone."""
        if not self.excluded:
            return true()
        if len(self.excluded) > MAX_LITERAL_IDS:
            return column.not_in(scope.excluded_submissions())
        return column.not_in(self.excluded)

    @cached_property
    def member_survivor(self) -> dict[uuid.UUID, uuid.UUID]:
        return scope.canonical_members(self.session)

    @cached_property
    def workplace_survivor(self) -> dict[uuid.UUID, uuid.UUID]:
        return scope.canonical_workplaces(self.session)

    @cached_property
    def excluded_members(self) -> set[uuid.UUID]:
        """Members created by an excluded submission (and so not counted anywhere)."""
        if not self.excluded:
            return set()
        return set(self.session.scalars(select(Member.id).where(~self.counted(Member.source_submission_id))))

    @cached_property
    def workplace_commune(self) -> dict[uuid.UUID, str | None]:
        return dict(self.session.execute(select(Workplace.id, Workplace.commune_code)).all())

    @cached_property
    def is_sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    def no_index(self, column: Any) -> Any:
        """`column` written +column on SQLite, which then cannot use an index on it. SQLite has
        no statistics on ranges and follows an index even where it reaches most of the table,
        one random table read per row; reading the table in order is far cheaper there.
        PostgreSQL chooses from its statistics and gets the bare column."""
        if not self.is_sqlite:
            return column
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)

    def member(self, member_id: uuid.UUID | None) -> uuid.UUID | None:
        if member_id is None:
            return None
        survivor = self.member_survivor.get(member_id, member_id)
        return None if survivor in self.excluded_members else survivor

    def workplace(self, workplace_id: uuid.UUID | None) -> uuid.UUID | None:
        if workplace_id is None:
            return None
        return self.workplace_survivor.get(workplace_id, workplace_id)

    def commune_of_workplace(self, workplace_id: uuid.UUID | None) -> str:
        wid = self.workplace(workplace_id)
        return (self.workplace_commune.get(wid) if wid else None) or "unknown"
