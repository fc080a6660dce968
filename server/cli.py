"""The `sahakum` command. Each command owns its transaction; domain code only flushes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from server import errors
from server.db.enums import FormState
from server.private_files import make_process_private

# Commands import what they use when they run: `sahakum --help` and commands that never touch
# the database start without loading SQLAlchemy, Flask or the models (issue 10: under 0.5 s).
if TYPE_CHECKING:
    from server.config import Settings
    from server.db.session import Database


class Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from server.config import ConfigError, load_settings

            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            from server.db.session import Database

            self._db = Database(self.settings.database_url)
        return self._db


pass_ctx = click.make_pass_decorator(Context, ensure=True)


class _LazyGroup(click.Group):
    """Command groups whose modules load heavy libraries at import (the demo loads the models
    and the web app) are imported only when one of their commands runs; `--help` lists them
    from the short help kept here."""

    lazy: ClassVar[dict[str, tuple[str, str, str]]] = {
        "demo": ("server.cli_demo", "demo", "Fictional sample data for trying Sahakum (never for a..."),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr, _ = self.lazy[cmd_name]
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][2]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Every command: a database that cannot be used is one line naming SAHAKUM_DATABASE_URL."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # Only a command that imported SQLAlchemy can raise its errors. Importing it here
            # for any exception cost a second: click ends `sahakum sync --help` with one (Exit).
            sa_errors = sys.modules.get("sqlalchemy.exc")
            if sa_errors is None or not isinstance(exc, sa_errors.DBAPIError):
                raise
            from server.db.health import describe_database_error

            url = ctx.ensure_object(Context).settings.database_url
            raise click.ClickException(describe_database_error(exc, url)) from None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sahakum", prog_name="sahakum")
def main() -> None:
    """Sahakum: the server behind ODK Collect for KWCD's anti-trafficking network."""
    make_process_private()  # everything a command writes holds or guards personal data


# --- serve ----------------------------------------------------------------------------------
def _default_workers() -> int:
    # The request path is CPU-bound Python (one GIL per process): processes, not threads,
    # use the cores; two per core cover the time each spends waiting on the database.
    return 2 * (os.cpu_count() or 1)


def serve_app(
    settings: Settings, *, merge_after_reply: bool = False, sweep_interval: float | None = 30.0
) -> Any:
    """The WSGI app `serve` runs. By default it only stores submissions and answers: merger
    processes (MergerPool, or `sahakum sync run --loop` elsewhere) merge them. The old mode,
    `merge_after_reply`, merges in the web process after each 201 and sweeps now and then for
    what its hooks missed (a failed merge, a process killed between the 201 and the merge)."""
    from server import create_app
    from server.api.health import EXPECT_MERGERS
    from server.sync.merger import Notifier
    from server.sync.worker import Sweeper, merge_hook

    app = create_app(settings)
    app.config[EXPECT_MERGERS] = not merge_after_reply
    if not merge_after_reply:
        hooks = app.extensions["sahakum_after_submission"]
        hooks.remove(merge_hook)
        if not settings.is_sqlite:  # SQLite mergers poll; PostgreSQL ones are woken
            hooks.append(Notifier(settings.database_url))
    elif sweep_interval:
        app.extensions["sahakum_sweeper"] = Sweeper(
            app.extensions["sahakum_db"], interval=sweep_interval
        ).start()
    return app


def _default_mergers(settings: Settings) -> int:
    # SQLite has one writer: a second merger would only wait for the first.
    return 1 if settings.is_sqlite else 2


def merger_nice_option(name: str, what: str) -> Any:
    """The niceness option of every command that starts or is a merger (the value goes to
    `run_merger`, which applies it; None: its default)."""
    return click.option(name, default=None, type=click.IntRange(min=0, max=19),
                        help=f"{what} 0: the same.  [default: 10]")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=None, type=int, help="Processes.  [default: 2 x CPU cores]"
)
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
@click.option(
    "--mergers",
    default=None,
    type=click.IntRange(min=0),
    help="Merger processes to start and keep running beside the web processes. 0: none (run "
    "`sahakum sync run --loop` elsewhere).  [default: 2 on PostgreSQL, 1 on SQLite]",
)
@click.option(
    "--merge-after-reply/--no-merge-after-reply",
    default=False,
    show_default=True,
    help="Also merge each new submission in the web process right after its 201 (the old "
    "mode: intake then shares the CPU with merging).",
)
@merger_nice_option("--merger-nice", "How much lower the mergers' CPU priority is than the web workers'.")
@pass_ctx
def serve(
    ctx: Context, host: str, port: int, workers: int | None, threads: int, mergers: int | None,
    merge_after_reply: bool, merger_nice: int | None,
) -> None:
    """Run Sahakum under gunicorn (the production WSGI server) and its merger processes."""
    from gunicorn.app.base import BaseApplication

    from server.serving import NotReadyToServe, prepare_to_serve, private_gunicorn_settings
    from server.sync.merger import MERGER_NICE, MergerPool, merger_command

    try:
        settings = prepare_to_serve(ctx.db, ctx.settings)
    except NotReadyToServe as exc:
        raise click.ClickException(str(exc)) from None
    workers = workers or _default_workers()
    mergers = _default_mergers(settings) if mergers is None else mergers

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            cfg: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                # Slow 3G uploads of large attachments need time; Collect itself waits 60 s.
                "timeout": 300,
                "graceful_timeout": 30,
                # Default gunicorn access logs print the full URL: the collector token is in it.
                "accesslog": None,
                "errorlog": "-",
            }
            cfg.update(private_gunicorn_settings(settings.instance_dir, self.cfg.settings))
            for key, value in cfg.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return serve_app(settings, merge_after_reply=merge_after_reply)

    if mergers:
        mode = f"{mergers} merger process{'es' if mergers > 1 else ''}"
    elif merge_after_reply:
        mode = "merging after each reply"
    else:
        mode = "NOT merging: run `sahakum sync run --loop` beside it"
    click.echo(f"Sahakum listening on http://{host}:{port} ({workers} x {threads} threads, {mode})")
    command = merger_command(os.getpid(), MERGER_NICE if merger_nice is None else merger_nice)
    pool = MergerPool(mergers, command).start() if mergers else None
    try:
        _App().run()
    finally:
        if pool is not None:
            pool.stop()


# --- db -------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    from server.db import migrate
    from server.private_files import private_dir

    if ctx.settings.is_sqlite:
        private_dir(ctx.settings.instance_dir)
    migrate.upgrade(ctx.settings.database_url, revision)
    click.echo("database is up to date")


@db.command("check")
@pass_ctx
def db_check(ctx: Context) -> None:
    """Fail if the models and the migrations disagree (alembic check)."""
    from alembic.util.exc import CommandError

    from server.db import migrate

    try:
        migrate.check(ctx.settings.database_url)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("models and migrations agree")


# --- forms ----------------------------------------------------------------------------------
@main.group()
def forms() -> None:
    """Publish and list the programme's XLSForms."""


@forms.command("publish")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--media",
    "media_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the forms' media files (default: media/ beside each form).",
)
@pass_ctx
def forms_publish(ctx: Context, paths: tuple[Path, ...], media_dir: Path | None) -> None:
    """Compile and publish PATHS (default: every XLSForm in forms/)."""
    from server.xforms.publish import default_form_paths, publish_xlsform

    targets = list(paths) or default_form_paths()
    if not targets:
        raise click.ClickException("no XLSForms to publish")
    failed = False
    for path in targets:
        # One transaction per form: a refused form leaves the others published.
        try:
            with ctx.db.transaction() as session:
                result = publish_xlsform(session, path, media_dir)
        except errors.SahakumError as exc:
            click.echo(f"refused  {path.name}: {exc.detail_message}", err=True)
            failed = True
            continue
        click.echo(f"{result.status.value:<13} {result.xml_form_id} version {result.version}")
    if failed:
        sys.exit(1)


@forms.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def forms_list(ctx: Context, as_json: bool) -> None:
    """List published forms, their state and versions."""
    from sqlalchemy import select

    from server.db.models import Form

    with ctx.db.transaction() as session:
        rows = [
            {
                "form_id": f.xml_form_id,
                "title": f.title,
                "state": f.state.value,
                "roles": f.roles.split(),
                "versions": [v.version for v in f.versions],
            }
            for f in session.scalars(select(Form).order_by(Form.xml_form_id))
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['form_id']:<18} {row['state']:<8} current {row['versions'][-1]:<12} "
            f"({len(row['versions'])} versions) for {', '.join(row['roles']) or '-'}"
        )


@forms.command("state")
@click.argument("form_id")
@click.argument("state", type=click.Choice([s.value for s in FormState]))
@pass_ctx
def forms_state(ctx: Context, form_id: str, state: str) -> None:
    """Set a form open, closing (accepts submissions, hidden from phones) or closed."""
    from server.xforms.publish import set_form_state

    try:
        with ctx.db.transaction() as session:
            set_form_state(session, form_id, FormState(state))
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    click.echo(f"{form_id} is now {state}")


from server.cli_collectors import collectors  # noqa: E402

main.add_command(collectors)

from server.cli_sync import sync, villages  # noqa: E402  (needs `main` and `Context` above)

for _group in (sync, villages):
    main.add_command(_group)

from server.cli_staff import staff  # noqa: E402

main.add_command(staff)


from server.cli_backup import backup  # noqa: E402

main.add_command(backup)

from server.cli_reports import export, import_command, import_undo_command, report  # noqa: E402

for _command in (import_command, import_undo_command, report, export):
    main.add_command(_command)

if __name__ == "__main__":
    main()
