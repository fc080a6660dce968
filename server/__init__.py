"""Sahakum: the server behind ODK Collect for KWCD's community anti-trafficking network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

# Nothing heavy at import time: `import server.cli` (every `sahakum` command, --help included)
# imports this package first, and must not pay for Flask and SQLAlchemy.
if TYPE_CHECKING:
    from flask import Flask

    from server.config import Settings
    from server.db.session import Database


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: configuration is read once, here or by the caller."""
    import logging

    from flask import Flask

    from server.config import load_settings
    from server.db.session import Database

    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()), static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=None,  # the submission endpoint enforces its own advertised limit
        SAHAKUM=settings,
    )
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.extensions["sahakum_db"] = Database(settings.database_url)
    app.extensions.setdefault("sahakum_after_submission", [])
    from server.sync.worker import merge_hook

    # Merge each new or edited submission right after Collect has its reply (design.md).
    app.extensions["sahakum_after_submission"].append(merge_hook)

    from server.api import init_api

    init_api(app)
    from server.web import init_web

    init_web(app)
    return app


def get_database(app: Flask) -> Database:
    return app.extensions["sahakum_db"]
