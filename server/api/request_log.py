"""One JSON log line per request, and the intake metrics, from the same measurement.

The line holds the request id, method, route *template* (``/v1/key/<token>/submission``: the
rule, never the URL, which carries the collector's token), status, duration, the form id when
the route names one, and the outcome code. Views may refine the last two through
``g.sahakum_form_id`` and ``g.sahakum_outcome`` (ids and catalogue codes only).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, g, request

from server import monitoring
from server.api.auth import REQUEST_ID_HEADER, request_id

log = logging.getLogger("sahakum.request")

SUBMISSION_ENDPOINT = "openrosa.submission"
_FORM_ARGS = ("xml_form_id", "form_id")


def _start() -> None:
    g.sahakum_started = time.perf_counter()
    request_id()


def _error_code(response: Response) -> str | None:
    if response.status_code < 400 or not response.is_json:
        return None
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _form_id() -> str | None:
    sent = g.get("sahakum_form_id")
    if sent:
        return str(sent)
    args = request.view_args or {}
    return next((str(args[k]) for k in _FORM_ARGS if k in args), None)


def _finish(response: Response) -> Response:
    started = g.get("sahakum_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    if request.endpoint == SUBMISSION_ENDPOINT and request.method == "POST":
        monitoring.record_intake(response.status_code, seconds)
    fields: dict[str, Any] = {
        "event": "request",
        "request_id": request_id(),
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 1),
        "form_id": _form_id(),
        "outcome": g.get("sahakum_outcome") or _error_code(response),
    }
    log.info("request", extra={"fields": fields})
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def init_request_log(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
