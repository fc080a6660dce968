"""Versions of the generated lists phones download (entity lists), kept by database triggers.

A conditional GET of an entity list is answered from this one row (304 without building the
list). Triggers (migration 0004) bump it in every transaction that changes members, workplaces
or workplace names, whichever process or code path wrote them, so it cannot be forgotten.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base

# The one counter every entity list's version is taken from: the members list also depends on
# workplaces (area), so a single row keeps the lists consistent and gives triggers one lock.
CASES_LISTS = "cases"


class ListVersion(Base):
    __tablename__ = "list_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
