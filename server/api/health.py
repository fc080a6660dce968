"""/healthz, /readyz and /metrics for operators and their load balancers and Prometheus.

/healthz and /readyz are public and say nothing a stranger could use (no URLs, no counts).
/metrics needs `Authorization: Bearer $SAHAKUM_METRICS_TOKEN`; without a configured token it
answers only requests made directly on this machine (loopback, not relayed by a proxy).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from server import monitoring

ops = Blueprint("ops", __name__)

_LOOPBACK = {"127.0.0.1", "::1"}
# Set by `sahakum serve` when merger processes (its own or `sahakum sync run --loop` elsewhere)
# do the merging: then /readyz also needs a recent merger heartbeat.
EXPECT_MERGERS = "SAHAKUM_EXPECT_MERGERS"


@ops.get("/healthz")
def healthz() -> Response:
    """The process is up and answering (nothing else is checked)."""
    return jsonify({"status": "ok"})


@ops.get("/readyz")
def readyz() -> Response:
    """Database reachable, migrations current, merger keeping up: 200, else 503."""
    settings = current_app.config["SAHAKUM"]
    result = monitoring.readiness(
        current_app.extensions["sahakum_db"], settings.merge_lag_limit_s,
        expect_mergers=current_app.config.get(EXPECT_MERGERS, False),
    )
    response = jsonify({"status": "ready" if result.ready else "not ready", "checks": result.checks})
    response.status_code = 200 if result.ready else 503
    return response


def _metrics_allowed() -> tuple[bool, int]:
    token = current_app.config["SAHAKUM"].metrics_token
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
        return ok, 401
    direct = request.remote_addr in _LOOPBACK and "X-Forwarded-For" not in request.headers
    return direct, 403


@ops.get("/metrics")
def metrics() -> Response:
    allowed, status = _metrics_allowed()
    if not allowed:
        reply = Response("metrics need SAHAKUM_METRICS_TOKEN or a local request\n", status=status,
                         mimetype="text/plain")
        if status == 401:
            reply.headers["WWW-Authenticate"] = 'Bearer realm="sahakum-metrics"'
        return reply
    settings = current_app.config["SAHAKUM"]
    body = monitoring.metrics_text(current_app.extensions["sahakum_db"], settings.metrics_dir)
    return Response(body, mimetype="text/plain; version=0.0.4")

