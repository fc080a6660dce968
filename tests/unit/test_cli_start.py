"""`sahakum --help` and commands that do not touch the database start fast (issue 10)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli__loads_neither_sqlalchemy_nor_flask() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, server.cli; "
         "print(sorted(m for m in ('sqlalchemy', 'flask', 'lxml', 'pyxform') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "[]"


def test_help__lists_the_commands_without_a_database() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server", "--help"], capture_output=True, text=True, check=True,
        env={"SAHAKUM_DATABASE_URL": "not a url", "PATH": ""},
    )
    for command in ("serve", "sync", "collectors", "staff", "forms", "db"):
        assert command in out.stdout
