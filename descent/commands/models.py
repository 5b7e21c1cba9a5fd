"""``descent models``: list, show and download trained models; name them in the registry."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

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
)

app = typer.Typer(
    help="Trained models: list, show and download them; register them under a name, with "
    "versions and aliases.",
    no_args_is_help=True,
)
ModelIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="The model's id (the id of the job that trained it), or a registered name: NAME, "
        "NAME@ALIAS or NAME/versions/N.",
    ),
]
NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The model name, e.g. mnist-digits.")
]


class FileFormat(StrEnum):
    keras = "keras"
    onnx = "onnx"


@app.command("list")
def list_models(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    dataset: Annotated[str | None, typer.Option(help="Only models of this data set.")] = None,
    task: Annotated[
        str | None, typer.Option(help="Only classification, binary or regression models.")
    ] = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Trained models, newest first, with their job, data set and final val_accuracy."""
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_models(
            limit=limit, offset=offset, every=every, dataset=dataset, task=task
        )
    emit(output, page, render.models_table(page.items, page.total))


@app.command()
def show(
    model_id: ModelIdArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """One model: its job, data set, classes, input shape and metrics."""
    with connect(url, api_key, api_key_file, profile) as client:
        model = client.get_model(model_id)
    emit(output, model, render.model_summary(model))


@app.command()
def download(
    model_id: ModelIdArgument,
    file: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write it, as curl -o (default: ID.FORMAT here; a folder: in it).",
        ),
    ] = None,
    file_format: Annotated[
        FileFormat,
        typer.Option("--format", help="keras (to load in Keras or resume) or onnx (to serve)."),
    ] = FileFormat.keras,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Download a model's .keras or .onnx file. Its path is printed on stdout, the only line
    there, for a script to read."""
    name = f"{model_id}.{file_format.value}"
    path = file / name if file is not None and file.is_dir() else file or Path(name)
    with connect(url, api_key, api_key_file, profile) as client:
        size = client.download_model(model_id, path, file_format=file_format.value)
    errors.print(f"wrote {size:,} bytes")
    typer.echo(str(path))


@app.command()
def register(
    model_id: Annotated[
        str, typer.Argument(metavar="MODEL_ID", help="The trained model's id (its job's id).")
    ],
    name: NameArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Register a trained model as NAME's next version (NAME is created if new); then
    NAME, NAME@ALIAS or NAME/versions/N works wherever a model id does."""
    with connect(url, api_key, api_key_file, profile) as client:
        version = client.register_model_version(name, model_id)
    emit(output, version, f"{version.name} version {version.version} is model {version.model_id}")


@app.command()
def alias(
    name: NameArgument,
    alias_name: Annotated[
        str, typer.Argument(metavar="ALIAS", help="The alias, e.g. production or staging.")
    ],
    version: Annotated[int, typer.Argument(metavar="VERSION", help="The version to point at.")],
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Point NAME@ALIAS at a version, creating or moving it in one step: predictions by
    NAME@ALIAS use that version from the next request on."""
    with connect(url, api_key, api_key_file, profile) as client:
        moved = client.set_alias(name, alias_name, version)
    emit(
        output,
        moved,
        f"{moved.name}@{moved.alias} is version {moved.version} (model {moved.model_id})",
    )


@app.command()
def versions(
    name: NameArgument,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """NAME's versions, newest first: each one's model id, data set, val_accuracy and aliases."""
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_model_versions(name, limit=limit, offset=offset, every=every)
    emit(output, page, render.versions_table(page.items, page.total))
