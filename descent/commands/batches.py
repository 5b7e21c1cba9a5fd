"""``descent batch`` (submit a batch or sweep file) and ``descent batch-status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from descent.client import Batch, Client
from descent.commands import render
from descent.commands.common import (
    DEFAULT,
    ApiKeyOption,
    UrlOption,
    connect,
    console,
    errors,
    load_document,
    number,
)
from descent.watch import poll_batch

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
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """Submit many jobs at once: a list of specs, or a base spec with fields to vary."""
    body = load_document(batch_file)
    with connect(url, api_key) as client:
        submitted = client.submit_batch(body)
        console.print(
            f"submitted batch {submitted.id} ({submitted.name or 'unnamed'}): {submitted.size} "
            f"jobs, at most {submitted.max_parallel} at a time"
        )
        if not watch:
            console.print(f"follow it with: descent batch-status {submitted.id} --watch")
            return
        final = follow(client, submitted, metric)
        _report(final, plot)
    if final.status != "succeeded":
        raise typer.Exit(1)


def batch_status(
    batch_id: Annotated[str, typer.Argument(help="The batch's id.")],
    watch: WatchOption = False,
    metric: MetricOption = None,
    plot: PlotOption = None,
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """A batch's jobs and its leaderboard; --watch follows it until every job ends."""
    with connect(url, api_key) as client:
        found = client.get_batch(batch_id, metric=metric)
        if watch and not found.finished:
            found = follow(client, found, metric)
        _report(found, plot)


def follow(client: Client, batch: Batch, metric: str | None) -> Batch:
    """A live table of the batch's jobs; a line is printed whenever a job changes status.
    The batch is polled (it has no event stream of its own); Ctrl-C stops watching only."""
    statuses = {job.id: job.status for job in batch.jobs}
    try:
        with Live(render.batch_table(batch), console=console, transient=True) as live:
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
                live.update(render.batch_table(current))
                batch = current
    except KeyboardInterrupt:
        errors.print(
            f"stopped watching batch {batch.id}; its jobs carry on on the server (descent "
            f"batch-status {batch.id} --watch to follow again, descent cancel --batch "
            f"{batch.id} to stop them)"
        )
        raise typer.Exit(130) from None
    return batch


def _report(batch: Batch, plot: Path | None) -> None:
    console.print(render.batch_table(batch))
    console.print(render.leaderboard_table(batch))
    if plot is not None:
        from descent.commands.plots import plot_curves

        plot_curves(batch, plot)
        console.print(f"curves of {batch.metric} written to {plot}")


def register(app: typer.Typer) -> None:
    app.command()(batch)
    app.command("batch-status")(batch_status)
