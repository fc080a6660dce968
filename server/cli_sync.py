"""`sahakum sync ...` and `sahakum villages load`: merge pending submissions, seed the gazetteer."""

from __future__ import annotations

import time

import click

from server.cli import Context, pass_ctx


@click.group()
def sync() -> None:
    """Merge stored submissions into the case database."""


def _report(result: object) -> str:
    merged = len(getattr(result, "merged", []))
    failed = len(getattr(result, "failed", []))
    skipped = len(getattr(result, "skipped", []))
    return f"merged {merged}, failed {failed}, skipped {skipped}"


@sync.command("retry")
@click.option("--limit", default=1000, show_default=True, type=int)
@pass_ctx
def sync_retry(ctx: Context, limit: int) -> None:
    """Merge every submission that is received or merge_failed (oldest first)."""
    from server.sync.worker import process_pending

    result = process_pending(ctx.db, limit)
    click.echo(_report(result))
    if result.failed:
        raise SystemExit(1)


@sync.command("run")
@click.option("--loop", is_flag=True, help="Keep running, polling for new submissions.")
@click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between polls.")
@click.option("--limit", default=100, show_default=True, type=int, help="Submissions per batch.")
@pass_ctx
def sync_run(ctx: Context, loop: bool, interval: float, limit: int) -> None:
    """Merge pending submissions once, or forever with --loop (several may run at once)."""
    from server.sync.worker import process_pending

    while True:
        result = process_pending(ctx.db, limit)
        if result.merged or result.failed or not loop:
            click.echo(_report(result))
        if not loop:
            return
        time.sleep(interval)


@click.group()
def villages() -> None:
    """The gazetteer villages table."""


@villages.command("load")
@pass_ctx
def villages_load(ctx: Context) -> None:
    """Load (or update) the villages table from the bundled 2025 MEF gazetteer."""
    from server.sync.villages import load_villages

    with ctx.db.transaction() as session:
        counts = load_villages(session)
    click.echo(f"villages: {counts['added']} added, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged")
