"""Provenance and record linkage: case changes, linkage keys, candidate pairs, merge events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, UTCDateTime, new_uuid, str_enum, utcnow
from server.db.models.case_enums import EntityType, PairStatus


# --- provenance, linkage and review ------------------------------------------------------------
class CaseChange(Base):
    """Provenance: which submission version (or staff action) set which field, and when."""

    __tablename__ = "case_changes"
    __table_args__ = (Index("ix_case_changes_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id"), nullable=True, index=True
    )
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(100), default="merge")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkageKey(Base):
    """Blocking keys (domain.md 4.4) of members and workplaces; looked up by key."""

    __tablename__ = "linkage_keys"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    key: Mapped[str] = mapped_column(String(255), index=True)  # S (derived from names/phones)


class CandidatePair(Base):
    """A probable duplicate for staff review. `a_id` < `b_id` (as strings) so a pair is stored once."""

    __tablename__ = "candidate_pairs"
    __table_args__ = (
        UniqueConstraint("entity_type", "a_id", "b_id"),
        # The review queue: pending pairs, best score first.
        Index("ix_candidate_pairs_queue", "status", "score"),
        # A page of the queue in its order (best first) reads one page of the index, no sort.
        Index("ix_candidate_pairs_queue_order", "status", text("score DESC"), "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    a_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    b_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[PairStatus] = mapped_column(
        str_enum(PairStatus, 16), default=PairStatus.PENDING, index=True
    )
    source_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    merge_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merge_events.id"), nullable=True
    )
    # Optimistic concurrency for the staff API (ETag).
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Records proposed together (one common name, one place) form one cluster for staff: a new
    # record joins a cluster through its best pair instead of a pair with every member of it.
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)


class MergeEvent(Base):
    """A merge (staff, or the automatic identical-member_code link) and what it changed.

    `snapshot` holds the loser's and survivor's column values before the merge and the ids of
    every row the merge re-pointed or created, so `unmerge` restores the previous state exactly.
    """

    __tablename__ = "merge_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    entity_type: Mapped[EntityType] = mapped_column(str_enum(EntityType, 16))
    survivor_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    loser_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    pair_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # staff_merge, auto_member_code
    actor: Mapped[str] = mapped_column(String(100))
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id"), nullable=True
    )
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # S
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
