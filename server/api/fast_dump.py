"""Dump many rows with a marshmallow schema at a fraction of marshmallow's per-field cost.

A page of the duplicate queue dumps 50 pairs and 100 records (about 3,500 fields); marshmallow
spent most of that request's CPU on its per-field machinery (accessor, default and missing
checks) rather than on the conversions. `FastDump` plans each schema once and, per field, reads
the attribute and calls the field's own ``_serialize`` (so every value converts exactly as the
schema says); nested schemas are planned the same way. Anything it cannot plan (hooks, dotted
attributes, a missing attribute) goes through marshmallow itself, so the output is always the
schema's (tests/unit/test_fast_dump.py compares the two).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import fields

_MISSING = ma.missing


class FastDump:
    """`FastDump(schema).dump(obj)` == `schema.dump(obj)` for one object (many=False)."""

    def __init__(self, schema: ma.Schema) -> None:
        self.schema = schema
        hooks = schema._hooks  # pre/post-dump hooks would change the output
        self.exact = bool(hooks.get(ma.decorators.PRE_DUMP) or hooks.get(ma.decorators.POST_DUMP))
        self.plan: list[tuple[str, str, fields.Field, FastDump | None, bool]] = []
        for name, field in schema.dump_fields.items():
            attribute = field.attribute or name
            if "." in attribute:
                self.exact = True
            key = field.data_key if field.data_key is not None else name
            nested, is_list = _nested(field)
            self.plan.append((key, attribute, field, nested, is_list))

    def dump(self, obj: Any) -> dict[str, Any]:
        if self.exact:
            return self.schema.dump(obj)
        out: dict[str, Any] = {}
        is_mapping = isinstance(obj, Mapping)
        for key, attribute, field, nested, is_list in self.plan:
            if not field._CHECK_ATTRIBUTE:  # e.g. Constant: no attribute read
                out[key] = field._serialize(None, attribute, obj)
                continue
            value = obj.get(attribute, _MISSING) if is_mapping else getattr(obj, attribute, _MISSING)
            if value is _MISSING:  # marshmallow's defaults and omissions apply
                value = field.serialize(attribute, obj, accessor=self.schema.get_attribute)
                if value is not _MISSING:
                    out[key] = value
            elif nested is None:
                out[key] = field._serialize(value, attribute, obj)
            elif value is None:
                out[key] = None
            else:
                out[key] = [nested.dump(each) for each in value] if is_list else nested.dump(value)
        return out


def _nested(field: fields.Field) -> tuple[FastDump | None, bool]:
    """The plan of a plain nested schema (Nested, or List of Nested), and whether it is a list;
    (None, False) for fields converted by their own `_serialize`."""
    is_list = isinstance(field, fields.List)
    inner = field.inner if is_list else field
    if type(inner) is not fields.Nested or inner.only or inner.exclude or inner.many:
        return None, False
    return FastDump(inner.schema), is_list
