"""village_data -> a village report (one accepted per village and month; a second one is a
correction staff choose), the new venues it names, and referrals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.db.models import EntityType, VillageReport, VillageReportStatus, utcnow
from server.sync import alerts as rules
from server.sync import cases
from server.sync.merge.context import MergeContext, MergeError
from server.sync.merge.referrals import About, sync_referrals
from server.sync.merge.workplaces import TypedWorkplace, workplace_candidate

_REPORT_COUNTS = (
    "n_households", "n_left", "n_left_women_15_24", "n_left_under18", "n_left_via_broker",
    "n_returned", "n_returned_need_help", "n_children_working_away", "n_venues", "n_new_venues",
    "n_sessions", "n_part_f", "n_part_m",
)  # fmt: skip


def merge_village(ctx: MergeContext) -> None:
    s = ctx.session
    sub = ctx.submission
    village = ctx.s("village")
    period = ctx.s("period_ym") or (ctx.s("period") or "")[:7]
    if not village or len(period) != 7:
        raise MergeError("village_report_key_missing")
    report = s.scalar(
        select(VillageReport).where(VillageReport.submission_id == sub.id)
    ) if ctx.remerge else None
    values: dict[str, Any] = {k: ctx.i(k) for k in _REPORT_COUNTS}
    values.update(
        village_code=village,
        commune_code=ctx.s("commune") or village[:6],
        period_ym=period,
        reporter_code=ctx.collector,
        reporter_role=ctx.s("reporter_role"),
        destinations=sorted((ctx.s("destinations") or "").split()),
    )
    if report is None or (report.village_code, report.period_ym) != (village, period):
        accepted = s.scalar(
            select(VillageReport).where(
                VillageReport.village_code == village,
                VillageReport.accepted_period_ym == period,
                VillageReport.submission_id != sub.id,
            ).with_for_update()
        )
        if accepted is None:
            values.update(status=VillageReportStatus.ACCEPTED, accepted_period_ym=period,
                          correction_of_id=None)
        else:
            # A second report for (village, period): a correction candidate; staff choose.
            values.update(status=VillageReportStatus.CORRECTION_PENDING, accepted_period_ym=None,
                          correction_of_id=accepted.id)
    if report is None:
        report = VillageReport(id=uuid.uuid4(), submission_id=sub.id, village_code=village,
                               period_ym=period, status=values["status"],
                               created_at=utcnow(), updated_at=utcnow())
        s.add(report)
        s.flush()
    cases.set_fields(s, report, EntityType.VILLAGE_REPORT, values, version_id=ctx.vid)
    ctx.outcome.village_report_id = report.id
    for row in ctx.answers.get("new_venue") or []:
        name = (row.get("nv_name") or "").strip()
        if name:
            typed = TypedWorkplace.from_name(name, row.get("nv_type") or None, village, village[:6])
            workplace_candidate(ctx, typed)
    same_event = tuple(s.scalars(select(VillageReport.submission_id).where(
        VillageReport.village_code == village, VillageReport.period_ym == period,
        VillageReport.submission_id != sub.id,
    )))
    sync_referrals(ctx, rules.village_alerts(ctx.answers),
                   About(village_code=village, same_event=same_event))
