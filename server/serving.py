"""How `sahakum serve` runs gunicorn without leaking anything onto the host: no version banner,
no control socket or heartbeat files in shared folders (home, /tmp), owner-only files."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import Any

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
