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
    from flask import Flask

    from server.config import load_settings
    from server.db.session import Database
    from server.logs import configure_logging
    from server.private_files import make_process_private, private_dir

    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()), static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=None,  # the submission endpoint enforces its own advertised limit
        SAHAKUM=settings,
    )
    if overrides:
        app.config.update(overrides)
    configure_logging(settings.log_level)
    make_process_private()
    from server.storage import ATTACHMENTS_DIR, make_store
    from server.sync.ingest import TMP_DIR

    for folder in (ATTACHMENTS_DIR, TMP_DIR):
        private_dir(settings.data_dir / folder)
    app.extensions["sahakum_db"] = Database(settings.database_url)
    app.extensions["sahakum_files"] = make_store(settings.data_dir, settings.storage_url)
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
