"""The ``descent`` command."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.settings import PROJECT_ROOT, Settings, get_settings
from descent import commands
from descent.commands import datasets
from processes import keys

app = typer.Typer(
    help="Descent: train Keras models over REST and serve them.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    home: Annotated[
        Path | None, typer.Option(help="State directory (default DESCENT_HOME or ./var).")
    ] = None,
    worker: Annotated[bool, typer.Option(help="Also run one training worker.")] = True,
) -> None:
    """Run the API and one training worker: the embedded default, no external services."""
    import uvicorn

    from api.app import create_app
    from api.sweeper import Reconciler
    from processes import migrate
    from processes.embedded import Worker
    from workers import devices

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    overrides = {"host": host, "port": port} | ({"home": home} if home else {})
    settings = Settings(**overrides)
    if settings.auth == "off" and not _loopback(host) and not settings.allow_open_network:
        typer.echo(
            f"error: refusing to serve on {host} with auth off: anyone who can reach it could "
            "train, read and delete. Set DESCENT_AUTH=required and create keys with `descent "
            "keys create`, bind 127.0.0.1, or set DESCENT_ALLOW_OPEN_NETWORK=1 if you mean it.",
            err=True,
        )
        raise typer.Exit(2)
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    # The worker and anything else started from here read the same state directory.
    os.environ["DESCENT_HOME"] = str(settings.resolved_home)
    migrate.upgrade(settings.resolved_database_url)

    gpus = devices.count_gpus() if worker else 0
    if gpus:
        os.environ.setdefault("DESCENT_GPU_QUEUES_AVAILABLE", "true")
        settings = Settings(**overrides)
    child = Worker(settings, PROJECT_ROOT, gpus) if worker else None
    if child:
        child.start()
    reconciler = Reconciler(settings)  # recovers jobs whose worker died or whose message was lost
    reconciler.start()
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the signal with the
    # handler it found; this one turns it into SystemExit so the worker is stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            access_log=settings.access_log,
        )
    finally:
        reconciler.stop()
        if child:
            child.stop()


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Jobs trained at once (with --gpus: one per GPU).")
    ] = 1,
    gpus: Annotated[
        int, typer.Option(help="GPUs to train on, one job per GPU; 0: a CPU worker.")
    ] = 0,
    queues: Annotated[
        str | None,
        typer.Option(
            help="Queues to consume, comma-separated (default: gpu,any with --gpus, else cpu,any)."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Worker name (Celery's hostname is NAME@host).")] = (
        "descent"
    ),
) -> None:
    """Run a training worker only (production: the API and workers run apart)."""
    from processes.embedded import gpu_environment, worker_command
    from services.placement import CPU_WORKER_QUEUES, GPU_WORKER_QUEUES, QUEUES

    chosen = (
        tuple(q.strip() for q in queues.split(","))
        if queues
        else (GPU_WORKER_QUEUES if gpus else CPU_WORKER_QUEUES)
    )
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown or (gpus == 0 and "gpu" in chosen):
        typer.echo(
            f"error: queues {','.join(chosen)}: "
            + (
                f"{unknown} are not queues (use {', '.join(QUEUES)})"
                if unknown
                else "only a worker with --gpus N may consume the gpu queue"
            ),
            err=True,
        )
        raise typer.Exit(2)
    os.chdir(PROJECT_ROOT)
    os.environ.update(gpu_environment(gpus))
    command = worker_command(gpus or concurrency, queues=chosen, name=name)
    os.execv(command[0], command)


@app.command()
def migrate() -> None:
    """Apply the database migrations (the server also does this when it starts)."""
    from processes import migrate as migrations

    migrations.upgrade(get_settings().resolved_database_url)
    typer.echo("database is at the latest migration")


app.add_typer(keys.app, name="keys")
app.add_typer(datasets.app, name="datasets")  # list, show, upload and delete data sets
commands.register(app)  # the client side: submit, batch, jobs, history, predict, cancel

if __name__ == "__main__":
    app()
