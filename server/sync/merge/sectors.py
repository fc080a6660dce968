"""A member's sector history (issue 9 item 8, domain.md 2.2 "sector (+ history)"): each intake
about her adds the sector it states, dated by the intake's event date; her ``sector`` is the
latest by that date. A later intake that says beer garden adds to the history instead of
losing the karaoke months, and reports read the sector at the time of each event
(:func:`server.reports.scope.member_values_at`)."""

from __future__ import annotations

from sqlalchemy import select

from server.db.models import EntityType, Member, MemberSector, utcnow
from server.sync import cases
from server.sync.merge.context import MergeContext


def record_sector(ctx: MergeContext, member: Member) -> None:
    """This intake's sector for the member (replaced when the intake is edited), then her
    current sector from the whole history."""
    s = ctx.session
    sector = ctx.s("sector")
    if not ctx.remerge and member.source_submission_id == ctx.submission.id:
        # Her first intake: the history starts here and her sector is already this one (no
        # read needed on the merge's hot path).
        if sector is not None:
            s.add(MemberSector(member_id=member.id, sector=sector, since=ctx.event_date,
                               submission_id=ctx.submission.id, created_at=utcnow()))
        return
    row = s.scalar(select(MemberSector).where(
        MemberSector.member_id == member.id, MemberSector.submission_id == ctx.submission.id))
    if sector is None:
        if row is not None:
            s.delete(row)
    elif row is None:
        s.add(MemberSector(member_id=member.id, sector=sector, since=ctx.event_date,
                           submission_id=ctx.submission.id, created_at=utcnow()))
    elif (row.sector, row.since) != (sector, ctx.event_date):
        row.sector, row.since = sector, ctx.event_date
    s.flush()
    latest = s.scalar(
        select(MemberSector.sector).where(MemberSector.member_id == member.id)
        .order_by(MemberSector.since.desc(), MemberSector.id.desc()).limit(1)
    )
    if latest != member.sector:
        cases.set_fields(s, member, EntityType.MEMBER, {"sector": latest}, version_id=ctx.vid)
