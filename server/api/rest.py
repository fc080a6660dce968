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
from flask_smorest.spec.plugins import unicodeconverter2paramschema
from werkzeug.exceptions import HTTPException
from werkzeug.routing import UnicodeConverter

from server import errors
from server.api import auth
from server.api.doc_rules import INSTANCE_ID_PARAM, InstanceIdConverter, document_rules

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


# The offset (page - 1) * page_size must fit a 64-bit integer on both databases; no list here
# comes near this many pages.
MAX_PAGE = 1_000_000

PAGINATION_HEADER_DOC = {
    "description": "Pagination metadata as a JSON object (total, total_pages, first_page, "
    "last_page, page, previous_page, next_page), e.g. {\"total\": 3, \"total_pages\": 1}",
    "schema": {"type": "string"},
}


class StaffBlueprint(Blueprint):
    """flask-smorest's Blueprint with a bounded page number and the pagination header documented
    as what it is on the wire: a string holding JSON."""

    def paginate(self, pager: Any = None, **kwargs: Any) -> Any:
        decorator = super().paginate(pager, **kwargs)

        def bounded(func: Any) -> Any:
            wrapper = decorator(func)
            # The same schema class parses the request and documents the parameters.
            schema_cls = wrapper._apidoc["pagination"]["parameters"]["schema"]
            default = schema_cls._declared_fields["page"].load_default
            schema_cls._declared_fields["page"] = ma.fields.Integer(
                load_default=default, validate=ma.validate.Range(min=1, max=MAX_PAGE)
            )
            return wrapper

        return bounded

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER_DOC


def staff_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A smorest Blueprint under /api/v1 whose every route needs a staff bearer token."""
    blp = StaffBlueprint(name, import_name, url_prefix=URL_PREFIX, description=description)
    blp.before_request(auth.authenticate)
    blp.after_request(auth.finish_request)
    blp.teardown_request(auth.close_session)
    blp.register_error_handler(errors.SahakumError, handle_sahakum_error)
    blp.register_error_handler(Exception, handle_bug)
    return blp


STORABLE_TEXT = r"^[^\x00]*$"


def storable_text_pattern(_converter: Any, field: ma.fields.Field, ret: dict[str, Any], **_: Any) -> dict:
    """apispec attribute function: free strings a client sends may not contain NUL."""
    free_text = ret.get("type") == "string" and not ({"pattern", "enum", "format"} & ret.keys())
    return {"pattern": STORABLE_TEXT} if free_text and not field.dump_only else {}


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
    # server/api/http_policy.py refuses NUL in any text; the document says so, for every
    # string a client sends (path parameters and request fields).
    api.ma_plugin.converter.add_attribute_function(storable_text_pattern)
    api.register_converter(
        UnicodeConverter, lambda c: {**unicodeconverter2paramschema(c), "pattern": STORABLE_TEXT}
    )
    app.url_map.converters["instance_id"] = InstanceIdConverter
    api.register_converter(InstanceIdConverter, lambda _c: dict(INSTANCE_ID_PARAM))

    from server.api import (
        duplicates,
        exports,
        field_review,
        imports,
        members,
        referral_actions,
        referrals,
        reports,
        submission_review,
        submissions,
        unfit_answers,
        workplaces,
    )

    for module in (submissions, submission_review, unfit_answers, members, workplaces, duplicates,
                   referrals, referral_actions, imports, reports, exports, field_review):
        api.register_blueprint(module.blp)
    document_rules(api.spec.components.schemas)
    return api


def page_of(pagination_parameters: Any) -> Any:
    """flask-smorest's page/page_size as an offset/limit for server.casework.queries."""
    from server.casework.queries import Page

    return Page(offset=pagination_parameters.first_item, limit=pagination_parameters.page_size)


PAGE = {"page_size": 50, "max_page_size": 200}
