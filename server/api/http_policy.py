"""Rules every request and response of the app obeys, whichever blueprint answers.

- Text that no database can store (NUL, lone UTF-16 surrogates) is refused with 400 before any
  view runs: PostgreSQL rejects NUL in text (a 500 deep in a query otherwise), and SQLite would
  store what PostgreSQL cannot, so the two databases would disagree.
- Responses are not cached unless the view said otherwise (staff API replies carry personal
  data), never content-sniffed, and a 405 always names the allowed methods in ``Allow``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import BadRequest

# Bodies larger than this are uploads (OpenRosa streams them); they are never parsed here.
_MAX_CHECKED_BODY = 1_000_000


class UnstorableText(BadRequest):
    description = "The request contains a NUL character or invalid Unicode."


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from JSON "\ud800"
        return False
    return True


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _json_body() -> Any:
    """The JSON body, parsed here without touching Flask's JSON cache: the views (webargs) parse
    it again and answer bad JSON themselves. The raw bytes stay cached for them."""
    try:
        return json.loads(request.get_data(cache=True))
    except ValueError:  # not JSON, or not UTF-8: the view's parser says so
        return None


def _request_texts() -> Iterable[str]:
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value
    for _name, value in request.headers.items():
        yield value
    small = (request.content_length or 0) <= _MAX_CHECKED_BODY
    if small and request.is_json:
        yield from _strings(_json_body())
    elif small and request.mimetype == "application/x-www-form-urlencoded":
        for key, value in request.form.items(multi=True):
            yield key
            yield value


def refuse_unstorable_text() -> None:
    """`before_request`: 400 for text no database can store, before any view or query runs."""
    if not all(storable(text) for text in _request_texts()):
        raise UnstorableText()


def _allowed_methods() -> list[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return sorted(adapter.allowed_methods())


def security_headers(response: Response) -> Response:
    """`after_request` of the whole app."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if response.status_code == 405 and "Allow" not in response.headers:
        response.headers["Allow"] = ", ".join(_allowed_methods())
    return response


def init_http_policy(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
    app.after_request(security_headers)

