"""Fixtures for the browser tests: Chromium from the machine's packages, driven by Playwright for
Python, against the app served on a random localhost port and the test database (SQLite, or
PostgreSQL in the PostgreSQL pass). Skipped loudly when Chromium is absent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from server import create_app
from server.config import Settings
from server.db.session import Database
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, MISSING_CHROMIUM, UrlRecorder, live_server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server_factory(settings: Settings, db: Database) -> Iterator[Callable[..., str]]:
    """Start the app (with config overrides) on a random port; returns its base URL."""
    stack: list[Any] = []

    def start(**overrides: Any) -> str:
        app: Flask = create_app(settings, {"TESTING": True, **overrides})
        ctx = live_server(app)
        url = ctx.__enter__()
        stack.append((ctx, app))
        return url

    yield start
    for ctx, app in reversed(stack):
        ctx.__exit__(None, None, None)
        app.extensions["sahakum_db"].dispose()


@pytest.fixture
def base_url(server_factory: Callable[..., str]) -> str:
    return server_factory()


@pytest.fixture
def context_factory(playwright_browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def new(**kwargs: Any) -> Any:
        options = {"locale": "km-KH", "viewport": {"width": 1280, "height": 900}, **kwargs}
        ctx = playwright_browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield new
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(context_factory: Callable[..., Any]) -> Any:
    return context_factory().new_page()


@pytest.fixture
def recorder(page: Any) -> UrlRecorder:
    return UrlRecorder(page)
