"""The only module that reads ``os.environ``: every SAHAKUM_* setting is decided here."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from server.private_files import private_dir

DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"
# Collect splits uploads to fit this budget (protocol.md 1.6); Central advertises 100 MB too.
DEFAULT_MAX_SUBMISSION_BYTES = 100_000_000
DEFAULT_MERGE_LAG_LIMIT_S = 600


class ConfigError(Exception):
    """Bad configuration; the message is one line that names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str
    base_url: str | None
    max_submission_bytes: int
    instance_dir: Path
    log_level: str = "INFO"
    # Bearer token for /metrics; without one /metrics answers only direct local requests.
    metrics_token: str | None = None
    # /readyz reports the merger stalled when a submission waits longer than this to be merged.
    merge_lag_limit_s: int = DEFAULT_MERGE_LAG_LIMIT_S
    # prometheus_client's multi-process folder (set by `sahakum serve` for its workers).
    metrics_dir: Path | None = None
    # s3://bucket/prefix: attachments in S3-compatible object storage; None: in data_dir.
    storage_url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ConfigError(f"SAHAKUM_DATABASE_URL is not a database URL: {exc}") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"SAHAKUM_DATABASE_URL must be a sqlite:// or postgresql:// URL, not {url.get_backend_name()!r}"
        )
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return value


def _check_base_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(f"SAHAKUM_BASE_URL must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None, instance_dir: Path | None = None) -> Settings:
    """Read and validate the environment once, at start-up."""
    env = os.environ if env is None else env
    instance = Path(env.get("SAHAKUM_INSTANCE_DIR") or instance_dir or DEFAULT_INSTANCE_DIR)
    db_default = f"sqlite:///{(instance / 'sahakum.sqlite3').resolve()}"
    database_url = _check_database_url(env.get("SAHAKUM_DATABASE_URL") or db_default)
    data_dir = Path(env.get("SAHAKUM_DATA_DIR") or instance / "data")
    secret_key = env.get("SAHAKUM_SECRET_KEY") or ""
    if secret_key and len(secret_key) < 16:
        raise ConfigError("SAHAKUM_SECRET_KEY must be at least 16 characters")
    base_url_raw = env.get("SAHAKUM_BASE_URL")
    base_url = _check_base_url(base_url_raw) if base_url_raw else None
    raw_max = env.get("SAHAKUM_MAX_SUBMISSION_BYTES") or str(DEFAULT_MAX_SUBMISSION_BYTES)
    try:
        max_bytes = int(raw_max)
    except ValueError:
        raise ConfigError(f"SAHAKUM_MAX_SUBMISSION_BYTES must be a whole number, got {raw_max!r}") from None
    if max_bytes < 1_000_000:
        raise ConfigError("SAHAKUM_MAX_SUBMISSION_BYTES must be at least 1000000")
    log_level = (env.get("SAHAKUM_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"SAHAKUM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secret_key or _instance_secret(instance),
        base_url=base_url,
        max_submission_bytes=max_bytes,
        instance_dir=instance,
        log_level=log_level,
        storage_url=_storage_url(env),
        **_monitoring_settings(env),
    )


def _storage_url(env: Mapping[str, str]) -> str | None:
    from server.storage import StorageUrlError, parse_storage_url

    value = env.get("SAHAKUM_STORAGE_URL") or None
    if value is not None:
        try:
            parse_storage_url(value)
        except StorageUrlError as exc:
            raise ConfigError(str(exc)) from None
    return value


def _monitoring_settings(env: Mapping[str, str]) -> dict[str, Any]:
    metrics_token = env.get("SAHAKUM_METRICS_TOKEN") or None
    if metrics_token is not None and len(metrics_token) < 16:
        raise ConfigError("SAHAKUM_METRICS_TOKEN must be at least 16 characters")
    raw_lag = env.get("SAHAKUM_MERGE_LAG_LIMIT") or str(DEFAULT_MERGE_LAG_LIMIT_S)
    if not raw_lag.isdigit() or int(raw_lag) < 1:
        raise ConfigError(f"SAHAKUM_MERGE_LAG_LIMIT must be a whole number of seconds, got {raw_lag!r}")
    metrics_dir = env.get("PROMETHEUS_MULTIPROC_DIR")
    return {
        "metrics_token": metrics_token,
        "merge_lag_limit_s": int(raw_lag),
        "metrics_dir": Path(metrics_dir) if metrics_dir else None,
    }


def _instance_secret(instance: Path) -> str:
    """A generated key kept in the instance folder, so a demo run needs no set-up and
    several worker processes on one machine agree on it."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        private_dir(instance)
        key = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker process won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
