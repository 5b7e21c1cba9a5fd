"""PNG learning curves with matplotlib (the optional ``plot`` extra), drawn off-screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from descent.client import Batch, History
from descent.commands.common import fail
from descent.commands.render import varied


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        fail("--plot needs matplotlib: pip install 'descent[plot]'")
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: History, path: Path) -> None:
    """Loss on the left, accuracy on the right; training and validation on each."""
    plt = _pyplot()
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [e.epoch for e in history.epochs]
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for name, style in ((metric, "-o"), (f"val_{metric}", "--o")):
            values = [e.value(name) for e in history.epochs]
            if any(v is not None for v in values):
                axes.plot(epochs, [float("nan") if v is None else v for v in values], style,
                          label=name)  # fmt: skip
        _epoch_axis(axes)
        axes.set_ylabel(metric)
        axes.legend()
        axes.grid(alpha=0.3)
    figure.suptitle(f"job {history.job_id} ({history.status})")
    _save(plt, figure, path)


def plot_curves(batch: Batch, path: Path) -> None:
    """One line per job: the batch's metric by epoch."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 5))
    labels = {job.id: varied(job.varied) or job.name or job.id[:8] for job in batch.jobs}
    for series in batch.curves.series:
        values = [float("nan") if v is None else v for v in series.values]
        axes.plot(batch.curves.epochs, values, "-o", markersize=3, label=labels[series.job_id])
    _epoch_axis(axes)
    axes.set_ylabel(batch.curves.metric)
    axes.set_title(f"batch {batch.name or batch.id}: {batch.curves.metric}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    _save(plt, figure, path)


def _epoch_axis(axes: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_xlabel("epoch (0 = untrained)")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(plt: Any, figure: Any, path: Path) -> None:
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    finally:
        plt.close(figure)
