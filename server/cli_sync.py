"""`sahakum sync ...` and `sahakum villages load`: merge pending submissions, seed the gazetteer."""

from __future__ import annotations

import click

from server.cli import Context, merger_nice_option, pass_ctx


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
@click.option("--loop", is_flag=True, help="Keep running: merge each submission as soon as it is stored.")
@click.option(
    "--interval",
    default=None,
    type=float,
    help="Seconds between looks when no wake-up came.  [default: 2 on PostgreSQL (woken at "
    "once by NOTIFY), 0.2 on SQLite]",
)
@click.option("--limit", default=100, show_default=True, type=int, help="Submissions per batch.")
@click.option("--parent-pid", default=None, type=int, hidden=True)
@merger_nice_option("--nice", "With --loop: how much lower the merger's CPU priority is than the app's.")
@pass_ctx
def sync_run(
    ctx: Context, loop: bool, interval: float | None, limit: int, parent_pid: int | None, nice: int | None
) -> None:
    """Merge pending submissions once, or keep merging with --loop (several may run at once)."""
    from server.sync.worker import process_pending

    if not loop:
        click.echo(_report(process_pending(ctx.db, limit)))
        return
    import signal
    import threading

    from server.sync.merger import MERGER_NICE, SAFETY_POLL, SQLITE_POLL, run_merger

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    poll = interval if interval is not None else (SQLITE_POLL if ctx.db.is_sqlite else SAFETY_POLL)
    stats = run_merger(
        ctx.db, stop, batch=limit, poll=poll, parent_pid=parent_pid,
        nice=MERGER_NICE if nice is None else nice,
        # Started by `serve` (parent_pid): quiet, failures are logged by the worker anyway.
        on_batch=None if parent_pid else (lambda result: click.echo(_report(result))),
    )
    click.echo(f"merger stopped: merged {stats.merged}, failed {stats.failed}")


@sync.command("rekey")
@click.option("--batch", default=500, show_default=True, type=int, help="Members per transaction.")
@pass_ctx
def sync_rekey(ctx: Context, batch: int) -> None:
    """Recompute every member's blocking keys and birth-year bounds (after a matcher change)."""
    from server.sync.rekey import rekey_members

    after = None
    members = changed = 0
    while True:
        with ctx.db.transaction() as session:
            done = rekey_members(session, after, batch)
        members += done.members
        changed += done.bounds_changed
        if done.last_id is None or done.members < batch:
            break
        after = done.last_id
    click.echo(f"members re-keyed: {members}, birth-year bounds changed: {changed}")


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
