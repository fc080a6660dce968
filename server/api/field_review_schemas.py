"""Schemas of the possible-duplicate-visit and village-report-correction endpoints (issue 9
items 6 and 7). Codes, dates and counts only: no names, no free text from the forms."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from server.api.schemas import ReviewNoteSchema, _choice, _dump_only
from server.casework.village_reports import FIGURES
from server.db.models import DuplicateVisitStatus, VillageReportStatus

S = ma.Schema


class VisitPairQuerySchema(S):
    status = _choice(DuplicateVisitStatus)


class VillageReportQuerySchema(S):
    status = _choice(VillageReportStatus)


class DecisionNoteSchema(ReviewNoteSchema):
    pass


@_dump_only
class VisitSideSchema(S):
    visit_id = fields.UUID()
    submission_id = fields.UUID()
    workplace_id = fields.UUID(allow_none=True)
    workplace_code = fields.String(allow_none=True)
    pe_code = fields.String(allow_none=True)
    visit_date = fields.Date(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    values = fields.Dict(metadata={"description": "visit type, access, counts and activities (codes)"})


@_dump_only
class VisitPairSchema(S):
    id = fields.UUID()
    status = fields.String()
    counted_once = fields.Boolean(metadata={"description": "true while the second visit is not counted"})
    workplace_id = fields.UUID(allow_none=True)
    pe_code = fields.String(allow_none=True)
    visit_date = fields.Date(allow_none=True)
    row_version = fields.Integer()
    etag = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    first = fields.Nested(VisitSideSchema)
    second = fields.Nested(VisitSideSchema)


_FIGURE_FIELDS = {name: fields.Integer(allow_none=True) for name in FIGURES}


VillageReportBriefSchema = _dump_only(S.from_dict({
    "id": fields.UUID(),
    "submission_id": fields.UUID(),
    "village_code": fields.String(),
    "commune_code": fields.String(allow_none=True),
    "period_ym": fields.String(metadata={"description": "the month the report covers (YYYY-MM)"}),
    "status": fields.String(),
    "correction_of_id": fields.UUID(allow_none=True),
    "destinations": fields.List(fields.String()),
    "created_at": fields.DateTime(),
    "updated_at": fields.DateTime(),
    **_FIGURE_FIELDS,
}, name="VillageReportBrief"))


@_dump_only
class VillageReportSchema(VillageReportBriefSchema):  # type: ignore[misc,valid-type]
    etag = fields.String()
    corrects = fields.Nested(VillageReportBriefSchema, allow_none=True,
                             metadata={"description": "the accepted report this one would replace"})
    history = fields.List(fields.Nested(VillageReportBriefSchema),
                          metadata={"description": "every report for the same village and month"})
