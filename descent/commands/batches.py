"""``descent batch`` (submit a batch or sweep file), ``batch-status`` and ``batches list|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from descent.client import Batch, Client
from descent.commands import render
from descent.commands.common import (
    ApiKeyFileOption,
    ApiKeyOption,
    Output,
    OutputOption,
    ProfileOption,
    UrlOption,
    connect,
    emit,
    errors,
    load_document,
    number,
    say,
)
from descent.exit_codes import ExitCode
from descent.watch import poll_batch

batches_app = typer.Typer(help="Batches: list them, or show one.", no_args_is_help=True)
BatchIdArgument = Annotated[str, typer.Argument(metavar="ID", help="The batch's id.")]

WatchOption = Annotated[
    bool, typer.Option("--watch", "-w", help="Follow it in a live table until every job ends.")
]
MetricOption = Annotated[
    str | None,
    typer.Option(help="Rank by this metric (default val_loss; e.g. val_accuracy, loss)."),
]
PlotOption = Annotated[
    Path | None, typer.Option(help="Draw every job's curve of the metric into this PNG file.")
]


def batch(
    batch_file: Annotated[Path, typer.Argument(help="A batch or sweep, YAML or JSON.")],
    watch: WatchOption = False,
    metric: MetricOption = None,
    plot: PlotOption = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Submit many jobs at once: a list of specs, or a base spec with fields to vary.

    The exit status of a watched batch says how it ended (1 a job failed, 4 cancelled)."""
    body = load_document(batch_file)
    out = say(output)
    with connect(url, api_key, api_key_file, profile) as client:
        submitted = client.submit_batch(body)
        out.print(
            f"submitted batch {submitted.id} ({submitted.name or 'unnamed'}): {submitted.size} "
            f"jobs, at most {submitted.max_parallel} at a time"
        )
        if not watch:
            out.print(f"follow it with: descent batch-status {submitted.id} --watch")
            emit(output, submitted)
            return
        final = follow(client, submitted, metric, output)
        _report(final, plot, output)
    raise typer.Exit(ExitCode.for_status(final.status))


def batch_status(
    batch_id: Annotated[str, typer.Argument(help="The batch's id.")],
    watch: WatchOption = False,
    metric: MetricOption = None,
    plot: PlotOption = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """A batch's jobs and its leaderboard; --watch follows it until every job ends."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.get_batch(batch_id, metric=metric)
        if watch and not found.finished:
            found = follow(client, found, metric, output)
        _report(found, plot, output)
    if watch:
        raise typer.Exit(ExitCode.for_status(found.status))


def list_batches(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Batches, newest first, with their status and how many of their jobs are done."""
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_batches(limit=limit, offset=offset, every=every)
    emit(output, page, render.batches_table(page.items, page.total))


def show(
    batch_id: BatchIdArgument,
    metric: MetricOption = None,
    plot: PlotOption = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """A batch's jobs and its leaderboard (as batch-status, without --watch)."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.get_batch(batch_id, metric=metric)
    _report(found, plot, output)


def follow(client: Client, batch: Batch, metric: str | None, output: Output) -> Batch:
    """A live table of the batch's jobs; a line is printed whenever a job changes status.
    The batch is polled (it has no event stream of its own); Ctrl-C stops watching only."""
    statuses = {job.id: job.status for job in batch.jobs}
    try:
        live_table = Live(  # redrawn on each poll, not by a thread a Ctrl-C could strand
            render.batch_table(batch), console=say(output), transient=True, auto_refresh=False
        )
        with live_table as live:
            for current in poll_batch(client, batch.id, metric=metric):
                best = {row.job_id: row for row in current.leaderboard}
                for job in current.jobs:
                    if statuses.get(job.id) == job.status:
                        continue
                    statuses[job.id] = job.status
                    line = (
                        f"job {job.index} ({render.varied(job.varied) or job.name}): {job.status}"
                    )
                    if job.id in best:
                        row = best[job.id]
                        line += f", best {current.metric} {number(row.value)} at epoch {row.epoch}"
                    if job.error:
                        line += f": {job.error}"
                    live.console.print(line)
                live.update(render.batch_table(current), refresh=True)
                batch = current
    except KeyboardInterrupt:
        errors.print(
            f"stopped watching batch {batch.id}; its jobs carry on on the server (descent "
            f"batch-status {batch.id} --watch to follow again, descent cancel --batch "
            f"{batch.id} to stop them)"
        )
        raise typer.Exit(130) from None
    return batch


def _report(batch: Batch, plot: Path | None, output: Output) -> None:
    if output is Output.json:
        emit(output, batch)
    else:
        say(output).print(render.batch_table(batch))
        say(output).print(render.leaderboard_table(batch))
    if plot is not None:
        from descent.commands.plots import plot_curves

        plot_curves(batch, plot)
        say(output).print(f"curves of {batch.metric} written to {plot}")


def register(app: typer.Typer) -> None:
    app.command()(batch)
    app.command("batch-status")(batch_status)
    batches_app.command("list")(list_batches)
    batches_app.command("show")(show)
    app.add_typer(batches_app, name="batches")
