"""The pure decision: what is this submission, given what the database already holds?

No I/O here (design.md example 3): the caller looks up the stored version with the same
instanceID and, for an edit, the version named by `meta/deprecatedID`, then acts on the outcome.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    NEW = "new"  # first time we see this instanceID
    IDENTICAL = "identical"  # resend, nothing new: 201, no second record
    MORE_ATTACHMENTS = "more_attachments"  # resend (or next chunk) bringing missing files: 201
    EDIT = "edit"  # meta/deprecatedID names the current version: a new version
    CONFLICT = "conflict"  # same instanceID, different XML: 409, copy kept for staff
    DEPRECATED_UNKNOWN = "deprecated_unknown"  # edit of a submission we never received: 404
    DEPRECATED_NOT_CURRENT = "deprecated_not_current"  # edit of a superseded version: 409

    @property
    def stores_version(self) -> bool:
        return self in {Outcome.NEW, Outcome.EDIT}

    @property
    def accepted(self) -> bool:
        return self in {Outcome.NEW, Outcome.IDENTICAL, Outcome.MORE_ATTACHMENTS, Outcome.EDIT}


@dataclass(frozen=True)
class Incoming:
    xml_sha256: str
    c14n_sha256: str
    deprecated_id: str | None
    attachments: frozenset[str] = frozenset()  # referenced files present in this POST


@dataclass(frozen=True)
class Stored:
    xml_sha256: str
    c14n_sha256: str
    is_current: bool
    attachments: frozenset[str] = frozenset()  # files already received for this version


def same_content(incoming: Incoming, stored: Stored) -> bool:
    """Byte-identical, or identical after canonicalisation (JavaRosa vs the web engine)."""
    return incoming.xml_sha256 == stored.xml_sha256 or incoming.c14n_sha256 == stored.c14n_sha256


def classify(incoming: Incoming, same_id: Stored | None, deprecated: Stored | None) -> Outcome:
    """`same_id`: the stored version with the incoming instanceID; `deprecated`: the stored
    version named by the incoming deprecatedID (None when absent or unknown)."""
    if same_id is not None:
        # A resend of anything we already hold (a new submission or an edit) is judged on
        # content alone: Collect resends the whole instance after any failure (protocol.md 0.2).
        if not same_content(incoming, same_id):
            return Outcome.CONFLICT
        if incoming.attachments - same_id.attachments:
            return Outcome.MORE_ATTACHMENTS
        return Outcome.IDENTICAL
    if incoming.deprecated_id is not None:
        if deprecated is None:
            return Outcome.DEPRECATED_UNKNOWN
        if not deprecated.is_current:
            return Outcome.DEPRECATED_NOT_CURRENT
        return Outcome.EDIT
    return Outcome.NEW
