"""The staff JSON API (flask-smorest): the Api object, JSON errors, and the blueprint factory.

Every error under /api/ answers ``{"error": {"code": ..., "message": ...}}`` with the status of
its catalogue entry (server/errors.py). The OpenAPI document is at /api/v1/openapi.json.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify, request
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from server import errors
from server.api import auth

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
URL_PREFIX = "/api/v1"

# HTTP errors raised by Flask/werkzeug/webargs (routing, parsing) mapped onto the catalogue.
_HTTP_ERRORS: dict[int, type[errors.SahakumError]] = {
    400: errors.RequestBad,
    401: errors.StaffUnauthenticated,
    403: errors.StaffForbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    412: errors.PreconditionFailed,
    422: errors.RequestInvalid,
    428: errors.PreconditionRequired,
    500: errors.InternalError,
}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Stable error code, e.g. auth.forbidden"})
    message = ma.fields.String(metadata={"description": "Text for staff; never contains PII"})
    fields = ma.fields.Dict(metadata={"description": "Validation messages by location and field"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema)


def error_response(
    code: str, message: str, status: int, fields: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sahakum"'
    return response


def handle_sahakum_error(exc: errors.SahakumError) -> Response:
    return error_response(exc.code, exc.detail_message, exc.status)


class StaffApi(Api):
    """flask-smorest's Api with the catalogue's JSON error shape.

    flask-smorest registers its HTTPException handler on the whole app; outside /api/ we hand
    the exception back unchanged so the OpenRosa side keeps its own replies.
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not request.path.startswith(API_PREFIX):
            return error
        return http_error_response(error)


def http_error_response(error: HTTPException) -> Response:
    status = error.code or 500
    catalogue = _HTTP_ERRORS.get(status)
    code = catalogue.code if catalogue else f"http.{status}"
    message = catalogue.message if catalogue else (error.description or error.name)
    data = getattr(error, "data", None) or {}
    fields = data.get("messages") or data.get("errors")
    if status >= 500:
        log.error("staff API: %s on %s %s", status, request.method, request.url_rule)
    response = error_response(code, message, status, fields if isinstance(fields, dict) else None)
    for key, value in (data.get("headers") or {}).items():
        response.headers[key] = value
    return response


def handle_bug(exc: Exception) -> Response:
    """Unexpected errors: a JSON 500, logged without the message (it may quote personal data).

    Flask consults a blueprint's handler for Exception before the app's HTTPException
    handler, so HTTP errors (404, 422 from webargs...) are passed on to their JSON shape here."""
    if isinstance(exc, HTTPException):
        return http_error_response(exc)
    errors.log_bug(log, f"staff API {request.method} {request.url_rule}", exc)
    return error_response(errors.InternalError.code, errors.InternalError.message, 500)


def staff_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A smorest Blueprint under /api/v1 whose every route needs a staff bearer token."""
    blp = Blueprint(name, import_name, url_prefix=URL_PREFIX, description=description)
    blp.before_request(auth.authenticate)
    blp.after_request(auth.finish_request)
    blp.teardown_request(auth.close_session)
    blp.register_error_handler(errors.SahakumError, handle_sahakum_error)
    blp.register_error_handler(Exception, handle_bug)
    return blp


def init_staff_api(app: Flask) -> StaffApi:
    app.config.setdefault("API_TITLE", "Sahakum staff API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", URL_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    # No Swagger UI / ReDoc: they load from a CDN, and the office network may be offline.
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "security": [{"bearerAuth": []}],
            "info": {
                "description": (
                    "JSON API for KWCD staff. Authenticate with `Authorization: Bearer <token>` "
                    "(`sahakum staff add NAME --role ROLE`). Personal data (names, phones, dates "
                    "of birth, origin) is shown only to the case and child_protection roles, or to "
                    "admin with a break-glass reason in the `X-Sahakum-Reason` header; every such "
                    "read is written to the audit log. Errors are "
                    '`{"error": {"code": ..., "message": ...}}` with a stable code.'
                )
            },
        },
    )
    api = StaffApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})

    from server.api import (
        duplicates,
        exports,
        imports,
        members,
        referral_actions,
        referrals,
        reports,
        submission_review,
        submissions,
        workplaces,
    )

    for module in (submissions, submission_review, members, workplaces, duplicates, referrals,
                   referral_actions, imports, reports, exports):
        api.register_blueprint(module.blp)
    return api


def page_of(pagination_parameters: Any) -> Any:
    """flask-smorest's page/page_size as an offset/limit for server.casework.queries."""
    from server.casework.queries import Page

    return Page(offset=pagination_parameters.first_item, limit=pagination_parameters.page_size)


PAGE = {"page_size": 50, "max_page_size": 200}
