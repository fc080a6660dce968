"""`sahakum serve` (gunicorn and its merger processes) as a subprocess, for tests that need the
real production server: raw sockets, several app servers on one database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import requests

SAHAKUM = str(Path(sys.executable).parent / "sahakum")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, instance_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAHAKUM_")}
    return {
        **env,
        "SAHAKUM_DATABASE_URL": database_url,
        "SAHAKUM_INSTANCE_DIR": str(instance_dir),
        "SAHAKUM_LOG_LEVEL": "WARNING",
        "SAHAKUM_SECRET_KEY": "test-secret-key-0123456789",
        **extra,
    }


def wait_until_up(base: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout  # workers boot slowly on a busy machine
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or no worker booted yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} did not start within {timeout}s")


@contextmanager
def serving_all(
    envs: Sequence[Mapping[str, str]], *, workers: int = 1, threads: int = 4, mergers: int = 0,
    logs: Sequence[Path | None] | None = None,
) -> Iterator[list[str]]:
    """Start one `sahakum serve` per environment, all at once (they boot side by side), on
    free ports; yields their base URLs once all answer; stops them and their mergers."""
    procs: list[subprocess.Popen[bytes]] = []
    outs: list[IO[bytes]] = []
    bases = []
    try:
        for env, log in zip(envs, logs or [None] * len(envs), strict=True):
            port = free_port()
            out = open(log, "ab") if log else open(os.devnull, "wb")  # noqa: SIM115 - closed below
            outs.append(out)
            procs.append(subprocess.Popen(
                [SAHAKUM, "serve", "--port", str(port), "--workers", str(workers), "--threads",
                 str(threads), "--mergers", str(mergers)],
                env=dict(env), stdout=out, stderr=out,
            ))
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            wait_until_up(base)
        yield bases
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for out in outs:
            out.close()


@contextmanager
def serving(
    env: Mapping[str, str], *, workers: int = 1, threads: int = 4, mergers: int = 0,
    log: Path | None = None,
) -> Iterator[str]:
    """Start `sahakum serve` on a free port; yields its base URL; stops it and its mergers."""
    with serving_all([env], workers=workers, threads=threads, mergers=mergers, logs=[log]) as bases:
        yield bases[0]
