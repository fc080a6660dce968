"""How `sahakum serve` runs gunicorn without leaking anything onto the host: no version banner,
no control socket or heartbeat files in shared folders (home, /tmp), owner-only files."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Container
from pathlib import Path
from typing import Any

from server.config import Settings
from server.db.health import database_state
from server.db.session import Database
from server.private_files import PRIVATE_UMASK, private_dir

SERVER_HEADER = "sahakum"
def private_gunicorn_settings(instance_dir: Path, known_settings: Container[str]) -> dict[str, Any]:
    """gunicorn settings that keep its files in the instance folder (0700)."""
    run_dir = private_dir(instance_dir / "run")
    cfg: dict[str, Any] = {"worker_tmp_dir": str(run_dir), "umask": PRIVATE_UMASK}
    if "control_socket_disable" in known_settings:
        # gunicorn >= 25 opens a control socket in $XDG_RUNTIME_DIR or ~/.gunicorn/, shared by
        # every gunicorn of the user on the host; Sahakum does not use it.
        cfg["control_socket_disable"] = True
    return cfg


def hide_server_version() -> None:
    """gunicorn writes `Server: gunicorn` on every reply and has no setting for it; the module
    constant is what each Response reads."""
    import gunicorn.http.wsgi

    gunicorn.http.wsgi.SERVER = SERVER_HEADER  # type: ignore[attr-defined]


def enable_multiprocess_metrics(settings: Settings) -> Settings:
    """Let the workers' Prometheus counters add up (prometheus_client multi-process mode).

    prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, which happens
    in each worker after this; the folder is emptied so counts restart with the server."""
    metrics_dir = private_dir(settings.instance_dir / "run" / "metrics")
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return dataclasses.replace(settings, metrics_dir=metrics_dir)


class NotReadyToServe(Exception):
    """The database cannot be used; the message is one line naming SAHAKUM_DATABASE_URL."""


def prepare_to_serve(db: Database, settings: Settings) -> Settings:
    """Refuse to start on a database that is unreachable or not migrated (every request would
    be a 500), then set the process up for gunicorn. Returns the settings the workers use."""
    state = database_state(db.engine, settings.database_url)
    if not state.ready:
        raise NotReadyToServe(f"{state.problem} (not starting)")
    hide_server_version()
    return enable_multiprocess_metrics(settings)
