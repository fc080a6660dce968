"""Collector accounts: the phones (and the people behind them) that submit to Sahakum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.enums import CollectorRole
from server.db.models.base import Base, UTCDateTime, str_enum, utcnow


class Collector(Base):
    __tablename__ = "collectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # An account label (e.g. "PE07" or "Village 18020101"); not a person's full name.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[CollectorRole] = mapped_column(
        str_enum(CollectorRole, 32)
    )
    # SHA-256 of the URL token: tokens are 48 random bytes, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated commune codes this account works in (filters the lists sent to its phone).
    communes: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def commune_codes(self) -> list[str]:
        return self.communes.split()
