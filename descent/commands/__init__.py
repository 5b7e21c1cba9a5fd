"""The client side of the ``descent`` command: submit, watch, compare and use jobs over HTTP.

These commands only talk to a server through :mod:`descent.client`; they never import
TensorFlow, and they import matplotlib and Pillow only when a command needs them.
"""

import typer

from descent.commands import batches, datasets, jobs, models, searches


def register(app: typer.Typer) -> None:
    for module in (jobs, batches, searches):
        module.register(app)
    app.add_typer(models.app, name="models")
    app.add_typer(datasets.app, name="datasets")
