"""Forms, their versions and the media files served with them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.enums import FormState
from server.db.models.base import Base, UTCDateTime, str_enum, utcnow


class MediaKind(enum.StrEnum):
    STATIC = "static"  # a file published with the form (gazetteer CSVs)
    ENTITY_LIST = "entity_list"  # generated per collector from the case database
    COLLECTOR_LIST = "collector_list"  # generated per collector account


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    xml_form_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    state: Mapped[FormState] = mapped_column(
        str_enum(FormState, 16),
        default=FormState.OPEN,
    )
    # Space-separated collector roles that see this form in their form list.
    roles: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.id", cascade="all, delete-orphan"
    )

    @property
    def current_version(self) -> FormVersion | None:
        return self.versions[-1] if self.versions else None

    def visible_to(self, role: str) -> bool:
        return role in self.roles.split()


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(255))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    md5: Mapped[str] = mapped_column(String(32))
    source_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    form: Mapped[Form] = relationship(back_populates="versions")
    media: Mapped[list[FormMedia]] = relationship(
        back_populates="form_version", order_by="FormMedia.filename", cascade="all, delete-orphan"
    )


class Blob(Base):
    """File content addressed by SHA-256, so a 1 MB gazetteer CSV is stored once for all versions."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class FormMedia(Base):
    __tablename__ = "form_media"
    __table_args__ = (UniqueConstraint("form_version_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[MediaKind] = mapped_column(
        str_enum(MediaKind, 32)
    )
    # Static media only; generated lists are built per request.
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)

    form_version: Mapped[FormVersion] = relationship(back_populates="media")
    blob: Mapped[Blob | None] = relationship()
