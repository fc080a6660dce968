"""`sahakum serve`: the app it runs stores and answers; merging is left to merger processes."""

from __future__ import annotations

from server.cli import serve_app
from server.config import Settings
from server.sync.merger import Notifier
from server.sync.worker import merge_hook


def test_serve_app__default__stores_only_no_merge_in_the_web_process(settings: Settings) -> None:
    app = serve_app(settings)
    hooks = app.extensions["sahakum_after_submission"]
    assert merge_hook not in hooks
    assert "sahakum_sweeper" not in app.extensions
    # PostgreSQL mergers are woken after each commit; SQLite ones poll.
    assert [type(h) for h in hooks] == ([] if settings.is_sqlite else [Notifier])
    app.extensions["sahakum_db"].dispose()


def test_serve_app__merge_after_reply__merges_after_the_201_and_sweeps(settings: Settings) -> None:
    app = serve_app(settings, merge_after_reply=True)
    assert merge_hook in app.extensions["sahakum_after_submission"]
    sweeper = app.extensions["sahakum_sweeper"]
    assert sweeper._thread.is_alive()
    sweeper.stop()
    app.extensions["sahakum_db"].dispose()
