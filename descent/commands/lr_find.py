"""``descent lr-find SPEC``: a learning-rate range test of the spec's model, its loss curve
drawn in the terminal (or as a PNG with ``--plot``) and the rate it suggests, with why."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from descent.client import Client
from descent.commands.common import (
    ApiKeyFileOption,
    ApiKeyOption,
    ProfileOption,
    UrlOption,
    connect,
    console,
    errors,
    load_document,
)
from descent.exit_codes import ExitCode

POLL_SECONDS = 0.5
FINISHED = ("succeeded", "failed", "cancelled")
WIDTH, HEIGHT = 64, 14  # the terminal chart's plot area, in characters


def lr_find(
    spec_file: Annotated[Path, typer.Argument(help="A job spec, YAML or JSON.")],
    min_rate: Annotated[
        float | None,
        typer.Option("--min", help="The first step's learning rate (server default 1e-7)."),
    ] = None,
    max_rate: Annotated[
        float | None,
        typer.Option("--max", help="The last step's learning rate (server default 10)."),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Steps of the sweep, 20 to 2000 (server default 200).")
    ] = None,
    keep_model: Annotated[
        bool,
        typer.Option(
            "--keep-model", help="Keep the model as a job's (by default none is left behind)."
        ),
    ] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Write the curve as a PNG here (needs matplotlib).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the API's LrFind object on stdout (lines for people on stderr)."
        ),
    ] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Find a learning rate: train a few hundred batches with the rate rising exponentially
    from --min to --max, and suggest a tenth of the rate where the loss was lowest.

    The spec's own learning rate, schedule and epochs are not used. The exit status says how
    it ended (1 failed, 4 cancelled)."""
    spec = load_document(spec_file)
    out = errors if as_json else console
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.lr_find(
            spec,
            min_learning_rate=min_rate,
            max_learning_rate=max_rate,
            steps=steps,
            keep_model=keep_model,
        )
        out.print(
            f"submitted lr-find {found['id']}: {found['steps']} steps, learning rate "
            f"{found['min_learning_rate']:.2g} to {found['max_learning_rate']:.2g}"
        )
        found = wait(client, found)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
    if found["status"] != "succeeded":
        why = f": {found['error']}" if found.get("error") else ""
        errors.print(f"[bold red]lr-find {found['id']} {found['status']}[/]{why}")
        raise typer.Exit(ExitCode.for_status(found["status"]))
    if not as_json:
        for line in chart(found["curve"], found["suggested_learning_rate"]):
            console.print(line, markup=False)
    report(found, out)
    if plot is not None:
        plot_curve(found, plot)
        out.print(f"wrote {plot}")


def wait(client: Client, found: dict[str, Any]) -> dict[str, Any]:
    """Poll until the test has finished; Ctrl-C stops waiting only."""
    try:
        while found["status"] not in FINISHED:
            time.sleep(POLL_SECONDS)
            found = client.get_lr_find(found["id"])
    except KeyboardInterrupt:
        errors.print(
            f"stopped waiting; lr-find {found['id']} carries on on the server (descent cancel "
            f"{found['id']} stops it)"
        )
        raise typer.Exit(130) from None
    return found


def report(found: dict[str, Any], out: Any) -> None:
    rate = found["suggested_learning_rate"]
    if rate is None:
        out.print("[bold]no learning rate suggested[/]")
    else:
        out.print(f"[bold]suggested learning rate: {rate:.2g}[/]")
    if found.get("reason"):
        out.print(f"why: {found['reason']}", markup=False)
    if found.get("model_id"):
        out.print(f"model kept: {found['model_id']}")


def chart(
    curve: list[dict[str, float]],
    suggested: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> list[str]:
    """The smoothed loss by learning rate (a log axis) as lines of text; the suggested rate is
    a column of ``|``, each column's point a ``*``."""
    if not curve:
        return ["(no curve: the test stopped before its first step)"]
    xs = [math.log10(p["learning_rate"]) for p in curve]
    ys = [p["loss"] for p in curve]
    x_low, x_high = xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1
    y_low, y_high = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def column(x: float) -> int:
        return min(width - 1, int((x - x_low) / (x_high - x_low) * (width - 1) + 0.5))

    def row(y: float) -> int:
        return min(height - 1, int((y_high - y) / (y_high - y_low) * (height - 1) + 0.5))

    grid = [[" "] * width for _ in range(height)]
    if suggested is not None and suggested > 0:
        mark = column(math.log10(suggested))
        for line in grid:
            line[mark] = "|"
    for x, y in zip(xs, ys, strict=True):
        grid[row(y)][column(x)] = "*"
    labels = {
        0: f"{y_high:.3g}",
        height // 2: f"{(y_high + y_low) / 2:.3g}",
        height - 1: f"{y_low:.3g}",
    }
    pad = max(len(text) for text in labels.values())
    lines = ["loss (smoothed)"]
    lines += [f"{labels.get(i, ''):>{pad}} ┤{''.join(cells)}" for i, cells in enumerate(grid)]
    lines.append(" " * pad + " └" + "─" * width)
    left, right = f"{10**x_low:.0e}", f"{10**x_high:.0e}"
    lines.append(" " * (pad + 2) + left + right.rjust(width - len(left)))
    lines.append(" " * (pad + 2) + "learning rate (log scale); | suggested")
    return lines


def plot_curve(found: dict[str, Any], path: Path) -> None:
    """The smoothed and raw loss by learning rate, a log axis, the suggested rate marked."""
    from descent.commands.plots import _pyplot, _save

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    rates = [p["learning_rate"] for p in found["curve"]]
    axes.plot(rates, [p["raw_loss"] for p in found["curve"]], alpha=0.3, label="loss per batch")
    axes.plot(rates, [p["loss"] for p in found["curve"]], label="smoothed loss")
    rate = found["suggested_learning_rate"]
    if rate is not None:
        axes.axvline(rate, color="tab:red", linestyle="--", label=f"suggested {rate:.2g}")
    axes.set_xscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("loss")
    axes.set_title(f"lr-find {found['id']}")
    axes.grid(alpha=0.3)
    axes.legend()
    _save(plt, figure, path)


def register(app: typer.Typer) -> None:
    app.command("lr-find")(lr_find)
