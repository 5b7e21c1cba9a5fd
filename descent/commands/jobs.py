"""``descent submit``, ``jobs``, ``history``, ``cancel`` and ``predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from descent.client import Client, Job
from descent.commands import render
from descent.commands.common import (
    DEFAULT,
    ApiKeyOption,
    UrlOption,
    connect,
    console,
    errors,
    fail,
    load_document,
    number,
)
from descent.watch import JobSource, stream_job

WatchOption = Annotated[
    bool, typer.Option("--watch", "-w", help="Follow it live until it ends, then summarise.")
]


def submit(
    spec_file: Annotated[Path, typer.Argument(help="A job spec, YAML or JSON.")],
    watch: WatchOption = False,
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """Submit a training job; with --watch, show a live progress bar, then a summary."""
    spec = load_document(spec_file)
    with connect(url, api_key) as client:
        job = client.submit_job(spec)
        console.print(f"submitted job {job.id} ({job.name or 'unnamed'}): {job.status}")
        if not watch:
            console.print(f"follow it with: descent history {job.id}")
            return
        final = follow(client, job)
    if final.status != "succeeded":
        raise typer.Exit(1)


def follow(client: Client, job: Job, source: JobSource = stream_job) -> Job:
    """Print each epoch as it is recorded under a live bar of epochs done; return the end.
    Ctrl-C stops watching; the job carries on."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("epochs"), TimeElapsedColumn(), console=console, transient=True,
    )  # fmt: skip
    task = progress.add_task(job.status, total=job.epochs)
    status, epochs = job.status, []
    try:
        with progress:
            for update in source(client, job.id):
                job, epochs = update.job, update.epochs
                if job.status != status:
                    progress.console.print(render.status_line(job.status, before=status))
                    status = job.status
                if update.recorded is not None:
                    line = render.epoch_line(update.recorded, job.epochs, rerun=update.rerun)
                    progress.console.print(line)
                done = max((e.epoch for e in epochs), default=0)
                progress.update(task, completed=done, description=render.status(status))
    except KeyboardInterrupt:
        errors.print(
            f"stopped watching job {job.id}; it carries on on the server "
            f"(descent history {job.id} to see it, descent cancel {job.id} to stop it)"
        )
        raise typer.Exit(130) from None
    console.print(render.job_summary(job, epochs))
    if job.model_id:
        console.print(f"predict with: descent predict {job.model_id} image.png")
    return job


def jobs(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """List jobs, newest first."""
    with connect(url, api_key) as client:
        page = client.list_jobs(limit=limit, offset=offset)
    console.print(render.jobs_table(page.items, page.total))


def history(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    plot: Annotated[
        Path | None, typer.Option(help="Also draw the learning curves into this PNG file.")
    ] = None,
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """A job's epochs as a table (epoch 0 is the untrained model); --plot draws the curves."""
    with connect(url, api_key) as client:
        found = client.history(job_id)
    console.print(render.history_table(job_id, found.epochs))
    if plot is not None:
        from descent.commands.plots import plot_history

        plot_history(found, plot)
        console.print(f"learning curves written to {plot}")


def cancel(
    target_id: Annotated[str, typer.Argument(metavar="ID", help="A job's id (or a batch's).")],
    batch: Annotated[bool, typer.Option("--batch", help="ID is a batch: cancel it.")] = False,
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """Cancel a job, or with --batch every job of a batch that has not finished."""
    with connect(url, api_key) as client:
        if batch:
            found = client.cancel_batch(target_id)
            console.print(render.batch_table(found))
            if found.counts.get("cancelling"):
                console.print("running jobs stop after their current batch; no new job starts")
            return
        job = client.cancel_job(target_id)
    console.print(f"job {job.id}: {render.status(job.status)}")


def predict(
    model_id: Annotated[str, typer.Argument(metavar="MODEL", help="The model's id.")],
    images: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Image files (PNG, JPEG, GIF, ...).")
    ],
    url: UrlOption = DEFAULT,
    api_key: ApiKeyOption = None,
) -> None:
    """Classify image files. They are sent as they are; the server converts each one (grayscale,
    28×28, framed and inverted like MNIST where the model needs it), as for every upload."""
    files = []
    for path in images:
        try:
            files.append((str(path), path.read_bytes()))
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror or exc}")
    with connect(url, api_key) as client:
        model = client.get_model(model_id)
        predictions = client.predict_files(model_id, files)
    table = Table(title=f"model {model_id} ({model.dataset})", title_justify="left")
    for column in ("image", "label", "probability", "runner-up"):
        table.add_column(column)
    for path, prediction in zip(images, predictions, strict=True):
        ranked = sorted(enumerate(prediction.probabilities), key=lambda p: -p[1])
        second = ranked[1] if len(ranked) > 1 else None
        table.add_row(
            str(path), prediction.label, number(prediction.probabilities[prediction.class_index]),
            f"{model.class_names[second[0]]} ({number(second[1])})" if second else "—",
        )  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    for command in (submit, jobs, history, cancel, predict):
        app.command()(command)
