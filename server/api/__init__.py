"""HTTP edge: the OpenRosa blueprint (XML, for Collect) and the staff JSON API (flask-smorest)."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    from server.api.health import ops
    from server.api.http_policy import init_http_policy
    from server.api.request_log import init_request_log

    init_request_log(app)  # first: its timer starts before any other hook can refuse the request
    init_http_policy(app)
    app.register_blueprint(ops)
    from server.api.openrosa import openrosa

    app.register_blueprint(openrosa)

    from server.api.rest import init_staff_api

    init_staff_api(app)
