"""`sahakum backup create|restore PATH`: see server/backup.py for what a backup holds."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli import Context, pass_ctx


@click.group()
def backup() -> None:
    """Back up the database, attachments and instance secret; restore them."""


@backup.command("create")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def backup_create(ctx: Context, path: Path) -> None:
    """Write a backup into the new folder PATH (owner-only; encrypt it before it leaves this
    machine: it holds every name and phone number)."""
    from server.backup import BackupError, create_backup

    try:
        summary = create_backup(ctx.settings, ctx.db, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"backup written to {summary.path}: {summary.database} (migration {summary.revision}) "
        f"and {summary.files - 1} other files, SHA-256 in manifest.json"
    )


@backup.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
def backup_restore(ctx: Context, path: Path) -> None:
    """Restore the backup in PATH into the empty database at SAHAKUM_DATABASE_URL and the data
    folder (every file is checked against the manifest first)."""
    from server.backup import BackupError, restore_backup

    try:
        summary = restore_backup(ctx.settings, ctx.db, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {summary.database} (migration {summary.revision}) and {summary.files} files")
    if summary.needs_upgrade:
        click.echo("the backup is from an older version: run `sahakum db upgrade` before serving")
