"""The reference endpoint for bench/wrk_intake.py: the same stack as `sahakum serve` (gunicorn
gthread + Flask), reading the request body and answering 201 with Central's success envelope,
doing nothing else. Sahakum's intake rate divided by this one's is comparable across machines."""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)
BODY = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\""
    b' items="0"><message nature="">full submission upload was successful!</message></OpenRosaResponse>'
)


@app.post("/v1/key/<token>/submission")
def submission(token: str) -> Response:
    request.get_data()
    return Response(BODY, status=201, content_type="text/xml; charset=utf-8")
