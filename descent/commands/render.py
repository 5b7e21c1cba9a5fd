"""Tables and lines the client commands print (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from descent.client import (
    Batch,
    BatchSummary,
    Dataset,
    Epoch,
    Job,
    Model,
    ModelVersion,
    SpecCheck,
)
from descent.commands.common import number
from descent.schemas import History

STATUS_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
}
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def status(text: str) -> str:
    return f"[{STATUS_STYLE.get(text, 'default')}]{text}[/]"


def status_line(now: str, *, before: str) -> str:
    line = f"status: {status(now)}"
    if before == "running" and now == "queued":  # only the recovery sweep moves a job so
        line += " (its worker was lost; the next worker resumes it from its last checkpoint)"
    return line


def epoch_line(epoch: Epoch, total: int, *, rerun: bool = False) -> str:
    """One epoch's metrics; ``rerun``: it replaces an epoch of the same number that a lost
    worker recorded past its last checkpoint."""
    values = "  ".join(
        f"{name} {number(epoch.value(name))}" for name in METRICS if epoch.value(name) is not None
    )
    label = "untrained" if epoch.epoch == 0 else f"{epoch.seconds:.1f}s"
    if rerun:
        label += ", [yellow]re-run after resume[/]"
    return f"epoch {epoch.epoch}/{total}  {values}  ({label})"


def varied(values: dict[str, Any]) -> str:
    """``optimizer.name=adam optimizer.learning_rate=0.01`` -> ``name=adam learning_rate=0.01``
    where the last parts of the paths tell the fields apart."""
    short = {key: key.rsplit(".", 1)[-1] for key in values}
    if len(set(short.values())) < len(short):
        short = {key: key for key in values}
    return " ".join(f"{short[key]}={value}" for key, value in values.items())


def job_summary(job: Job, epochs: list[Epoch], history: History | None = None) -> Table:
    """The job in a table; with its ``history``, the verdict and the diagnoses' titles too."""
    table = Table(title=f"job {job.id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("name", job.name or "—")
    table.add_row("status", status(job.status))
    if job.started_at and job.finished_at:
        table.add_row("took", f"{(job.finished_at - job.started_at).total_seconds():.1f}s")
    if job.error:
        table.add_row("error", f"[red]{job.error}[/]")
    trained = [e for e in epochs if e.epoch >= 1 and e.val_loss is not None]
    if trained:
        best = min(trained, key=lambda e: e.val_loss or 0.0)
        table.add_row("best val_loss", f"{number(best.val_loss)} (epoch {best.epoch})")
    for name, value in (job.final_metrics or {}).items():
        table.add_row(f"final {name}", number(value))
    if job.model_id:
        table.add_row("model", job.model_id)
    if history is not None and history.verdict is not None:
        verdict = history.verdict
        errors = any(d.severity == "error" for d in history.diagnoses)
        style = "green" if verdict.success else "red" if errors else "yellow"
        table.add_row("verdict", f"[{style}]{verdict.outcome}[/]: {verdict.summary or ''}")
        if history.diagnoses:
            titles = ", ".join(d.title or d.code for d in history.diagnoses)
            table.add_row("diagnoses", f"{titles} (what to try: descent history {job.id})")
    return table


def jobs_table(jobs: list[Job], total: int | None) -> Table:
    table = Table(title=f"{len(jobs)} of {total} jobs, newest first", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=32)
    table.add_column("name", overflow="fold", ratio=1, min_width=8)
    for column in ("status", "epochs", "val_acc", "created"):
        table.add_column(column, no_wrap=True)
    for job in jobs:
        table.add_row(
            job.id,
            job.name or "—",
            status(job.status),
            str(job.epochs),
            number((job.final_metrics or {}).get("val_accuracy")),
            job.created_at.strftime("%H:%M"),
        )
    return table


def history_table(job_id: str, epochs: list[Epoch]) -> Table:
    table = Table(title=f"history of job {job_id}", title_justify="left")
    for column in ("epoch", *METRICS, "learning_rate", "seconds"):
        table.add_column(column, justify="right")
    for epoch in epochs:
        table.add_row(
            str(epoch.epoch),
            *(number(epoch.value(name)) for name in METRICS),
            f"{epoch.learning_rate:g}" if epoch.learning_rate is not None else "—",
            f"{epoch.seconds:.1f}",
        )
    return table


def history_view(history: History) -> Group:
    """The history table, then the verdict and each diagnosis with its evidence and remedies."""
    parts: list[Any] = [history_table(history.job_id, history.epochs)]
    verdict = history.verdict
    if verdict is not None:
        errors = any(d.severity == "error" for d in history.diagnoses)
        style = "green" if verdict.success else "red" if errors else "yellow"
        parts.append(Text("\nverdict: ", style="bold").append(verdict.outcome, style=style))
        if verdict.summary:
            parts.append(Text(verdict.summary))
    for diagnosis in history.diagnoses:
        colour = "red" if diagnosis.severity == "error" else "yellow"
        since = f" since epoch {diagnosis.since_epoch}" if diagnosis.since_epoch is not None else ""
        title = diagnosis.title or diagnosis.code
        heading = Text(f"\n{diagnosis.severity}", style=f"bold {colour}")
        heading.append(f" {title}", style="bold").append(f" ({diagnosis.code}){since}")
        parts.append(heading)
        if diagnosis.evidence:
            parts.append(Text(f"  {diagnosis.evidence}"))
        for remedy in diagnosis.remedies:
            parts.append(Text(f"  - try: {remedy}"))
    return Group(*parts)


def batch_table(batch: Batch) -> Table:
    counts = ", ".join(f"{n} {s}" for s, n in batch.counts.items() if n)
    table = Table(
        title=f"batch {batch.id} {batch.name or ''} — {status(batch.status)} ({counts})",
        title_justify="left",
    )
    for column in ("#", "job"):
        table.add_column(column, no_wrap=True)
    table.add_column("varied", ratio=1)
    for column in ("status", "epoch"):
        table.add_column(column, no_wrap=True)
    for job in batch.jobs:
        done = max(job.epochs_done, 0)
        table.add_row(
            str(job.index), job.id[:8], varied(job.varied) or job.name or "—",
            status(job.status), f"{done}/{job.epochs}",
        )  # fmt: skip
    return table


def leaderboard_table(batch: Batch) -> Table:
    best = "lowest" if batch.goal == "min" else "highest"
    table = Table(title=f"leaderboard by best {batch.metric} ({best} first)", title_justify="left")
    for column in ("rank", "job"):
        table.add_column(column, no_wrap=True)
    table.add_column("varied", ratio=1)
    for column in (batch.metric, "epoch", "status"):
        table.add_column(column, no_wrap=True)
    for row in batch.leaderboard:
        table.add_row(
            str(row.rank), row.job_id[:8], varied(row.varied) or row.name or "—",
            number(row.value), str(row.epoch), status(row.status),
        )  # fmt: skip
    return table


def shape(dims: list[int]) -> str:
    return "×".join(map(str, dims)) or "—"


def dataset_output(dataset: Dataset) -> str:
    """What a model trained on it predicts: its classes, or its target's numbers."""
    if dataset.task == "regression":
        return f"{dataset.target_size} target value{'s' if dataset.target_size != 1 else ''}"
    return f"{dataset.num_classes} classes"


def dataset_rows(dataset: Dataset) -> str:
    test = f" + {dataset.test_size:,} test" if dataset.test_size else ""
    return f"{dataset.train_size:,}{test}"


def datasets_table(datasets: list[Dataset], total: int | None = None) -> Table:
    title = (
        f"{len(datasets)} data sets"
        if total in (None, len(datasets))
        else (f"{len(datasets)} of {total} data sets")
    )
    table = Table(title=title, title_justify="left")
    table.add_column("name", overflow="fold", min_width=8)
    for column in ("source", "task", "shape", "classes / target"):
        table.add_column(column, no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    for dataset in datasets:
        table.add_row(
            dataset.name, "built-in" if dataset.builtin else "upload", dataset.task,
            shape(dataset.input_shape), dataset_output(dataset), dataset_rows(dataset),
        )  # fmt: skip
    return table


def dataset_summary(dataset: Dataset) -> Table:
    table = Table(title=f"data set {dataset.name}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    if dataset.id:
        table.add_row("id", dataset.id)
    table.add_row("title", dataset.title or "—")
    if dataset.builtin:  # an upload's source says only "upload"; a built-in one's, its origin
        table.add_row("source", f"built-in: {dataset.source}" if dataset.source else "built-in")
    else:
        table.add_row("source", "upload")
    table.add_row("task", dataset.task)
    table.add_row("input shape", shape(dataset.input_shape))
    if dataset.feature_names:
        table.add_row("features", ", ".join(dataset.feature_names))
    if dataset.task == "regression":
        table.add_row("target", f"{dataset.target_size} number(s) per row")
    else:
        names = ", ".join(dataset.class_names)
        table.add_row("classes", f"{dataset.num_classes}: {names}" if names else "—")
    table.add_row("rows", dataset_rows(dataset))
    if dataset.created_at:
        table.add_row("uploaded", dataset.created_at.strftime("%Y-%m-%d %H:%M %Z").strip())
    return table


def spec_check(checked: SpecCheck) -> Table:
    """A checked spec's model, layer by layer, then its warnings (in the caption)."""
    summary = checked.summary
    title = (
        f"valid spec: {summary.task} on {summary.dataset}, input {shape(summary.input_shape)} "
        f"-> output {shape(summary.output_shape)}, {summary.total_params:,} parameters "
        f"({summary.trainable_params:,} trainable)"
    )
    table = Table(title=title, title_justify="left", caption_justify="left")
    for column in ("#", "layer", "output shape"):
        table.add_column(column, no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    for layer in summary.layers:
        table.add_row(str(layer.index), layer.type, shape(layer.output_shape), f"{layer.params:,}")
    if checked.warnings:
        lines = [
            f"[yellow]warning[/]{f' ({w.code})' if w.code else ''} {w.field}: {w.message}"
            for w in checked.warnings
        ]
        table.caption = "\n".join(lines)
    else:
        table.caption = "no warnings"
    return table


def models_table(models: list[Model], total: int | None) -> Table:
    table = Table(title=f"{len(models)} of {total} models, newest first", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=32)
    table.add_column("job", overflow="fold", min_width=8)
    for column in ("dataset", "task", "val_acc", "created"):
        table.add_column(column, no_wrap=True)
    for model in models:
        table.add_row(
            model.id, (model.job.name if model.job else None) or "—", model.dataset, model.task,
            number(model.metrics.get("val_accuracy")),
            model.created_at.strftime("%Y-%m-%d %H:%M") if model.created_at else "—",
        )  # fmt: skip
    return table


def model_summary(model: Model) -> Table:
    table = Table(title=f"model {model.id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    if model.job:
        table.add_row("job", f"{model.job.id} ({model.job.name or 'unnamed'})")
    table.add_row("data set", model.dataset)
    table.add_row("task", model.task)
    table.add_row("input shape", shape(model.input_shape))
    if model.class_names:
        table.add_row("classes", ", ".join(model.class_names))
    for name, value in model.metrics.items():
        table.add_row(name, number(value))
    if model.created_at:
        table.add_row("created", model.created_at.strftime("%Y-%m-%d %H:%M %Z").strip())
    return table


def versions_table(versions: list[ModelVersion], total: int | None) -> Table:
    name = versions[0].name if versions else "the name"
    title = f"{len(versions)} of {total} versions of {name}, newest first"
    table = Table(title=title, title_justify="left")
    table.add_column("version", no_wrap=True, justify="right")
    table.add_column("model id", no_wrap=True, min_width=32)
    for column in ("dataset", "val_acc", "aliases", "registered"):
        table.add_column(column, no_wrap=True)
    for version in versions:
        table.add_row(
            str(version.version), version.model_id, version.dataset,
            number(version.metrics.get("val_accuracy")), ", ".join(version.aliases) or "—",
            version.created_at.strftime("%Y-%m-%d %H:%M") if version.created_at else "—",
        )  # fmt: skip
    return table


def batches_table(batches: list[BatchSummary], total: int | None) -> Table:
    table = Table(title=f"{len(batches)} of {total} batches, newest first", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=32)
    table.add_column("name", overflow="fold", min_width=8)
    for column in ("status", "jobs", "done", "created"):
        table.add_column(column, no_wrap=True)
    for batch in batches:
        done = sum(batch.counts.get(s, 0) for s in ("succeeded", "failed", "cancelled"))
        table.add_row(
            batch.id, batch.name or "—", status(batch.status), str(batch.size),
            f"{done}/{batch.size}",
            batch.created_at.strftime("%Y-%m-%d %H:%M") if batch.created_at else "—",
        )  # fmt: skip
    return table
