"""The submission endpoint (protocol.md 1.6): read the multipart body, parse, store, answer.

Storing takes one of two paths, both committed before the 201 (design.md, issue 3):

* the hot path (server/sync/intake.py): a new submission without files, or a plain resend, in
  one read and at most one write, no transaction round trips on PostgreSQL;
* the full path (server/sync/ingest.py): attachments, edits, conflicts, and the rare race a hot
  path lost, in one transaction that also places the uploaded files.

Merging is not done here: merger processes are woken by the commit (server/sync/merger.py).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, current_app, request
from multipart import MultipartError, MultipartSegment, PushMultipartParser
from sqlalchemy.exc import DBAPIError, IntegrityError

from server import errors
from server.accounts.collectors import find_active_collector
from server.accounts.tokens import hash_token
from server.api.openrosa.protocol import (
    XML_CONTENT_TYPE,
    database,
    openrosa,
    openrosa_message,
    session,
    settings,
    token,
)
from server.db.models import Collector
from server.db.session import is_lost_race
from server.storage import AttachmentStore, FileMove
from server.sync import intake
from server.sync.dedup import Outcome
from server.sync.ingest import TMP_DIR, IngestResult, ReceivedFile, ingest_submission
from server.sync.parse import ParsedSubmission, parse_submission
from server.xforms import catalogue

logger = logging.getLogger(__name__)

XML_PART = "xml_submission_file"
INCOMPLETE_FIELD = "*isIncomplete*"
MAX_XML_BYTES = 20_000_000  # the XML itself is read into memory; attachments never are
MAX_FORM_PARTS = 1000  # Collect sends at most 100 files per POST (protocol.md 0.4)
SPILL_BYTES = 1_000_000  # a part larger than this goes to disk as it arrives
MAX_FIELD_BYTES = 1_000_000  # a form field that is not a file (the XML may come as one)
READ_CHUNK = 256 * 1024
HOOKS_KEY = "sahakum_after_submission"
STORE_ATTEMPTS = 5  # a lost race is retried this many times before the 500

SUCCESS_MESSAGE = "full submission upload was successful!"  # Central's exact text
PARTIAL_MESSAGE = "Part of the submission was received. Collect sends the rest next."
RESEND_MESSAGE = "This form was already received. Thank you."


class _HashingFile:
    """One uploaded part: hashed and counted as werkzeug writes it; kept in memory while small
    (the XML, most photos' first bytes) and spilled to a generated name in data_dir/tmp when it
    grows or when it is to be stored (`sync`), so nothing is written to disk for a plain XML."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = io.BytesIO()
        self._on_disk = False
        self._sha = hashlib.sha256()
        self.size = 0

    def _spill(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        disk = open(self.path, "w+b")  # noqa: SIM115 - closed by _UploadSpool.cleanup
        disk.write(self._fh.getvalue())  # type: ignore[attr-defined]
        self._fh = disk
        self._on_disk = True

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self.size += len(data)
        if not self._on_disk and self.size > SPILL_BYTES:
            self._spill()
        return self._fh.write(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def sync(self) -> None:
        """On disk and durable: the file is about to be renamed into place and committed."""
        if not self._on_disk:
            self._spill()
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def getvalue(self) -> bytes:
        self._fh.seek(0)
        return self._fh.read()

    def close(self) -> None:
        self._fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class _UploadSpool:
    """Every file part under a generated name (never the client's); files not claimed by the
    submission are deleted."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.files: list[_HashingFile] = []

    def new(self) -> _HashingFile:
        handle = _HashingFile(self.tmp_dir / f"{uuid.uuid4().hex}.part")
        self.files.append(handle)
        return handle

    def by_path(self, path: Path) -> _HashingFile:
        return next(f for f in self.files if f.path == path)

    def cleanup(self) -> None:
        for handle in self.files:
            handle.close()
            if handle._on_disk and handle.path.exists():
                handle.path.unlink()


def _part_name(key: str, filename: str | None) -> str | None:
    """Collect names each part after its file (protocol.md 1.6); only a bare name is usable."""
    for candidate in (key, filename or ""):
        name = candidate.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if name and name not in {".", ".."} and len(name) <= 255:
            return name
    return None


def _read_body(stream: IO[bytes]) -> bytes:
    """The next piece of the body. A body that cannot be read (a malformed chunk of a chunked
    upload: gunicorn's InvalidChunkSize, werkzeug's OSError; a client gone mid-upload) is the
    client's fault: 400, nothing stored. The exception types differ by server, hence broad."""
    try:
        return stream.read(READ_CHUNK)
    except Exception as exc:
        logger.info("submission body unreadable: %s", type(exc).__name__)
        raise errors.SubmissionBadMultipart() from None


def _segments(spool: _UploadSpool) -> Iterator[tuple[MultipartSegment, _HashingFile]]:
    """Stream the body through the parser; every part (file or field) into a spool handle.
    `multipart`'s push parser keeps no per-boundary regex (werkzeug compiles two per request,
    about a millisecond of CPU, and Collect sends a new random boundary with every POST)."""
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        raise errors.SubmissionBadMultipart()
    limit = settings().max_submission_bytes
    stream = request.stream
    total = 0
    handle: _HashingFile | None = None
    try:
        with PushMultipartParser(boundary, max_segment_count=MAX_FORM_PARTS) as parser:
            while not parser.closed:
                chunk = _read_body(stream)
                total += len(chunk)
                if total > limit:
                    raise errors.SubmissionTooLarge()
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        handle = spool.new()
                        segment = event
                    elif event:
                        assert handle is not None
                        handle.write(event)
                    else:
                        assert handle is not None
                        yield segment, handle
                if not chunk:
                    break
    except MultipartError:
        raise errors.SubmissionBadMultipart() from None


def _read_parts(spool: _UploadSpool) -> tuple[bytes, dict[str, ReceivedFile], bool]:
    xml: bytes | None = None
    xml_field: bytes | None = None
    incomplete = False
    received: dict[str, ReceivedFile] = {}
    for segment, handle in _segments(spool):
        key = segment.name or ""
        if segment.filename is None:  # a plain form field
            if handle.size > MAX_FIELD_BYTES:
                raise errors.SubmissionTooLarge()
            value = handle.getvalue()
            if key == XML_PART and xml_field is None:
                xml_field = value
            elif key == INCOMPLETE_FIELD:
                incomplete = value.decode("utf-8", "replace").strip().lower() == "yes"
            continue
        if key == XML_PART:
            if xml is None:
                if handle.size > MAX_XML_BYTES:
                    raise errors.SubmissionTooLarge()
                xml = handle.getvalue()
            continue
        name = _part_name(key, segment.filename)
        if name is None or name in received:
            continue
        received[name] = ReceivedFile(
            filename=name,
            temp_path=handle.path,
            size=handle.size,
            sha256=handle.sha256,
            content_type=segment.content_type or None,
        )
    xml = xml if xml is not None else xml_field
    if not xml:
        raise errors.SubmissionMissingXml()
    return xml, received, incomplete


def _active_collector() -> Collector:
    """The collector behind the token, or 403 (checked here, not before the request: the hot
    path reads it in the same round trip as the form)."""
    found = find_active_collector(session(), token())
    if found is None:
        raise errors.CollectorUnknown()
    return found


def _check(found: intake.Lookup) -> None:
    if found.collector_id is None:
        raise errors.CollectorUnknown()
    if found.form_id is None:
        raise errors.FormUnknown()
    catalogue.check_use(found.collector_role, found.form_roles, found.form_state)
    # Submissions to an older published version are accepted (Central does the same).
    if found.form_version_id is None:
        raise errors.FormVersionUnknown()


def _store_quick(parsed: ParsedSubmission, xml: bytes) -> IngestResult | None:
    with database().intake_connection() as conn:
        found = intake.lookup(conn, hash_token(token()), parsed)
        _check(found)
        outcome = intake.quick_outcome(found, parsed)
        if outcome is Outcome.IDENTICAL:
            return IngestResult(outcome, found.stored_submission_id, found.stored_version_id)
        if outcome is Outcome.NEW:
            stored = intake.insert_new(conn, parsed, xml, found)
            if stored is not None:
                conn.commit()  # durable before the 201 (PostgreSQL: the INSERT already was)
                return IngestResult(outcome, *stored)
    return None


def _store(
    parsed: ParsedSubmission, xml: bytes, received: dict[str, ReceivedFile], spool: _UploadSpool
) -> IngestResult:
    if parsed.deprecated_id is None and not parsed.referenced_files(received.keys()):
        result = _store_quick(parsed, xml)
        if result is not None:
            return result
    collector = _active_collector()
    collector_id, role = collector.id, collector.role.value
    # Give the read connection back before waiting for the write lock: a request that held two
    # connections let 20 simultaneous resends (SQLite: queued writers) exhaust the pool.
    session().close()
    return _store_in_transaction(parsed, xml, received, spool, collector_id, role)


def _store_in_transaction(
    parsed: ParsedSubmission,
    xml: bytes,
    received: dict[str, ReceivedFile],
    spool: _UploadSpool,
    collector_id: int,
    role: str,
) -> IngestResult:
    """Classify, store, place files, COMMIT. A lost race (the unique (form_id, instance_id)
    index, a deadlock or serialization failure) rolls back and runs again, re-classifying:
    the second of two identical POSTs is then a resend. Collect never sees the race."""
    store = attachment_store()
    # Classifies against what is stored, then writes: lock for write (SQLite: BEGIN IMMEDIATE).
    with database().session(lock_for_write=True) as tx:
        for attempt in range(1, STORE_ATTEMPTS + 1):
            placed: list[FileMove] = []
            try:
                result = ingest_submission(
                    tx, parsed, xml, collector_id=collector_id, collector_role=role, files=received
                )
                for move in result.moves:
                    spool.by_path(move.source).sync()
                placed = store.place(result.moves)
                tx.commit()  # durable before the 201 (design.md, issue 3)
                return result
            except DBAPIError as exc:
                tx.rollback()
                store.unplace(placed)
                if attempt == STORE_ATTEMPTS or not (isinstance(exc, IntegrityError) or is_lost_race(exc)):
                    raise
                if not isinstance(exc, IntegrityError):
                    logger.info("intake lost a database race (%s); retrying", type(exc.orig).__name__)
                    time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter, not crypto
            except BaseException:
                tx.rollback()
                store.unplace(placed)
                raise
    raise AssertionError("unreachable")


def attachment_store() -> AttachmentStore:
    return current_app.extensions["sahakum_files"]


def _run_hooks(app: Flask, submission_id: uuid.UUID) -> None:
    """After-commit processing registered by the app (e.g. `serve --merge-after-reply`).
    Failures never reach Collect: the submission is already stored; log without payload."""
    for hook in list(app.extensions.get(HOOKS_KEY, [])):
        try:
            hook(app, submission_id)
        except Exception as exc:
            logger.error(
                "after-submission hook %s failed for submission %s: %s",
                getattr(hook, "__qualname__", repr(hook)),
                submission_id,
                type(exc).__name__,
            )


_REFUSALS: dict[Outcome, type[errors.SahakumError]] = {
    Outcome.CONFLICT: errors.SubmissionConflict,
    Outcome.DEPRECATED_UNKNOWN: errors.DeprecatedUnknown,
    Outcome.DEPRECATED_NOT_CURRENT: errors.DeprecatedNotCurrent,
}


def _receive(spool: _UploadSpool) -> tuple[ParsedSubmission, bytes, dict[str, ReceivedFile], bool]:
    limit = settings().max_submission_bytes
    # Refuse before reading a byte of the body.
    if request.content_length is not None and request.content_length > limit:
        raise errors.SubmissionTooLarge()
    if request.mimetype != "multipart/form-data":
        raise errors.SubmissionMissingXml()
    xml, received, incomplete = _read_parts(spool)
    return parse_submission(xml), xml, received, incomplete


@openrosa.route("/submission", methods=["HEAD", "GET", "POST"])
def submission() -> Response:
    if request.method != "POST":
        # The pre-flight must be exactly 204: any other 2xx makes Collect abort ("is this an
        # OpenRosa submission endpoint?"); its headers are read only from a 204 (protocol.md 1.6).
        return Response(status=204, content_type=XML_CONTENT_TYPE)
    spool = _UploadSpool(settings().data_dir / TMP_DIR)
    try:
        try:
            parsed, xml, received, incomplete = _receive(spool)
        except errors.SahakumError:
            _active_collector()  # an unknown token gets 403 whatever it sent
            raise
        result = _store(parsed, xml, received, spool)
    finally:
        spool.cleanup()
    refusal = _REFUSALS.get(result.outcome)
    if refusal is not None:
        raise refusal()  # the refused copy is committed for staff; Collect gets the reason
    if incomplete:
        message = PARTIAL_MESSAGE
    elif result.outcome is Outcome.IDENTICAL:
        message = RESEND_MESSAGE
    else:
        message = SUCCESS_MESSAGE
    response = openrosa_message(message, 201)
    hooks = current_app.extensions.get(HOOKS_KEY)
    if hooks and result.outcome.stores_version and result.submission_id is not None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        submission_id = result.submission_id
        response.call_on_close(lambda: _run_hooks(app, submission_id))
    return response
