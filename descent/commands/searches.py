"""``descent search SPEC [--watch]`` (submit a search, follow its leaderboard), ``descent
search-status ID`` and ``descent searches`` (list them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from descent.client import Client
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

POLL_SECONDS = 1.0
WatchOption = Annotated[
    bool, typer.Option("--watch", "-w", help="Follow its leaderboard live until it ends.")
]


def search(
    search_file: Annotated[Path, typer.Argument(help="A search (base, space, ...), YAML or JSON.")],
    watch: WatchOption = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Submit a search: trials sampled from a space of spec fields, the losers stopped early.

    The exit status of a watched search says how it ended (1 failed, 4 cancelled)."""
    body = load_document(search_file)
    out = say(output)
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.submit_search(body)
        budget = found["budget"]
        out.print(
            f"submitted search {found['id']} ({found['name'] or 'unnamed'}): up to "
            f"{budget['max_trials']} trials, {budget['max_parallel']} at a time, "
            f"{found['sampler']['type']} sampler, {found['early_stopping']['type']} stopping"
        )
        if not watch:
            out.print(f"follow it with: descent search-status {found['id']} --watch")
            emit(output, found)
            return
        found = follow(client, found, output)
        _report(found, output)
    raise typer.Exit(ExitCode.for_status(found["status"]))


def search_status(
    search_id: Annotated[str, typer.Argument(help="The search's id.")],
    watch: WatchOption = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """A search's leaderboard; --watch follows it until it ends."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.get_search(search_id)
        if watch and found["status"] == "running":
            found = follow(client, found, output)
        _report(found, output)
    if watch:
        raise typer.Exit(ExitCode.for_status(found["status"]))


def list_searches(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Searches, newest first, with their status, budget spent and best value."""
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_searches(limit=limit, offset=offset)
    table = Table(title=f"searches ({page['total']} in all)")
    for column in ("id", "name", "status", "trials", "epochs", "best"):
        table.add_column(column)
    for item in page["items"]:
        budget, best = item["budget"], item["best"]
        table.add_row(
            item["id"], item["name"] or "", item["status"],
            f"{budget['trials_started']}/{budget['max_trials']}", str(budget["epochs_spent"]),
            f"{item['metric']} {number(best['value'])}" if best else "—",
        )  # fmt: skip
    emit(output, page, table)


def leaderboard(found: dict[str, Any]) -> Table:
    """Trials best first (those without a value last): parameters, value, where they stopped."""
    minimize = found["direction"] == "minimize"
    trials = sorted(
        found["trials"],
        key=lambda t: (
            t["value"] is None, (t["value"] or 0) * (1 if minimize else -1), t["number"]
        ),
    )  # fmt: skip
    budget = found["budget"]
    table = Table(
        title=f"search {found['id'][:8]} {found['status']}: {found['metric']} "
        f"({found['direction']}), {budget['trials_started']}/{budget['max_trials']} trials, "
        f"{budget['epochs_spent']} epochs"
    )
    paths = list(found["space"])
    for column in ("#", *paths, found["metric"], "epoch", "done", "status"):
        table.add_column(column)
    for t in trials:
        stopped = f"stopped at {t['stopped_at_epoch']}" if t["stopped_early"] else t["status"]
        table.add_row(
            str(t["number"]), *(_short(t["params"].get(p)) for p in paths), number(t["value"]),
            "—" if t["best_epoch"] is None else str(t["best_epoch"]), str(t["epochs_done"]),
            stopped or "",
        )  # fmt: skip
    return table


def follow(client: Client, found: dict[str, Any], output: Output) -> dict[str, Any]:
    """A live leaderboard; a line whenever a trial starts, is stopped or ends. Ctrl-C stops
    watching only."""
    seen = {t["number"]: t["status"] for t in found["trials"]}
    try:
        with Live(
            leaderboard(found), console=say(output), transient=True, auto_refresh=False
        ) as live:
            while found["status"] == "running":
                time.sleep(POLL_SECONDS)
                found = client.get_search(found["id"])
                for t in found["trials"]:
                    if seen.get(t["number"]) == t["status"]:
                        continue
                    seen[t["number"]] = t["status"]
                    line = f"trial {t['number']} ({_params(t['params'])}): {t['status']}"
                    if t["value"] is not None:
                        line += f", best {found['metric']} {number(t['value'])}"
                    if t["stop_reason"]:
                        line += f"; {t['stop_reason']}"
                    live.console.print(line)
                live.update(leaderboard(found), refresh=True)
    except KeyboardInterrupt:
        errors.print(
            f"stopped watching search {found['id']}; it carries on on the server (descent "
            f"search-status {found['id']} --watch to follow again)"
        )
        raise typer.Exit(130) from None
    return found


def _report(found: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        emit(output, found)
        return
    say(output).print(leaderboard(found))
    best = found["best"]
    if best:
        say(output).print(
            f"best: trial {best['number']} ({_params(best['params'])}): {found['metric']} "
            f"{number(best['value'])} at epoch {best['best_epoch']}; its model is {best['job_id']}"
        )


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{path}={_short(value)}" for path, value in params.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command("search-status")(search_status)
    app.command("searches")(list_searches)
