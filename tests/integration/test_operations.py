"""What an operator meets: private files whatever the umask, one-line database errors for every
command, `serve` refusing a database it cannot use, gunicorn leaving nothing in shared places,
and the headers every reply carries."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from server import create_app
from server.accounts.collectors import create_collector
from server.cli import main
from server.config import load_settings
from server.xforms.compile import CompiledForm
from server.xforms.publish import FORMS_DIR, publish_compiled
from tests.support.collect import CollectClient
from tests.support.instances import build_instance

REPO = Path(__file__).resolve().parents[2]
SAHAKUM = [str(Path(sys.executable).parent / "sahakum")]
UNREACHABLE_PG = "postgresql://sahakum:hunter2-secret@127.0.0.1:1/sahakum"


@pytest.fixture
def careless_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


@pytest.mark.dbless  # uses its own SQLite database, whatever the pass
def test_database_attachments_qr_codes_and_folders_are_owner_only_under_umask_022(
    tmp_path: Path, careless_umask: None, compiled_forms: dict[str, CompiledForm]
) -> None:
    instance = tmp_path / "instance"
    env = {"SAHAKUM_INSTANCE_DIR": str(instance), "SAHAKUM_DATABASE_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    os.umask(0o022)  # the command made this process private: start the server side careless too
    settings = load_settings(env={"SAHAKUM_INSTANCE_DIR": str(instance)})
    app = create_app(settings, {"TESTING": True})
    db = app.extensions["sahakum_db"]
    with db.transaction() as s:
        for compiled in compiled_forms.values():
            publish_compiled(s, compiled, FORMS_DIR / "media")
        _, token = create_collector(s, "PE07", "peer_educator", "180101")
    collect = CollectClient(app.test_client(), f"http://localhost/v1/key/{token}")
    entry = next(e for e in collect.form_list() if e.form_id == "workplace_visit")
    media = {m.filename: collect.download_media(m) for m in collect.manifest(entry)}
    xml = build_instance(collect.download_form(entry), media=media, answers={"note": "a.jpg"})
    assert collect.submit(xml, {"a.jpg": b"photo"})[-1].status_code == 201
    result = runner.invoke(
        main, ["collectors", "add", "PE08", "--role", "peer_educator", "--communes", "180101"], env=env
    )
    assert result.exit_code == 0, result.output

    found = modes(instance)
    assert {"sahakum.sqlite3", "sahakum.sqlite3-wal", "sahakum.sqlite3-shm", "secret_key"} <= set(found)
    assert any(name.startswith("data/attachments/") for name in found)
    assert any(name.startswith("qr/") for name in found)
    for name, mode in found.items():
        private = 0o700 if (instance / name).is_dir() else 0o600
        assert mode == private, f"{name} is {oct(mode)}"
    db.dispose()


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == "sahakum, version 0.1.0"


@pytest.mark.dbless
@pytest.mark.parametrize(
    "command",
    [
        ["forms", "list"],
        ["forms", "publish"],
        ["collectors", "list"],
        ["collectors", "add", "PE09", "--role", "peer_educator", "--communes", "180101"],
        ["staff", "list"],
        ["staff", "add", "ops", "--role", "me"],
        ["sync", "retry"],
        ["villages", "load"],
        ["db", "upgrade"],
        ["serve", "--port", "1"],
    ],
)
def test_unreachable_database__one_line_naming_the_variable_without_password(
    tmp_path: Path, command: list[str]
) -> None:
    env = {"SAHAKUM_INSTANCE_DIR": str(tmp_path), "SAHAKUM_DATABASE_URL": UNREACHABLE_PG}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "SAHAKUM_DATABASE_URL" in lines[0]
    assert "cannot connect" in lines[0]
    assert "hunter2" not in result.output


@pytest.mark.dbless
@pytest.mark.parametrize("command", [["forms", "list"], ["staff", "list"], ["serve", "--port", "1"]])
def test_database_without_tables__one_line_saying_to_upgrade(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, command, env={"SAHAKUM_INSTANCE_DIR": str(tmp_path)})
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "SAHAKUM_DATABASE_URL" in lines[0] and "sahakum db upgrade" in lines[0]


@pytest.mark.dbless
def test_serve_refuses_a_database_behind_the_newest_migration(tmp_path: Path) -> None:
    env = {"SAHAKUM_INSTANCE_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "0002"], env=env).exit_code == 0
    result = runner.invoke(main, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 1
    assert "is at migration 0002" in result.output and "not starting" in result.output


@pytest.mark.dbless
def test_collectors_add__without_public_address_warns_it_only_works_here__and_replace_says_so(
    tmp_path: Path,
) -> None:
    env = {"SAHAKUM_INSTANCE_DIR": str(tmp_path), "SAHAKUM_BASE_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    first = runner.invoke(
        main, ["collectors", "add", "PE07", "--role", "peer_educator", "--communes", "180101"], env=env
    )
    assert first.exit_code == 0
    assert "only works on this machine" in first.stderr
    assert "SAHAKUM_BASE_URL" in first.stderr
    assert "PE07 (peer_educator) created" in first.stdout
    again = runner.invoke(
        main,
        ["collectors", "add", "PE07", "--role", "peer_educator", "--replace",
         "--base-url", "https://sahakum.example.org"],
        env=env,
    )
    assert again.exit_code == 0
    assert "replaced" in again.stdout and "created" not in again.stdout
    assert "only works on this machine" not in again.stderr


def test_bin_demo_help_explains_itself_and_starts_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "SAHAKUM_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHON": "false"}
    result = subprocess.run([REPO / "bin" / "demo", "--help"], capture_output=True, text=True,
                            env=env, timeout=30, check=False)
    assert result.returncode == 0
    assert "Usage: bin/demo" in result.stdout and "--port" in result.stdout
    assert not (tmp_path / "instance").exists()
    bad = subprocess.run([REPO / "bin" / "demo", "--port", "eighty"], capture_output=True, text=True,
                         env=env, timeout=30, check=False)
    assert bad.returncode == 2 and "port" in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.dbless
def test_serve__neutral_server_header_and_nothing_in_home_or_shared_folders(tmp_path: Path) -> None:
    home, instance = tmp_path / "home", tmp_path / "instance"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAHAKUM_", "XDG_"))}
    env |= {"HOME": str(home), "SAHAKUM_INSTANCE_DIR": str(instance), "PYTHONPATH": str(REPO)}
    subprocess.run([*SAHAKUM, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [*SAHAKUM, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: os.umask(0o022),
    )
    try:
        response = None
        deadline = time.monotonic() + 120  # workers boot slowly on a busy machine
        while response is None and time.monotonic() < deadline:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/v1/members", timeout=30)
            except requests.RequestException:  # not listening yet, or no worker booted yet
                time.sleep(0.3)
        assert response is not None, "server did not start"
        assert response.status_code == 401
        assert response.headers["Server"] == "sahakum"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert list(home.iterdir()) == []  # no ~/.gunicorn control socket
        assert stat.S_IMODE((instance / "run").stat().st_mode) == 0o700
        # Both workers' counters add up in /metrics (prometheus_client multi-process mode).
        for _ in range(6):
            bad = requests.post(f"http://127.0.0.1:{port}/v1/key/{'x' * 43}/submission", timeout=30,
                                headers={"X-OpenRosa-Version": "1.0", "Connection": "close"})
            assert bad.status_code == 403
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        assert 'sahakum_submissions_received_total{status="403"} 6.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
