"""A member's page in the API beyond her own fields (issue 9 item 8): the visits that name her
and her sector history. Both are sensitive (domain.md 2.2): only in the personal-data view."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from server.api.schemas import MemberPiiDetailSchema, _dump_only


@_dump_only
class MemberVisitSchema(ma.Schema):
    id = fields.UUID()
    visit_id = fields.String(metadata={"description": "root instanceID of the visit"})
    workplace_id = fields.UUID(allow_none=True)
    visit_date = fields.Date(allow_none=True)
    pe_code = fields.String(allow_none=True)
    risk_level = fields.String(allow_none=True)
    triggers = fields.List(fields.String())


@_dump_only
class MemberSectorSchema(ma.Schema):
    sector = fields.String()
    since = fields.Date(metadata={"description": "event date of the intake that said it"})


@_dump_only
class MemberPiiHistorySchema(MemberPiiDetailSchema):
    visits = fields.List(fields.Nested(MemberVisitSchema),
                         metadata={"description": "every visit that names her, newest first"})
    sectors = fields.List(fields.Nested(MemberSectorSchema),
                          metadata={"description": "sector history, oldest first"})
