"""Workplaces typed into a form (intake, visit, village report): reuse or create an
``unverified`` workplace, and propose it to staff when it looks like existing ones."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.db.models import EntityType, Workplace, WorkplaceStatus
from server.sync import cases, clusters, linkage, match
from server.sync.merge.context import MergeContext


def _is_khmer(text: str) -> bool:
    return any("\u1780" <= ch <= "\u17ff" for ch in text)


def khmer_or_none(text: str) -> str | None:
    return text if _is_khmer(text) else None


def latin_or_none(text: str) -> str | None:
    return None if _is_khmer(text) else text


@dataclass(frozen=True)
class TypedWorkplace:
    """A workplace as a collector typed it."""

    name_km: str | None
    name_latin: str | None
    type: str | None = None
    village: str | None = None
    commune: str | None = None
    landmark: str | None = None
    geopoint: tuple[float, float] | None = None

    @classmethod
    def from_name(
        cls, name: str, type_: str | None, village: str | None = None, commune: str | None = None
    ) -> TypedWorkplace:
        """One name box that may hold Khmer or Latin script."""
        return cls(khmer_or_none(name), latin_or_none(name), type_, village, commune)


def workplace_candidate(ctx: MergeContext, typed: TypedWorkplace) -> Workplace:
    """Reuse the workplace this submission already created under that name, else create an
    `unverified` one, plus a candidate pair for each existing one it looks like."""
    s = ctx.session
    # Only this submission (an earlier version, or another row of this one) can have made it.
    made_here = ctx.remerge or bool(ctx.outcome.workplace_ids)
    for wp in s.scalars(
        select(Workplace).where(Workplace.source_submission_id == ctx.submission.id)
    ) if made_here else ():
        if any(n.name_km == typed.name_km and n.name_latin == typed.name_latin for n in wp.names):
            return wp
    wp = cases.create_workplace(
        s, name_km=typed.name_km, name_latin=typed.name_latin, type=typed.type,
        village_code=typed.village, commune_code=typed.commune, landmark_text=typed.landmark,
        geopoint=typed.geopoint, status=WorkplaceStatus.UNVERIFIED,
        submission_id=ctx.submission.id, version_id=ctx.vid, valid_from=ctx.event_date,
    )
    ctx.outcome.workplace_ids.append(wp.id)
    _propose_duplicates(ctx, wp)
    return wp


def _propose_duplicates(ctx: MergeContext, wp: Workplace) -> None:
    """Review pairs for a new workplace: the existing ones it looks like, loaded together."""
    s = ctx.session
    record = linkage.workplace_record(wp)
    keys = match.workplace_blocking_keys(record)
    ids = linkage.candidates_by_keys(s, EntityType.WORKPLACE, keys, wp.id)
    if not ids:
        return
    others = s.scalars(
        select(Workplace)
        .where(Workplace.id.in_(ids), Workplace.merged_into_workplace_id.is_(None))
        .options(selectinload(Workplace.names))
    ).all()
    proposals: list[clusters.Proposal] = []
    for other in others:
        other_rec = linkage.workplace_record(other)
        result = match.score_workplaces(other_rec, record)
        if match.decide_workplaces(other_rec, record, result) == match.Decision.REVIEW:
            proposals.append(clusters.Proposal(other.id, result))
    ctx.outcome.candidate_pairs += clusters.propose(
        s, EntityType.WORKPLACE, wp.id, proposals, submission_id=ctx.submission.id
    )
