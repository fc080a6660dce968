"""Marshmallow schemas of the staff API. Response fields are dump_only.

Personal data lives only in the ``*PiiSchema`` variants; views pick the variant from
``server.accounts.access`` (and audit the read), so a schema without PII can never leak it.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from server.casework.conflict_reasons import conflict_reason
from server.db.models import StaffRole, SubmissionState
from server.db.models.cases import (
    EntityType,
    MemberStatus,
    PairStatus,
    Priority,
    ReferralCategory,
    ReferralStatus,
    WorkplaceStatus,
)

S = ma.Schema


def _choice(enum_cls: Any) -> fields.String:
    return fields.String(validate=ma.validate.OneOf([m.value for m in enum_cls]))


def _dump_only(cls: type[S]) -> type[S]:
    for f in cls._declared_fields.values():
        f.dump_only = True
    return cls


# --- query arguments --------------------------------------------------------------------------
class SubmissionQuerySchema(S):
    form = fields.String(metadata={"description": "xml form id, e.g. member_intake"})
    state = _choice(SubmissionState)


class MemberQuerySchema(S):
    status = _choice(MemberStatus)
    code = fields.String(metadata={"description": "exact member code"})
    include_merged = fields.Boolean(load_default=False)


class WorkplaceQuerySchema(S):
    status = _choice(WorkplaceStatus)
    village = fields.String(validate=ma.validate.Regexp(r"^\d{8}$"))
    commune = fields.String(validate=ma.validate.Regexp(r"^\d{6}$"))
    include_merged = fields.Boolean(load_default=False)


class PairQuerySchema(S):
    status = _choice(PairStatus)
    entity_type = fields.String(validate=ma.validate.OneOf([EntityType.MEMBER, EntityType.WORKPLACE]))
    cluster_id = fields.UUID(metadata={"description": "only the pairs of this cluster"})


class ClusterQuerySchema(S):
    entity_type = fields.String(validate=ma.validate.OneOf([EntityType.MEMBER, EntityType.WORKPLACE]))


class ReferralQuerySchema(S):
    category = _choice(ReferralCategory)
    status = _choice(ReferralStatus)
    priority = _choice(Priority)


class ReviewNoteSchema(S):
    note = fields.String(validate=ma.validate.Length(max=500), metadata={"description": "Why (no names)"})


class MergeArgsSchema(ReviewNoteSchema):
    survivor_id = fields.UUID(
        metadata={"description": "Which record survives (default: the one with the oldest member code)"}
    )


# --- responses --------------------------------------------------------------------------------
@_dump_only
class SubmissionVersionSchema(S):
    instance_id = fields.String()
    deprecated_id = fields.String(allow_none=True)
    is_current = fields.Boolean()
    encrypted = fields.Boolean()
    received_at = fields.DateTime()
    device_id = fields.String(allow_none=True)
    attachments = fields.Method("_attachments")

    def _attachments(self, version: Any) -> dict[str, int]:
        expected = len(version.attachments)
        return {"expected": expected, "present": sum(1 for a in version.attachments if a.present)}


@_dump_only
class SubmissionSchema(S):
    id = fields.UUID()
    form = fields.String()
    root_instance_id = fields.String()
    instance_id = fields.String(metadata={"description": "instanceID of the current version"})
    state = fields.String()
    review_state = fields.String()
    counted_in_reports = fields.Boolean(metadata={"description": "false once staff rejected it"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    versions_count = fields.Integer()


@_dump_only
class CaseRefSchema(S):
    entity_type = fields.String()
    id = fields.UUID()
    code = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "created or updated"})
    category = fields.String(allow_none=True)


@_dump_only
class MergeResultSchema(S):
    state = fields.String()
    merged_version_instance_id = fields.String(allow_none=True)
    merged_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer()
    error = fields.String(allow_none=True)


@_dump_only
class SubmissionDetailSchema(SubmissionSchema):
    versions = fields.List(fields.Nested(SubmissionVersionSchema))
    merge = fields.Nested(MergeResultSchema)
    cases = fields.List(fields.Nested(CaseRefSchema))


@_dump_only
class ReferralBriefSchema(S):
    id = fields.UUID()
    case_code = fields.String()
    category = fields.String()
    status = fields.String()
    priority = fields.String()
    restricted = fields.Boolean()
    created_at = fields.DateTime()


@_dump_only
class MemberSchema(S):
    """A member without personal data: what `me` and admin (without break-glass) see."""

    id = fields.UUID()
    member_code = fields.String()
    status = fields.String()
    sector = fields.String(allow_none=True)
    pe_code = fields.String(allow_none=True)
    current_workplace_id = fields.UUID(allow_none=True)
    intake_date = fields.Date(allow_none=True)
    joined_date = fields.Date(allow_none=True)
    consent_record = fields.Boolean()
    consent_referral = fields.Boolean()
    merged_into_member_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    pii_included = fields.Constant(False)


@_dump_only
class AliasSchema(S):
    kind = fields.String()
    value = fields.String()
    from_member_id = fields.UUID(allow_none=True)


@_dump_only
class PhoneSchema(S):
    phone_e164 = fields.String()
    owner_type = fields.String()
    first_seen = fields.Date(allow_none=True)
    last_seen = fields.Date(allow_none=True)
    from_member_id = fields.UUID(allow_none=True)


@_dump_only
class MemberPiiSchema(MemberSchema):
    """Adds names, nicknames, phones, date of birth and origin (case / child_protection roles)."""

    family_name_km = fields.String(allow_none=True)
    given_name_km = fields.String(allow_none=True)
    name_latin_raw = fields.String(allow_none=True)
    dob = fields.Date(allow_none=True)
    dob_precision = fields.String(allow_none=True)
    age_at_intake = fields.Integer(allow_none=True)
    birth_year_min = fields.Integer(allow_none=True)
    birth_year_max = fields.Integer(allow_none=True)
    origin_village_code = fields.String(allow_none=True)
    origin_commune_code = fields.String(allow_none=True)
    origin_text = fields.String(allow_none=True)
    aliases = fields.List(fields.Nested(AliasSchema))
    phones = fields.List(fields.Nested(PhoneSchema))
    pii_included = fields.Constant(True)


@_dump_only
class ChangeSchema(S):
    field = fields.String()
    instance_id = fields.String(allow_none=True, metadata={"description": "submission version that set it"})
    merge_event_id = fields.UUID(allow_none=True)
    actor = fields.String()
    at = fields.DateTime()


@_dump_only
class ChangePiiSchema(ChangeSchema):
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)


@_dump_only
class MergeEventSchema(S):
    id = fields.UUID()
    kind = fields.String()
    survivor_id = fields.UUID()
    loser_id = fields.UUID(allow_none=True)
    pair_id = fields.UUID(allow_none=True)
    actor = fields.String()
    created_at = fields.DateTime()
    undone_at = fields.DateTime(allow_none=True)


@_dump_only
class _MemberRelationsSchema(S):
    submissions = fields.List(fields.Nested(SubmissionSchema))
    referrals = fields.List(fields.Nested(ReferralBriefSchema))
    merged_from = fields.List(fields.UUID())
    merge_events = fields.List(fields.Nested(MergeEventSchema))


@_dump_only
class MemberDetailSchema(MemberSchema, _MemberRelationsSchema):
    provenance = fields.List(fields.Nested(ChangeSchema))


@_dump_only
class MemberPiiDetailSchema(MemberPiiSchema, _MemberRelationsSchema):
    provenance = fields.List(fields.Nested(ChangePiiSchema))


@_dump_only
class WorkplaceNameSchema(S):
    name_km = fields.String(allow_none=True)
    name_latin = fields.String(allow_none=True)
    is_alias = fields.Boolean()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)


@_dump_only
class WorkplaceSchema(S):
    id = fields.UUID()
    workplace_code = fields.String()
    display_name = fields.String()
    type = fields.String(allow_none=True)
    village_code = fields.String(allow_none=True)
    commune_code = fields.String(allow_none=True)
    status = fields.String()
    last_visit_date = fields.Date(allow_none=True)
    last_access = fields.String(allow_none=True)
    workers_est = fields.Integer(allow_none=True)
    risk_level = fields.String(allow_none=True)
    has_conflict = fields.Boolean()
    merged_into_workplace_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    names = fields.List(fields.Nested(WorkplaceNameSchema))


@_dump_only
class VisitBriefSchema(S):
    id = fields.UUID()
    visit_id = fields.String()
    visit_date = fields.Date(allow_none=True)
    pe_code = fields.String(allow_none=True)
    access = fields.String(allow_none=True)
    risk_level = fields.String(allow_none=True)


@_dump_only
class EntityConflictSchema(S):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "soft, hard, or area (outside the account's communes)"})
    reason_en = fields.Function(lambda c: conflict_reason(c, "en"))
    reason_km = fields.Function(lambda c: conflict_reason(c, "km"))
    base_version = fields.Integer(allow_none=True)
    server_version = fields.Integer()
    applied_version = fields.Integer(allow_none=True)
    properties = fields.List(fields.String())
    branch_id = fields.String(allow_none=True)
    submission_id = fields.UUID(allow_none=True)
    resolved = fields.Boolean()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


@_dump_only
class ConflictsResolvedSchema(S):
    resolved = fields.Integer()


@_dump_only
class WorkplaceDetailSchema(WorkplaceSchema):
    landmark_text = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    referrals = fields.List(fields.Nested(ReferralBriefSchema))
    visits = fields.List(fields.Nested(VisitBriefSchema))
    conflicts = fields.List(fields.Nested(EntityConflictSchema))
    provenance = fields.List(fields.Nested(ChangeSchema))


@_dump_only
class PairBriefSchema(S):
    id = fields.UUID()
    entity_type = fields.String()
    score = fields.Float()
    band = fields.String()
    evidence = fields.Dict()
    status = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    merge_event_id = fields.UUID(allow_none=True)
    cluster_id = fields.UUID(allow_none=True, metadata={
        "description": "records proposed together (one common name): list them with ?cluster_id="
    })
    etag = fields.String(metadata={"description": "send as If-Match to merge or reject"})


@_dump_only
class ClusterSchema(S):
    cluster_id = fields.UUID()
    entity_type = fields.String()
    record_ids = fields.List(fields.UUID())
    pending_pairs = fields.Integer()
    best_score = fields.Float()


@_dump_only
class PairSchema(PairBriefSchema):
    a = fields.Dict(metadata={"description": "the first record (member with PII, or workplace)"})
    b = fields.Dict(metadata={"description": "the second record"})


@_dump_only
class ReferralSchema(ReferralBriefSchema):
    triggers = fields.List(fields.String())
    source = fields.String()
    source_edited = fields.Boolean()
    member_id = fields.UUID(allow_none=True)
    workplace_id = fields.UUID(allow_none=True)
    village_code = fields.String(allow_none=True)
    person_descriptor = fields.Dict()
    event_date = fields.Date(allow_none=True)
    owner_staff = fields.String(allow_none=True)
    referred_to = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


@_dump_only
class StaffSchema(S):
    name = fields.String()
    role = _choice(StaffRole)


class WithFields:
    """An ORM row plus extra attributes (related lists) for dumping with one schema."""

    def __init__(self, obj: Any, **extra: Any) -> None:
        self._obj = obj
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__["_extra"]
        if name in extra:
            return extra[name]
        return getattr(self.__dict__["_obj"], name)


@_dump_only
class DecisionSchema(S):
    pair = fields.Nested(PairBriefSchema)
    merge_event = fields.Nested(MergeEventSchema, allow_none=True)
