from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_settings


def test_defaults__sqlite_in_instance_folder(tmp_path: Path) -> None:
    s = load_settings({}, instance_dir=tmp_path)
    assert s.database_url == f"sqlite:///{(tmp_path / 'sahakum.sqlite3').resolve()}"
    assert s.data_dir == tmp_path / "data"
    assert s.base_url is None
    assert len(s.secret_key) >= 32
    # The generated key is kept, so every worker process and restart agrees on it.
    assert load_settings({}, instance_dir=tmp_path).secret_key == s.secret_key


def test_postgresql_url__uses_psycopg3(tmp_path: Path) -> None:
    s = load_settings({"SAHAKUM_DATABASE_URL": "postgresql://u@h/db"}, instance_dir=tmp_path)
    assert s.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SAHAKUM_DATABASE_URL": "mysql://x"}, "SAHAKUM_DATABASE_URL"),
        ({"SAHAKUM_DATABASE_URL": "not a url"}, "SAHAKUM_DATABASE_URL"),
        ({"SAHAKUM_BASE_URL": "ftp://x"}, "SAHAKUM_BASE_URL"),
        ({"SAHAKUM_SECRET_KEY": "short"}, "SAHAKUM_SECRET_KEY"),
        ({"SAHAKUM_MAX_SUBMISSION_BYTES": "lots"}, "SAHAKUM_MAX_SUBMISSION_BYTES"),
    ],
)
def test_bad_configuration__one_line_message_naming_the_variable(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env, instance_dir=tmp_path)
    message = str(info.value)
    assert variable in message and "\n" not in message


def test_cli__bad_configuration_stops_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from server.cli import main

    env = {"SAHAKUM_INSTANCE_DIR": str(tmp_path), "SAHAKUM_DATABASE_URL": "mysql://db/x"}
    result = CliRunner().invoke(main, ["serve", "--port", "8799"], env=env)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "SAHAKUM_DATABASE_URL" in result.output
