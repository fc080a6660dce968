"""Row snapshots for merge events: every column of an ORM row as JSON, and back, so an unmerge
restores rows exactly as they were."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def row_snapshot(obj: Any) -> dict[str, Any]:
    """Every column of an ORM row as JSON-able values (for merge events and tests)."""
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs}


def _python(column: Any, value: Any) -> Any:
    if value is None:
        return None
    col_type = column.columns[0].type
    col_type = getattr(col_type, "impl_instance", None) or col_type  # TypeDecorator (UTCDateTime)
    try:
        ptype = col_type.python_type
    except NotImplementedError:
        return value
    if isinstance(ptype, type) and issubclass(ptype, enum.Enum):
        return ptype(value)
    if ptype is uuid.UUID:
        return uuid.UUID(value)
    if ptype is datetime:
        return datetime.fromisoformat(value)
    if ptype is date:
        return date.fromisoformat(value)
    return value


def restore_row(obj: Any, data: dict[str, Any]) -> None:
    for column in obj.__mapper__.column_attrs:
        if column.key in data:
            setattr(obj, column.key, _python(column, data[column.key]))
