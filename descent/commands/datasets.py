"""``descent datasets``: list, show, upload and delete the data sets jobs train on."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from descent.client import ApiError, Client, Dataset
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
    print_api_error,
    say,
)
from descent.exit_codes import ExitCode

app = typer.Typer(
    help="The data sets jobs train on: the built-in ones and your uploads (CSV or JSON rows).",
    no_args_is_help=True,
)
NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="A data set's name (or an uploaded one's id).")
]
JSON_FIELDS = ("x", "y", "class_names")


class Task(StrEnum):
    classification = "classification"
    regression = "regression"


@app.command("list")
def list_datasets(
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """The built-in data sets, then the ones you uploaded."""
    with connect(url, api_key, api_key_file, profile) as client:
        page = client.list_datasets(limit=limit, offset=offset, every=every)
    emit(output, page, render.datasets_table(page.items, page.total))


@app.command()
def show(
    name: NameArgument,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """One data set: its task, shape, features, classes and rows."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.get_dataset(name)
    emit(output, found, render.dataset_summary(found))


@app.command()
def upload(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help='A CSV file with a header row, or a .json file holding {"x": rows, "y": labels}.',
        ),
    ],
    name: Annotated[
        str, typer.Option(help="Its name, unique among yours; a spec's dataset.name names it.")
    ],
    task: Annotated[Task, typer.Option(help="What a model trained on it predicts.")],
    target: Annotated[
        str | None, typer.Option(help="A CSV's label column (default: the last column).")
    ] = None,
    output: OutputOption = Output.table,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Upload a data set: a CSV file (the other columns are the features) or JSON rows."""
    if file.suffix.lower() == ".json":
        rows = _json_rows(file, target)
        with connect(url, api_key, api_key_file, profile) as client:
            made = client.upload_dataset(name, task.value, **rows)
    else:
        try:
            content = file.read_bytes()
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror or exc}")
        with connect(url, api_key, api_key_file, profile) as client:
            made = client.upload_dataset(name, task.value, csv=content, target=target)
    say(output).print(f"uploaded data set {made.name} ({made.id})")
    emit(output, made, render.dataset_summary(made))
    say(output).print(f'train on it with a spec holding dataset: {{name: "{made.name}"}}')


def _json_rows(path: Path, target: str | None) -> dict[str, Any]:
    """The x, y (and class_names) of a JSON file; anything else in it ends the command."""
    if target is not None:
        fail("--target names a CSV column; in a JSON file, y holds the labels")
    document = load_document(path)
    missing = [key for key in ("x", "y") if key not in document]
    unknown = sorted(set(document) - set(JSON_FIELDS))
    if missing or unknown:
        said = [f"it lacks {', '.join(missing)}"] if missing else []
        said += [f"it holds {', '.join(unknown)}, which are not rows"] if unknown else []
        fail(
            f"{path}: {'; '.join(said)}. A JSON data set holds x (one row per example), y "
            "(one label per row) and optionally class_names; --name and --task say the rest"
        )
    return {key: document[key] for key in JSON_FIELDS if key in document}


@app.command()
def delete(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    api_key_file: ApiKeyFileOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete a data set you uploaded, and its rows; models trained on it keep working."""
    with connect(url, api_key, api_key_file, profile) as client:
        found = client.get_dataset(name)
        # A built-in one goes straight to the server, which says why it stays.
        if not (yes or found.builtin) and not _confirmed(found):
            errors.print(f"nothing deleted: {found.name} is kept")
            raise typer.Exit(1)
        _delete(client, found)
    say(Output.table).print(f"deleted data set {found.name}")


def _confirmed(dataset: Dataset) -> bool:
    return typer.confirm(
        f"delete data set {dataset.name} ({dataset.task}, {render.dataset_rows(dataset)} rows)? "
        "Models trained on it keep working",
        default=False,
    )


def _delete(client: Client, dataset: Dataset) -> None:
    """Delete it by id (the one shown, even if its name is uploaded again meanwhile); a
    refusal because jobs use it lists them with the command that cancels them."""
    try:
        client.delete_dataset(dataset.id or dataset.name)
    except ApiError as error:
        if error.status != 409 or not any("job_id" in item for item in error.errors):
            raise
        print_api_error(
            ApiError(
                error.status,
                error.title,
                error.detail,
                fix="wait for these jobs to finish, or cancel them (descent cancel JOB_ID), "
                f"then run descent datasets delete {dataset.name} again",
                errors=error.errors,
            )
        )
        raise typer.Exit(ExitCode.for_error(error)) from None
