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


def test_subcommand_help__loads_neither_sqlalchemy_nor_flask() -> None:
    # click ends `--help` of a subcommand with an exception, which the group's error handler
    # sees first: it must not import SQLAlchemy to look at it.
    code = (
        "import sys\n"
        "from server.cli import main\n"
        "for args in (['sync', '--help'], ['forms', 'state', '--help'], ['db', '--help']):\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'flask', 'lxml') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"SAHAKUM_DATABASE_URL": "sqlite:///unused.sqlite3", "PATH": ""},
    )
    assert "Usage" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
