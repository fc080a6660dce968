"""The OpenRosa blueprint and the glue every response shares (design.md example 6).

URL shape (Central's app-user style, protocol.md 0.8): Collect is configured with
`{base}/v1/key/{token}` and appends `/formList` and `/submission` itself. Here, once: the
`X-OpenRosa-Version` check, the collector behind the token, the OpenRosa headers on every
response (errors included), one XML error writer and conditional responses (ETag / 304).
Nothing below `server/api` imports Flask; handlers own their transactions.

Never log URLs or payloads here: the token is in the path and answers carry personal data.
"""

from __future__ import annotations

import functools
import hashlib
import logging

from flask import Blueprint, Response, current_app, g, request
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import http_date

from server import errors
from server.accounts.collectors import find_active_collector
from server.accounts.tokens import well_formed
from server.config import Settings
from server.db.models import Collector
from server.db.session import Database

logger = logging.getLogger(__name__)

openrosa = Blueprint("openrosa", __name__, url_prefix="/v1/key/<token>")

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
OR_RESPONSE_NS = "http://openrosa.org/http/response"
SUBMISSION_ENDPOINT = "openrosa.submission"
MEDIA_ENDPOINT = "openrosa.media_file"


def settings() -> Settings:
    return current_app.config["SAHAKUM"]


def database() -> Database:
    return current_app.extensions["sahakum_db"]


def session() -> Session:
    """The request's session for reads (form list, downloads, lists); writes have their own."""
    current = g.get("openrosa_session")
    if current is None:
        current = database().read_session()
        g.openrosa_session = current
    return current


def token() -> str:
    return g.openrosa_token


def collector() -> Collector:
    found = g.get("collector")
    if found is None:  # a view that skipped the lookup before the request (a list poll)
        found = find_active_collector(session(), token())
        if found is None:
            raise errors.CollectorUnknown()
        g.collector = found
    return found


@openrosa.url_value_preprocessor
def _pop_token(endpoint: str | None, values: dict[str, object] | None) -> None:
    g.openrosa_token = (values or {}).pop("token", "")


@openrosa.before_request
def _check_protocol_and_collector() -> None:
    # OpenRosa 1.0 requires the header (Central answers 400 without it). `Date` is never
    # checked: Collect formats it with a 12-hour clock (protocol.md 0.9).
    if not request.headers.get("X-OpenRosa-Version"):
        raise errors.OpenRosaVersionMissing()
    if not well_formed(token()):
        # 403, never 401: a 401 makes Collect prompt for a password (protocol.md 0.8).
        raise errors.CollectorUnknown()
    if request.endpoint == SUBMISSION_ENDPOINT and request.method == "POST":
        return  # the submission's one lookup reads the collector with the form (sync/intake.py)
    if request.endpoint == MEDIA_ENDPOINT and request.if_none_match:
        return  # a list poll reads the collector with the list's version (sync/list_poll.py)
    found = find_active_collector(session(), token())
    if found is None:
        raise errors.CollectorUnknown()
    g.collector = found


@openrosa.after_request
def _openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["Date"] = http_date()
    response.headers.setdefault("Content-Language", "en")
    if request.endpoint == SUBMISSION_ENDPOINT:
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(settings().max_submission_bytes)
    return response


@openrosa.teardown_request
def _close_session(_exc: BaseException | None) -> None:
    current = g.pop("openrosa_session", None)
    if current is not None:
        current.close()


@functools.lru_cache(maxsize=256)
def _message_body(text: str, nature: str) -> bytes:
    E = ElementMaker(namespace=OR_RESPONSE_NS, nsmap={None: OR_RESPONSE_NS})
    body = E.OpenRosaResponse(E.message(text, nature=nature), items="0")
    return etree.tostring(body, xml_declaration=True, encoding="UTF-8")


def openrosa_message(text: str, status: int, nature: str = "") -> Response:
    """The OpenRosaResponse envelope; Collect shows the first <message> (protocol.md 1.6).
    Messages come from the catalogue (never user data), so their bodies are cached."""
    return Response(_message_body(text, nature), status=status, content_type=XML_CONTENT_TYPE)


@openrosa.errorhandler(errors.SahakumError)
def _domain_error(exc: errors.SahakumError) -> Response:
    return openrosa_message(exc.detail_message, exc.status, nature="error")


@openrosa.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, RequestEntityTooLarge):
        return _domain_error(errors.SubmissionTooLarge())
    status = exc.code or 400
    if status == 405:
        return openrosa_message("This address does not accept this request.", 405, "error")
    if status >= 500:
        return openrosa_message(errors.ServerFault.message, status, "error")
    return openrosa_message(errors.SubmissionBadMultipart.message, status, "error")


@openrosa.errorhandler(Exception)
def _bug(exc: Exception) -> Response:
    errors.log_bug(logger, "OpenRosa request", exc)
    return _domain_error(errors.ServerFault())


def xml_response(root: etree._Element) -> Response:
    return conditional(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), XML_CONTENT_TYPE)


def not_modified(etag: str) -> Response | None:
    """304 when the client's If-None-Match still matches `etag` (checked before any body is
    built), else None."""
    if not request.if_none_match.contains(etag):
        return None
    return cache_headers(Response(status=304), etag)


def conditional(body: bytes, content_type: str, etag: str | None = None) -> Response:
    """200 with an ETag, or 304 when the client's If-None-Match still matches."""
    etag = etag or hashlib.md5(body, usedforsecurity=False).hexdigest()
    unchanged = not_modified(etag)
    if unchanged is not None:
        return unchanged
    return cache_headers(Response(body, status=200, content_type=content_type), etag)


def cache_headers(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def url_prefix() -> str:
    base = settings().base_url or request.host_url.rstrip("/")
    return f"{base}/v1/key/{token()}"
