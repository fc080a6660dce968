# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""A chunked upload with a malformed chunk is the client's fault: a clear 400 OpenRosa error,
nothing stored, under the test client and under the real server (gunicorn dechunks itself)."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from werkzeug.serving import DechunkedInput

from server.accounts.collectors import create_collector
from server.db.models import RejectedCopy, Submission
from server.db.session import Database
from tests.integration.test_openrosa_submission import assert_openrosa, count
from tests.support.collect import message
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.serving import server_env, serving

BOUNDARY = "sahakumTestBoundary"


def _multipart_start() -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; "
        f"filename=\"instance.xml\"\r\nContent-Type: text/xml\r\n\r\n<data id=\"workplace_visit\">"
    ).encode()


def _malformed_chunked_body() -> bytes:
    first = _multipart_start()
    return f"{len(first):x}\r\n".encode() + first + b"\r\nZZZ\r\nnot a chunk\r\n0\r\n\r\n"


def test_malformed_chunk__test_client__400_openrosa_nothing_stored(published_forms, client, pe, db):
    response = client.post(
        pe.url("submission"),
        headers={**pe.headers(), "Transfer-Encoding": "chunked",
                 "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        # What werkzeug's own server hands the app for a chunked body (it dechunks as read).
        environ_overrides={"wsgi.input_terminated": True,
                           "wsgi.input": DechunkedInput(io.BytesIO(_malformed_chunked_body()))},
    )
    assert_openrosa(response, 400)
    assert "could not be read" in message(response)
    assert count(db, Submission) == 0 and count(db, RejectedCopy) == 0


def _raw_post(base: str, path: str, body: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nX-OpenRosa-Version: 1.0\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_malformed_chunk__real_server_raw_socket__400_openrosa(
    published_forms, db: Database, database_url: str, tmp_path: Path
):
    with db.transaction() as s:
        _, token = create_collector(s, "PE99", "peer_educator", "180101")
    env = server_env(database_url, tmp_path / "instance")
    with serving(env) as base:
        reply = _raw_post(base, f"/v1/key/{token}/submission", _malformed_chunked_body())
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.split()[1] == b"400", reply[:500]
    head, _, body = rest.partition(b"\r\n\r\n")
    assert b"x-openrosa-version: 1.0" in head.lower()
    assert b"<OpenRosaResponse" in body and b"could not be read" in body
    assert count(db, Submission) == 0
