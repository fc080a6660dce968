"""Store a parsed submission: versions, attachments, rejected copies. Flushes, never commits.

The HTTP handler owns the transaction: it places the attachment files (`IngestResult.moves`,
through server/storage.py), commits, and only then answers 201 (issue 3, durability). A
concurrent identical POST loses the race on the unique (form_id, instance_id) index; the
handler rolls back and calls `ingest_submission` again, which then classifies the request as a resend.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.orm import Session, defer, selectinload

from server import errors
from server.db.models import (
    Attachment,
    Form,
    FormVersion,
    RejectedCopy,
    ReviewState,
    Submission,
    SubmissionState,
    SubmissionVersion,
    utcnow,
)
from server.storage import FileMove
from server.sync.dedup import Incoming, Outcome, Stored, classify
from server.sync.parse import ParsedSubmission
from server.xforms.catalogue import check_use

TMP_DIR = "tmp"


@dataclass(frozen=True)
class ReceivedFile:
    """An uploaded part already written (and fsynced) to a temporary file in the data folder."""

    filename: str  # the part name = the file name the XML refers to
    temp_path: Path
    size: int
    sha256: str
    content_type: str | None = None


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    submission_id: uuid.UUID | None = None
    version_id: int | None = None
    moves: tuple[FileMove, ...] = field(default=())


# The statements every submission runs are built once per process (statement construction
# costs more CPU than executing them); SQLAlchemy then reuses the compiled SQL too.
_FORM_AND_VERSION = (
    select(Form, FormVersion.id)
    .outerjoin(
        FormVersion,
        and_(FormVersion.form_id == Form.id, FormVersion.version == bindparam("version")),
    )
    .where(Form.xml_form_id == bindparam("xml_form_id"))
)
_VERSION_BY_INSTANCE = (
    select(SubmissionVersion)
    .where(
        SubmissionVersion.form_id == bindparam("form_id"),
        SubmissionVersion.instance_id == bindparam("instance_id"),
    )
    .options(selectinload(SubmissionVersion.attachments), defer(SubmissionVersion.xml))
)
# An edit re-reads the version it replaces once it holds its submission's lock (below), so
# it sees what a concurrent edit committed meanwhile. FOR NO KEY UPDATE: merges insert rows
# that reference the version (a KEY SHARE lock), which this must not block.
_VERSION_BY_INSTANCE_LOCKED = _VERSION_BY_INSTANCE.with_for_update(key_share=True).execution_options(
    populate_existing=True
)
_INSERT_SUBMISSION = insert(Submission.__table__)
_INSERT_VERSION = insert(SubmissionVersion.__table__).returning(SubmissionVersion.__table__.c.id)
_INSERT_ATTACHMENT = insert(Attachment.__table__)


def resolve_form(
    session: Session, parsed: ParsedSubmission, collector_role: str
) -> tuple[Form, int]:
    """The form and the id of the version a submission is for, or the error Collect should show.

    One round trip: the form and the id of its version named by the submission (outer join,
    so an unknown version still tells "unknown form" apart from "unknown version"). Not cached:
    a form's state and roles change at runtime and must take effect on the next request."""
    row = session.execute(
        _FORM_AND_VERSION, {"xml_form_id": parsed.xml_form_id, "version": parsed.version}
    ).one_or_none()
    if row is None:
        raise errors.FormUnknown()
    form, version_id = row
    check_use(collector_role, form.roles, form.state)
    # Submissions to an older published version are accepted (Central does the same).
    if version_id is None:
        raise errors.FormVersionUnknown()
    return form, version_id


def _stored(version: SubmissionVersion | None) -> Stored | None:
    if version is None:
        return None
    return Stored(
        xml_sha256=version.xml_sha256,
        c14n_sha256=version.c14n_sha256,
        is_current=version.is_current,
        attachments=frozenset(a.filename for a in version.attachments if a.present),
    )


def _find_version(
    session: Session, form_id: int, instance_id: str, *, lock: bool = False
) -> SubmissionVersion | None:
    stmt = _VERSION_BY_INSTANCE_LOCKED if lock else _VERSION_BY_INSTANCE
    return session.scalars(stmt, {"form_id": form_id, "instance_id": instance_id}).one_or_none()


def _lock_for_edit(
    session: Session, form_id: int, parsed: ParsedSubmission
) -> tuple[SubmissionVersion | None, SubmissionVersion | None]:
    """(the version the edit replaces, the version already stored under the edit's instanceID)
    read under the lock of their submission.

    Locks are taken in the merge's order, the submission row first and then its versions
    (pipeline.merge_submission locks the submission, then writes rows referencing the
    version): an edit posted while its original merges waits for that merge instead of
    deadlocking with it. Holding the lock, both versions are read again: a concurrent copy
    of this very edit may have committed while we waited (then this one is a resend)."""
    assert parsed.deprecated_id is not None
    deprecated = _find_version(session, form_id, parsed.deprecated_id)
    if deprecated is None:
        return None, None
    session.get(Submission, deprecated.submission_id, with_for_update=True, populate_existing=True)
    deprecated = _find_version(session, form_id, parsed.deprecated_id, lock=True)
    same_id = _find_version(session, form_id, parsed.instance_id, lock=True)
    return deprecated, same_id


def _attach(
    session: Session,
    version: SubmissionVersion,
    files: Mapping[str, ReceivedFile],
    names: frozenset[str],
) -> list[FileMove]:
    """Attachment rows for the named files not yet present on `version`."""
    moves: list[FileMove] = []
    existing = {a.filename: a for a in version.attachments}
    now = utcnow()
    for name in sorted(names):
        row = existing.get(name)
        if row is not None and row.present:
            continue  # first copy wins; a resend never replaces a received file
        received = files[name]
        stored_name = uuid.uuid4().hex
        if row is None:
            row = Attachment(filename=name)
            version.attachments.append(row)
            session.add(row)
        row.stored_name = stored_name
        row.size = received.size
        row.sha256 = received.sha256
        row.content_type = (received.content_type or "")[:100] or None
        row.received_at = now
        moves.append(FileMove(received.temp_path, stored_name))
    return moves


def _keep_rejected(
    session: Session,
    parsed: ParsedSubmission,
    xml: bytes,
    form_id: int,
    collector_id: int,
    reason: Outcome,
) -> None:
    """Nothing that reached us is lost (design.md): refused copies are kept, once each."""
    already = session.scalars(
        select(RejectedCopy.id).where(
            RejectedCopy.form_id == form_id,
            RejectedCopy.instance_id == parsed.instance_id,
            RejectedCopy.xml_sha256 == parsed.xml_sha256,
        )
    ).first()
    if already is None:
        session.add(
            RejectedCopy(
                form_id=form_id,
                instance_id=parsed.instance_id,
                reason=reason.value,
                xml=xml,
                xml_sha256=parsed.xml_sha256,
                submitted_by_id=collector_id,
            )
        )


def _version_values(
    parsed: ParsedSubmission, xml: bytes, form_id: int, form_version_id: int, collector_id: int
) -> dict[str, Any]:
    """The columns of a submission version, for the ORM (edits) and Core (first POST) alike."""
    return {
        "form_id": form_id,
        "form_version_id": form_version_id,
        "instance_id": parsed.instance_id,
        "deprecated_id": parsed.deprecated_id,
        "is_current": True,
        "xml": xml,
        "xml_sha256": parsed.xml_sha256,
        "c14n_sha256": parsed.c14n_sha256,
        "encrypted": parsed.encrypted,
        "submitted_by_id": collector_id,
        "collector_code": parsed.collector_code,
        "device_id": parsed.device_id,
    }


def ingest_submission(
    session: Session,
    parsed: ParsedSubmission,
    xml: bytes,
    *,
    collector_id: int,
    collector_role: str,
    files: Mapping[str, ReceivedFile],
) -> IngestResult:
    """Classify and store. Raises SahakumError for requests to refuse without storing anything;
    returns CONFLICT / DEPRECATED_* outcomes after keeping the rejected copy (caller commits,
    then answers the matching error)."""
    form, form_version_id = resolve_form(session, parsed, collector_role)
    referenced = parsed.referenced_files(files.keys())
    same_id = _find_version(session, form.id, parsed.instance_id)
    deprecated = None
    if same_id is None and parsed.deprecated_id is not None:
        deprecated, same_id = _lock_for_edit(session, form.id, parsed)
    outcome = classify(
        Incoming(parsed.xml_sha256, parsed.c14n_sha256, parsed.deprecated_id, referenced),
        _stored(same_id),
        _stored(deprecated),
    )

    if outcome in {Outcome.CONFLICT, Outcome.DEPRECATED_UNKNOWN, Outcome.DEPRECATED_NOT_CURRENT}:
        _keep_rejected(session, parsed, xml, form.id, collector_id, outcome)
        session.flush()
        return IngestResult(outcome)

    if outcome in {Outcome.IDENTICAL, Outcome.MORE_ATTACHMENTS}:
        assert same_id is not None
        moves = _attach(session, same_id, files, referenced)
        session.flush()
        return IngestResult(outcome, same_id.submission_id, same_id.id, tuple(moves))

    state = SubmissionState.STORED_ENCRYPTED if parsed.encrypted else SubmissionState.RECEIVED
    if outcome is Outcome.NEW:
        return _insert_new(session, parsed, xml, form.id, form_version_id, collector_id, state,
                           files, referenced)
    # EDIT: a new version of the same logical submission; the old one stays, not current
    version = SubmissionVersion(**_version_values(parsed, xml, form.id, form_version_id, collector_id))
    assert deprecated is not None
    submission = session.get(Submission, deprecated.submission_id)
    assert submission is not None
    deprecated.is_current = False
    submission.review_state = ReviewState.EDITED
    submission.state = state  # needs merging again
    submission.updated_at = utcnow()
    version.submission = submission
    session.add(version)
    moves = _attach(session, version, files, referenced)
    # Files of the edited copy that the new XML still names are carried forward.
    for old in deprecated.attachments:
        if old.present and old.filename not in referenced and parsed.references(old.filename):
            version.attachments.append(
                Attachment(
                    filename=old.filename,
                    stored_name=old.stored_name,
                    size=old.size,
                    sha256=old.sha256,
                    content_type=old.content_type,
                    received_at=old.received_at,
                )
            )
    session.flush()
    return IngestResult(outcome, submission.id, version.id, tuple(moves))


def _insert_new(
    session: Session,
    parsed: ParsedSubmission,
    xml: bytes,
    form_id: int,
    form_version_id: int,
    collector_id: int,
    state: SubmissionState,
    files: Mapping[str, ReceivedFile],
    referenced: frozenset[str],
) -> IngestResult:
    """The hot path (a first POST): plain INSERTs in the caller's transaction instead of the
    ORM unit of work, which costs more CPU than the database does for three small rows.
    Column defaults (timestamps, review state) are applied by Core exactly as by the ORM.
    Raises IntegrityError if a concurrent POST stored the same instanceID first."""
    submission_id = uuid.uuid4()
    # Through the session's connection (same transaction), skipping the ORM statement layer.
    conn = session.connection()
    conn.execute(
        _INSERT_SUBMISSION,
        {
            "id": submission_id,
            "form_id": form_id,
            "root_instance_id": parsed.instance_id,
            "state": state,
        },
    )
    version_id = conn.execute(
        _INSERT_VERSION,
        {
            "submission_id": submission_id,
            **_version_values(parsed, xml, form_id, form_version_id, collector_id),
        },
    ).scalar_one()
    moves: list[FileMove] = []
    rows = []
    now = utcnow()
    for name in sorted(referenced):
        received = files[name]
        stored_name = uuid.uuid4().hex
        rows.append(
            {
                "version_id": version_id,
                "filename": name,
                "stored_name": stored_name,
                "size": received.size,
                "sha256": received.sha256,
                "content_type": (received.content_type or "")[:100] or None,
                "received_at": now,
            }
        )
        moves.append(FileMove(received.temp_path, stored_name))
    if rows:
        conn.execute(_INSERT_ATTACHMENT, rows)
    return IngestResult(Outcome.NEW, submission_id, version_id, tuple(moves))
