"""FastDump gives exactly what the marshmallow schema gives, field type by field type."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest
from marshmallow import fields

from server.api import schemas
from server.api.fast_dump import FastDump
from server.db.models.cases import AliasKind, Member, MemberAlias, MemberPhone


class Inner(ma.Schema):
    kind = fields.String()
    at = fields.Date(allow_none=True)


class Everything(ma.Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    renamed = fields.String(data_key="shown_as", attribute="hidden")
    n = fields.Integer(allow_none=True)
    x = fields.Float()
    ok = fields.Boolean()
    day = fields.Date(allow_none=True)
    at = fields.DateTime()
    fixed = fields.Constant(True)
    mapping = fields.Dict()
    absent = fields.String()
    absent_default = fields.String(dump_default="dflt")
    one = fields.Nested(Inner, allow_none=True)
    many = fields.List(fields.Nested(Inner))
    names = fields.List(fields.String())


def _values(**over: Any) -> dict[str, Any]:
    base = {
        "id": uuid.uuid4(), "name": "Sokha", "hidden": "h", "n": 3, "x": 0.25, "ok": True,
        "day": date(2026, 11, 10), "at": datetime(2026, 11, 10, 7, 5, tzinfo=UTC),
        "mapping": {"codes": ["a"]}, "one": {"kind": AliasKind.NICKNAME, "at": None},
        "many": [SimpleNamespace(kind="k", at=date(2026, 1, 2))], "names": ["a", "b"],
    }
    return {**base, **over}


@pytest.mark.parametrize("over", [{}, {"name": None, "n": None, "day": None, "one": None, "many": []}])
def test_fast_dump__objects_and_mappings__same_as_marshmallow(over: dict[str, Any]) -> None:
    schema = Everything()
    for obj in (SimpleNamespace(**_values(**over)), _values(**over)):
        assert FastDump(schema).dump(obj) == schema.dump(obj)
    assert list(FastDump(schema).dump(_values())) == list(schema.dump(_values()))  # same key order


def test_fast_dump__schema_with_a_hook__is_marshmallow_itself() -> None:
    class Hooked(ma.Schema):
        name = fields.String()

        @ma.post_dump
        def shout(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
            return {k: v.upper() for k, v in data.items()}

    assert FastDump(Hooked()).dump({"name": "a"}) == {"name": "A"}


def test_fast_dump__the_duplicate_queue_schemas__same_as_marshmallow() -> None:
    now = datetime(2026, 11, 10, tzinfo=UTC)
    member = Member(
        id=uuid.uuid4(), member_code="M-0001", given_name_km="សុខា", name_latin_raw="Sokha",
        dob=date(2001, 5, 1), created_at=now, updated_at=now, consent_record=True,
        consent_referral=False,
    )
    member.aliases = [MemberAlias(kind=AliasKind.NICKNAME, value="Kha")]
    member.phones = [MemberPhone(phone_e164="+85512000000", owner_type="own")]
    for schema in (schemas.MemberPiiSchema(), schemas.MemberSchema()):
        assert FastDump(schema).dump(member) == schema.dump(member)
    # The page's lists arrive as plain rows (mappings) beside the member.
    rows = {"aliases": [{"kind": AliasKind.NICKNAME, "value": "Kha", "from_member_id": None}],
            "phones": [{"phone_e164": "+85512000000", "owner_type": "own", "first_seen": None,
                        "last_seen": None, "from_member_id": None}]}
    wrapped = schemas.WithFields(member, **rows)
    assert FastDump(schemas.MemberPiiSchema()).dump(wrapped) == schemas.MemberPiiSchema().dump(member)
