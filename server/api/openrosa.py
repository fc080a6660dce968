"""OpenRosa endpoints for ODK Collect: form list, form download, manifest, media, submission.

URL shape (Central's app-user style, protocol.md 0.8): Collect is configured with
`{base}/v1/key/{token}` and appends `/formList` and `/submission` itself. All protocol glue
lives here, once (design.md example 6): the `X-OpenRosa-Version` check, the OpenRosa headers on
every response (errors included), and one XML error writer. Nothing below this module imports
Flask; the handler owns the transaction and commits before it answers 201.

Never log URLs or payloads here: the token is in the path and answers carry personal data.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, request
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import parse_form_data
from werkzeug.http import http_date

from server import errors
from server.accounts.collectors import find_active_collector
from server.config import Settings
from server.db.models import Collector, Form, FormMedia, FormState, FormVersion, MediaKind
from server.sync.dedup import Outcome
from server.sync.ingest import (
    TMP_DIR,
    FileMove,
    IngestResult,
    ReceivedFile,
    ingest_submission,
    place_files,
)
from server.sync.lists import build_list, entity_integrity
from server.sync.parse import ParsedSubmission, parse_submission

logger = logging.getLogger(__name__)

openrosa = Blueprint("openrosa", __name__, url_prefix="/v1/key/<token>")

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
OR_RESPONSE_NS = "http://openrosa.org/http/response"
XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
XML_PART = "xml_submission_file"
INCOMPLETE_FIELD = "*isIncomplete*"
MAX_XML_BYTES = 20_000_000  # the XML itself is read into memory; attachments never are
MAX_FORM_PARTS = 1000  # Collect sends at most 100 files per POST (protocol.md 0.4)
HOOKS_KEY = "sahakum_after_submission"
MAX_INTEGRITY_IDS = 5000  # bounds the work one request can ask for

SUCCESS_MESSAGE = "full submission upload was successful!"  # Central's exact text
PARTIAL_MESSAGE = "Part of the submission was received. Collect sends the rest next."
RESEND_MESSAGE = "This form was already received. Thank you."


# --- protocol glue ---------------------------------------------------------------------------
def _settings() -> Settings:
    return current_app.config["SAHAKUM"]


def _session() -> Session:
    session = g.get("openrosa_session")
    if session is None:
        # A POST classifies against what is stored, then writes: lock for write (SQLite).
        session = current_app.extensions["sahakum_db"].session(lock_for_write=request.method == "POST")
        g.openrosa_session = session
    return session


@openrosa.url_value_preprocessor
def _pop_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.openrosa_token = (values or {}).pop("token", "")


@openrosa.before_request
def _check_protocol_and_collector() -> None:
    # OpenRosa 1.0 requires the header (Central answers 400 without it). `Date` is never
    # checked: Collect formats it with a 12-hour clock (protocol.md 0.9).
    if not request.headers.get("X-OpenRosa-Version"):
        raise errors.OpenRosaVersionMissing()
    collector = find_active_collector(_session(), g.openrosa_token)
    if collector is None:
        # 403, never 401: a 401 makes Collect prompt for a password (protocol.md 0.8).
        raise errors.CollectorUnknown()
    g.collector = collector


@openrosa.after_request
def _openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["Date"] = http_date()
    response.headers.setdefault("Content-Language", "en")
    if request.endpoint == "openrosa.submission":
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(_settings().max_submission_bytes)
    return response


@openrosa.teardown_request
def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("openrosa_session", None)
    if session is not None:
        session.close()


@functools.lru_cache(maxsize=256)
def _message_body(text: str, nature: str) -> bytes:
    E = ElementMaker(namespace=OR_RESPONSE_NS, nsmap={None: OR_RESPONSE_NS})
    body = E.OpenRosaResponse(E.message(text, nature=nature), items="0")
    return etree.tostring(body, xml_declaration=True, encoding="UTF-8")


def _openrosa_message(text: str, status: int, nature: str = "") -> Response:
    """The OpenRosaResponse envelope; Collect shows the first <message> (protocol.md 1.6).
    Messages come from the catalogue (never user data), so their bodies are cached."""
    return Response(_message_body(text, nature), status=status, content_type=XML_CONTENT_TYPE)


@openrosa.errorhandler(errors.SahakumError)
def _domain_error(exc: errors.SahakumError) -> Response:
    return _openrosa_message(exc.detail_message, exc.status, nature="error")


@openrosa.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, RequestEntityTooLarge):
        return _domain_error(errors.SubmissionTooLarge())
    status = exc.code or 400
    if status == 405:
        return _openrosa_message("This address does not accept this request.", 405, "error")
    if status >= 500:
        return _openrosa_message(errors.ServerFault.message, status, "error")
    return _openrosa_message(errors.SubmissionBadMultipart.message, status, "error")


@openrosa.errorhandler(Exception)
def _bug(exc: Exception) -> Response:
    errors.log_bug(logger, "OpenRosa request", exc)
    return _domain_error(errors.ServerFault())


def _xml_response(root: etree._Element) -> Response:
    return _conditional(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), XML_CONTENT_TYPE)


def _conditional(body: bytes, content_type: str, etag: str | None = None) -> Response:
    """200 with an ETag, or 304 when the client's If-None-Match still matches."""
    etag = etag or hashlib.md5(body, usedforsecurity=False).hexdigest()
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, status=200, content_type=content_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _prefix() -> str:
    base = _settings().base_url or request.host_url.rstrip("/")
    return f"{base}/v1/key/{g.openrosa_token}"


def _collector() -> Collector:
    return g.collector


# --- form list, download, manifest, media ----------------------------------------------------
def _visible_form(xml_form_id: str) -> Form:
    form = _session().scalars(select(Form).where(Form.xml_form_id == xml_form_id)).one_or_none()
    if form is None:
        raise errors.FormUnknown()
    if not form.visible_to(_collector().role.value):
        raise errors.FormNotForCollector()
    if form.state == FormState.CLOSED:
        raise errors.FormClosed()
    return form


def _current(form: Form) -> FormVersion:
    version = form.current_version
    if version is None:
        raise errors.FormUnknown()
    return version


@openrosa.get("/formList")
def form_list() -> Response:
    """OpenRosa form discovery (protocol.md 1.3). Closing and closed forms are not listed."""
    wanted = request.args.get("formID")
    role = _collector().role.value
    forms = _session().scalars(
        select(Form)
        .where(Form.state == FormState.OPEN)
        .order_by(Form.xml_form_id)
        .options(selectinload(Form.versions).selectinload(FormVersion.media))
    )
    prefix = _prefix()
    E = ElementMaker(namespace=XFORMS_LIST_NS, nsmap={None: XFORMS_LIST_NS})
    root = E.xforms()
    for form in forms:
        version = form.current_version
        if version is None or not form.visible_to(role):
            continue
        if wanted and form.xml_form_id != wanted:
            continue
        form_url = f"{prefix}/forms/{quote(form.xml_form_id, safe='')}"
        entry = E.xform(
            E.formID(form.xml_form_id),
            E.name(version.title or form.xml_form_id),
            E.version(version.version),
            E.hash(f"md5:{version.md5}"),
            E.downloadUrl(f"{form_url}.xml"),
        )
        if version.media:
            entry.append(E.manifestUrl(f"{form_url}/manifest"))
        root.append(entry)
    return _xml_response(root)


@openrosa.get("/forms/<xml_form_id>.xml")
def form_xml(xml_form_id: str) -> Response:
    version = _current(_visible_form(xml_form_id))
    # ETag = the md5 announced in formList, which is the MD5 of exactly these bytes.
    return _conditional(version.xml, XML_CONTENT_TYPE, etag=version.md5)


@openrosa.get("/forms/<xml_form_id>/versions/<version>.xml")
def form_version_xml(xml_form_id: str, version: str) -> Response:
    form = _visible_form(xml_form_id)
    row = next((v for v in form.versions if v.version == version), None)
    if row is None:
        raise errors.FormVersionUnknown()
    return _conditional(row.xml, XML_CONTENT_TYPE, etag=row.md5)


def _media_bytes(media: FormMedia) -> bytes:
    if media.kind == MediaKind.STATIC:
        assert media.blob is not None
        return media.blob.content
    return build_list(_session(), _collector(), media.filename)


def _media_md5(media: FormMedia) -> str:
    if media.kind == MediaKind.STATIC and media.blob is not None:
        return media.blob.md5
    # Generated per collector: hash the bytes we would serve, so Collect re-downloads
    # exactly when the list changed (protocol.md 1.5).
    return hashlib.md5(_media_bytes(media), usedforsecurity=False).hexdigest()


@openrosa.get("/forms/<xml_form_id>/manifest")
def manifest(xml_form_id: str) -> Response:
    """OpenRosa manifest (protocol.md 1.5): hash = MD5 of the bytes at downloadUrl."""
    form = _visible_form(xml_form_id)
    version = _current(form)
    prefix = f"{_prefix()}/forms/{quote(form.xml_form_id, safe='')}/attachments"
    E = ElementMaker(namespace=MANIFEST_NS, nsmap={None: MANIFEST_NS})
    root = E.manifest()
    for media in version.media:
        entry = E.mediaFile(
            E.filename(media.filename),
            E.hash(f"md5:{_media_md5(media)}"),
            E.downloadUrl(f"{prefix}/{quote(media.filename, safe='')}"),
        )
        if media.kind == MediaKind.ENTITY_LIST:
            # Collect keeps offline-created entities until the integrity URL says they are
            # gone; the attribute and the URL are both required for entity lists (OR-list).
            entry.set("type", "entityList")
            dataset = quote(_dataset_name(media.filename), safe="")
            entry.append(E.integrityUrl(f"{_prefix()}/datasets/{dataset}/integrity"))
        root.append(entry)
    return _xml_response(root)


def _dataset_name(filename: str) -> str:
    return filename.removesuffix(".csv")


@openrosa.get("/datasets/<dataset>/integrity")
def entity_list_integrity(dataset: str) -> Response:
    """Which of the requested entities are deleted (protocol.md 1.8), for the entity lists of
    the forms this collector can download. Collect asks only about ids it created offline."""
    role = _collector().role.value
    readable = {
        _dataset_name(m.filename)
        for form in _session().scalars(select(Form).where(Form.state != FormState.CLOSED))
        if form.visible_to(role) and (version := form.current_version) is not None
        for m in version.media
        if m.kind == MediaKind.ENTITY_LIST
    }
    if dataset not in readable:
        raise errors.NotFound("This list is not on the server. Update your blank forms.")
    ids = [i.strip() for i in request.args.get("id", "").split(",") if i.strip()]
    deleted = entity_integrity(_session(), dataset, ids[:MAX_INTEGRITY_IDS])
    entities = etree.Element("entities")
    for entity_id, is_deleted in deleted.items():
        entity = etree.SubElement(entities, "entity", id=entity_id)
        etree.SubElement(entity, "deleted").text = "true" if is_deleted else "false"
    root = etree.Element("data")
    root.append(entities)
    return _xml_response(root)


@openrosa.get("/forms/<xml_form_id>/attachments/<filename>")
def media_file(xml_form_id: str, filename: str) -> Response:
    version = _current(_visible_form(xml_form_id))
    media = next((m for m in version.media if m.filename == filename), None)
    if media is None:
        raise errors.NotFound("This media file is not on the server. Update your blank forms.")
    body = _media_bytes(media)
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    content_type = "text/csv; charset=utf-8" if filename.endswith(".csv") else guessed
    return _conditional(body, content_type)


# --- submission ------------------------------------------------------------------------------
class _HashingFile:
    """A temporary upload file that hashes and counts what werkzeug writes into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "w+b")  # noqa: SIM115 - closed by _UploadSpool
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self.size += len(data)
        return self._fh.write(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class _UploadSpool:
    """Every file part goes to disk under a generated name in data_dir/tmp (never memory,
    never the client's name); files not claimed by the submission are deleted."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.files: list[_HashingFile] = []

    def factory(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        handle = _HashingFile(self.tmp_dir / f"{uuid.uuid4().hex}.part")
        self.files.append(handle)
        return handle  # type: ignore[return-value]

    def by_path(self, path: Path) -> _HashingFile:
        return next(f for f in self.files if f.path == path)

    def cleanup(self) -> None:
        for handle in self.files:
            handle.close()
            if handle.path.exists():
                handle.path.unlink()


def _part_name(key: str, filename: str | None) -> str | None:
    """Collect names each part after its file (protocol.md 1.6); only a bare name is usable."""
    for candidate in (key, filename or ""):
        name = candidate.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if name and name not in {".", ".."} and len(name) <= 255:
            return name
    return None


def _read_parts(spool: _UploadSpool) -> tuple[bytes, dict[str, ReceivedFile], bool]:
    limit = _settings().max_submission_bytes
    try:
        _, form, files = parse_form_data(
            request.environ,
            stream_factory=spool.factory,
            max_form_memory_size=1_000_000,
            max_content_length=limit,
            max_form_parts=MAX_FORM_PARTS,
            silent=False,
        )
    except RequestEntityTooLarge:
        raise errors.SubmissionTooLarge() from None
    except (ValueError, EOFError):
        raise errors.SubmissionBadMultipart() from None
    xml_part = files.get(XML_PART)
    if xml_part is not None:
        handle = xml_part.stream
        if isinstance(handle, _HashingFile) and handle.size > MAX_XML_BYTES:
            raise errors.SubmissionTooLarge()
        handle.seek(0)
        xml = handle.read(MAX_XML_BYTES + 1)
    elif form.get(XML_PART):
        xml = form[XML_PART].encode("utf-8")
    else:
        raise errors.SubmissionMissingXml()
    if len(xml) > MAX_XML_BYTES:
        raise errors.SubmissionTooLarge()
    received: dict[str, ReceivedFile] = {}
    for key, storage in files.items(multi=True):
        if key == XML_PART or not isinstance(storage.stream, _HashingFile):
            continue
        name = _part_name(key, storage.filename)
        if name is None or name in received:
            continue
        handle = storage.stream
        received[name] = ReceivedFile(
            filename=name,
            temp_path=handle.path,
            size=handle.size,
            sha256=handle.sha256,
            content_type=storage.mimetype or None,
        )
    incomplete = (form.get(INCOMPLETE_FIELD) or "").strip().lower() == "yes"
    return xml, received, incomplete


def _store(
    parsed: ParsedSubmission, xml: bytes, received: dict[str, ReceivedFile], spool: _UploadSpool
) -> IngestResult:
    """Classify, store, place files, COMMIT. A lost race on the unique (form_id, instance_id)
    index rolls back and re-classifies: the second of two identical POSTs is then a resend."""
    session = _session()
    # The collector lookup's transaction continues here (READ COMMITTED on PostgreSQL; on
    # SQLite it began IMMEDIATE, see _session): one BEGIN/COMMIT pair per submission.
    collector = _collector()
    collector_id, role = collector.id, collector.role.value
    data_dir = _settings().data_dir
    for attempt in range(3):
        placed: list[tuple[FileMove, Path]] = []
        try:
            result = ingest_submission(
                session, parsed, xml, collector_id=collector_id, collector_role=role,
                files=received,
            )
            for move in result.moves:
                spool.by_path(move.source).sync()
            placed = list(zip(result.moves, place_files(data_dir, result.moves), strict=True))
            session.commit()  # durable before the 201 (design.md, issue 3)
            return result
        except IntegrityError:
            session.rollback()
            _unplace(placed)
            if attempt == 2:
                raise
        except BaseException:
            session.rollback()
            _unplace(placed)
            raise
    raise AssertionError("unreachable")


def _unplace(placed: Iterable[tuple[FileMove, Path]]) -> None:
    """The commit failed: put the uploads back so a retry (or the cleanup) finds them."""
    for move, target in placed:
        if target.exists():
            os.replace(target, move.source)


def _run_hooks(app: Flask, submission_id: uuid.UUID) -> None:
    """After-commit processing (case merge, next issue). Failures never reach Collect: the
    submission is already stored; log the failure without payload."""
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


@openrosa.route("/submission", methods=["HEAD", "GET", "POST"])
def submission() -> Response:
    if request.method != "POST":
        # The pre-flight must be exactly 204: any other 2xx makes Collect abort ("is this an
        # OpenRosa submission endpoint?"); its headers are read only from a 204 (protocol.md 1.6).
        return Response(status=204, content_type=XML_CONTENT_TYPE)
    limit = _settings().max_submission_bytes
    # Refuse before reading a byte of the body.
    if request.content_length is not None and request.content_length > limit:
        raise errors.SubmissionTooLarge()
    if request.mimetype != "multipart/form-data":
        raise errors.SubmissionMissingXml()
    tmp_dir = _settings().data_dir / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    spool = _UploadSpool(tmp_dir)
    try:
        xml, received, incomplete = _read_parts(spool)
        parsed = parse_submission(xml)
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
    response = _openrosa_message(message, 201)
    if result.outcome.stores_version and result.submission_id is not None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        submission_id = result.submission_id
        response.call_on_close(lambda: _run_hooks(app, submission_id))
    return response
