"""What changed between two versions of a submission, field by field. Pure.

Fields are matched by path, repeat rows by their number ("/data/g/case_alert[2]/sex"), as ODK
Central's feed shows edits: a path with its old and new value; rows added or removed appear as
their fields going from or to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.casework.answers import AnswerNode, walk_fields


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str | None
    old_value: str | None
    new_value: str | None
    old_label: str | None
    new_label: str | None


def diff_answers(old: list[AnswerNode], new: list[AnswerNode]) -> list[FieldChange]:
    """Changed, added and removed answers, in the new version's order (removed ones last)."""
    before = {f.path: f for f in walk_fields(old)}
    after = {f.path: f for f in walk_fields(new)}
    changes: list[FieldChange] = []
    for path, f in after.items():
        o = before.get(path)
        if o is None:
            if f.value:
                changes.append(FieldChange(path, f.label, None, f.value, None, f.value_label))
        elif (o.value or None) != (f.value or None):
            changes.append(FieldChange(path, f.label or o.label, o.value, f.value,
                                       o.value_label, f.value_label))
    for path, o in before.items():
        if path not in after and o.value:
            changes.append(FieldChange(path, o.label, o.value, None, o.value_label, None))
    return changes
