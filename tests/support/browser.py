"""Browser test helpers (Playwright for Python driving the machine's Chromium): the live server,
sign-in, the axe-core check and the check that no URL or title carries a name or phone."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tests.support.web import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"]
MISSING_CHROMIUM = (
    f"!!! BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM}. Install the Debian package "
    "(apt-get install --no-install-recommends chromium); .ci/run does. Never `playwright install`."
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app on a random localhost port (threaded, like gunicorn's gthread workers)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def sign_in(page: Any, base_url: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would (fields `username` and `password`)."""
    page.goto(base_url + "/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}: {violations}"


class UrlRecorder:
    """Every URL the page requested and every title it showed, for the personal-data check."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.titles: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("load", self._loaded)

    def _loaded(self, page: Any) -> None:
        self.titles.append(page.title())

    def assert_free_of(self, values: Iterable[str]) -> None:
        """No name or phone (in any spelling given) in any URL or page title seen."""
        from urllib.parse import unquote

        for value in values:
            if not value:
                continue
            for url in self.urls:
                assert value not in unquote(url), f"personal data in a URL: {url}"
            for title in self.titles:
                assert value not in title, f"personal data in a page title: {title}"
