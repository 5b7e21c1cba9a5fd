"""``descent submit``, ``jobs [list|show]``, ``watch``, ``history``, ``validate``, ``cancel``
and ``predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from descent.client import Client, Job
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
    fail,
    load_document,
    number,
    say,
)
from descent.exit_codes import ExitCode
from descent.schemas import History
from descent.watch import JobSource, stream_job

WatchOption = Annotated[
    bool, typer.Option("--watch", "-w", help="Follow it live until it ends, then summarise.")
]
JobIdArgument = Annotated[str, typer.Argument(metavar="ID", help="The job's id.")]
SpecArgument = Annotated[Path, typer.Argument(help="A job spec, YAML or JSON.")]

jobs_app = typer.Typer(help="List jobs (the default), or show one.", no_args_is_help=False)


def submit(
    spec_file: SpecArgument,
    watch: WatchOption = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Submit a training job; with --watch, show a live progress bar, then a summary.

    The exit status says how a watched job ended (1 failed, 4 cancelled)."""
    spec = load_document(spec_file)
    out = say(output)
    with connect(url, api_key, api_key_file, profile) as client:
        job = client.submit_job(spec)
        out.print(f"submitted job {job.id} ({job.name or 'unnamed'}): {job.status}")
        if not watch:
            out.print(f"follow it with: descent watch {job.id}")
            emit(output, job)
            return
        final = follow(client, job, out=out)
    emit(output, final)
    raise typer.Exit(ExitCode.for_status(final.status))


def watch(
    job_id: JobIdArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Follow a job (running or ended) until it ends, then summarise it.

    Re-attaches to the job's event stream; the exit status says how it ended: 0 succeeded,
    1 failed, 4 cancelled."""
    with connect(url, api_key, api_key_file, profile) as client:
        final = follow(client, client.get_job(job_id), out=say(output))
    emit(output, final)
    raise typer.Exit(ExitCode.for_status(final.status))


def _history(client: Client, job: Job) -> History | None:
    """The finished job's history, for its verdict; None if it cannot be read (the summary
    is printed without it)."""
    if not job.finished:
        return None
    try:
        return client.history(job.id)
    except Exception:  # an older server, or a blip: the summary stands without the verdict
        return None


def follow(
    client: Client, job: Job, source: JobSource = stream_job, *, out: Console | None = None
) -> Job:
    """Print each epoch as it is recorded under a live bar of epochs done; return the end.
    Ctrl-C stops watching; the job carries on."""
    out = out or say(Output.table)
    # Redrawn on each update, not by a refresh thread: a Ctrl-C that lands while that thread
    # waits on the console's lock (held by this one) would leave the watch hanging on its join.
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("epochs"), TimeElapsedColumn(), console=out, transient=True,
        auto_refresh=False,
    )  # fmt: skip
    task = progress.add_task(job.status, total=job.epochs)
    status, epochs = job.status, []
    try:
        with progress:
            for index, update in enumerate(source(client, job.id)):
                job, epochs = update.job, update.epochs
                if index == 0 and job.finished:
                    progress.console.print(f"job {job.id} has ended already")
                if job.status != status:
                    progress.console.print(render.status_line(job.status, before=status))
                    status = job.status
                if update.recorded is not None:
                    line = render.epoch_line(update.recorded, job.epochs, rerun=update.rerun)
                    progress.console.print(line)
                done = max((e.epoch for e in epochs), default=0)
                progress.update(
                    task, completed=done, description=render.status(status), refresh=True
                )
    except KeyboardInterrupt:
        errors.print(
            f"stopped watching job {job.id}; it carries on on the server "
            f"(descent watch {job.id} to follow it again, descent cancel {job.id} to stop it)"
        )
        raise typer.Exit(130) from None
    out.print(render.job_summary(job, epochs, _history(client, job)))
    if job.model_id:
        out.print(f"predict with: descent predict {job.model_id} image.png")
    return job


def list_jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    status: Annotated[
        list[str] | None, typer.Option(help="Only jobs in this status (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Only jobs whose name holds this.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only jobs on this data set.")] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch's jobs.")] = None,
    sort: Annotated[
        str | None, typer.Option(help="created_at, name or status; -FIELD: descending.")
    ] = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """List jobs, newest first (filters: --status, --name, --dataset, --batch)."""
    if ctx.invoked_subcommand is not None:
        return  # ``descent jobs show ID``: the group's own options are not a listing
    filters = {"status": status, "name": name, "dataset": dataset, "batch_id": batch, "sort": sort}
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_jobs(limit=limit, offset=offset, every=every, **filters)
    emit(output, page, render.jobs_table(page.items, page.total))


def show(
    job_id: JobIdArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """One job: its status, timings, error, metrics and model."""
    with connect(url, api_key, api_key_file, profile) as client:
        job = client.get_job(job_id)
    emit(output, job, render.job_summary(job, []))


def history(
    job_id: JobIdArgument,
    plot: Annotated[
        Path | None, typer.Option(help="Also draw the learning curves into this PNG file.")
    ] = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """A job's epochs as a table (epoch 0 is the untrained model), its verdict and diagnoses
    with their evidence and remedies; --plot draws the curves."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.history(job_id)
    emit(output, found, render.history_view(found))
    if plot is not None:
        from descent.commands.plots import plot_history

        plot_history(found, plot)
        say(output).print(f"learning curves written to {plot}")


def validate(
    spec_file: SpecArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Check a spec on the server without queueing it: its model, shapes and warnings.

    Prints the model's layers, output shapes and parameters, and the warnings of a legal spec
    known to train badly; an invalid spec is the server's 422, exit status 3."""
    spec = load_document(spec_file)
    with connect(url, api_key, api_key_file, profile) as client:
        checked = client.validate_spec(spec)
    emit(output, checked, render.spec_check(checked))


def cancel(
    target_id: Annotated[str, typer.Argument(metavar="ID", help="A job's id (or a batch's).")],
    batch: Annotated[bool, typer.Option("--batch", help="ID is a batch: cancel it.")] = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Cancel a job, or with --batch every job of a batch that has not finished."""
    with connect(url, api_key, api_key_file, profile) as client:
        if batch:
            found = client.cancel_batch(target_id)
            emit(output, found, render.batch_table(found))
            if found.counts.get("cancelling"):
                say(output).print("running jobs stop after their current batch; none starts")
            return
        job = client.cancel_job(target_id)
    emit(output, job, f"job {job.id}: {render.status(job.status)}")


def predict(
    model_id: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="The model's id, or a registered name: NAME, NAME@ALIAS or NAME/versions/N.",
        ),
    ],
    images: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Image files (PNG, JPEG, GIF, ...).")
    ],
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Classify image files.

    They are sent as they are; the server converts each one (grayscale, 28×28, framed and
    inverted like MNIST where the model needs it), as for every upload. --output json prints
    the server's answer (model_id, scale, predictions), the predictions in file order."""
    files = []
    for path in images:
        try:
            files.append((str(path), path.read_bytes()))
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror or exc}")
    with connect(url, api_key, api_key_file, profile) as client:
        model = client.get_model(model_id)
        # By the id the reference resolved to: the model described is the one that answers.
        answer = client.predict_files_answer(model.id, files)
    if output is Output.json:
        emit(output, answer)
        return
    predictions = answer.predictions
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
    emit(output, answer, table)


def register(app: typer.Typer) -> None:
    for command in (submit, watch, history, validate, cancel, predict):
        app.command()(command)
    jobs_app.callback(invoke_without_command=True)(list_jobs)
    jobs_app.command("list")(list_jobs)
    jobs_app.command("show")(show)
    app.add_typer(jobs_app, name="jobs")
