"""The ``descent`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from descent import commands
from descent.commands import lr_find
from descent.exit_codes import HELP as EXIT_CODES
from processes import keys

app = typer.Typer(
    help="Descent: train Keras models over REST and serve them.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
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
    from processes import serve as serving

    settings = Settings(host=host, port=port, **({"home": home} if home else {}))
    if refused := serving.refusal(settings):
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(2)
    serving.run(settings, worker=worker)


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
    from processes import worker as working

    try:
        chosen = working.choose_queues(gpus, queues)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    working.run(concurrency, gpus, chosen, name)


@app.command()
def migrate() -> None:
    """Apply the database migrations (the server also does this when it starts)."""
    from processes import migrate as migrations

    migrations.upgrade(Settings().resolved_database_url)
    typer.echo("database is at the latest migration")


app.add_typer(keys.app, name="keys")
# The client side: submit, watch, validate, jobs, history, cancel, predict, batch, batches,
# models and datasets.
commands.register(app)
lr_find.register(app)  # descent lr-find SPEC: a learning-rate range test

if __name__ == "__main__":
    app()
