"""`sahakum serve`: the app it runs, with and without the merge after the reply."""

from __future__ import annotations

from server.cli import serve_app
from server.config import Settings
from server.sync.worker import merge_hook


def test_serve_app__default__merges_after_reply_and_sweeps(settings: Settings) -> None:
    app = serve_app(settings)
    assert merge_hook in app.extensions["sahakum_after_submission"]
    sweeper = app.extensions["sahakum_sweeper"]
    assert sweeper._thread.is_alive()
    sweeper.stop()
    app.extensions["sahakum_db"].dispose()


def test_serve_app__no_merge_after_reply__stores_only(settings: Settings) -> None:
    app = serve_app(settings, merge_after_reply=False)
    assert merge_hook not in app.extensions["sahakum_after_submission"]
    assert "sahakum_sweeper" not in app.extensions
    app.extensions["sahakum_db"].dispose()
