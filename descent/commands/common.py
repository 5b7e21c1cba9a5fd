"""What every client command shares: server options, output, spec files, errors and exit codes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console, ConsoleDimensions

from descent.client import ApiError, Client, api_object
from descent.config import ConfigError, Options, resolve
from descent.exit_codes import ExitCode

UNWRAPPED = 10_000  # the width of output that is not a terminal's: a pipe, a file


class _Console(Console):
    """A console that wraps only for a terminal: piped tables keep each row on one line, so
    ids are never cut (rich would otherwise take the width of whatever terminal is near)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self.is_terminal or self._width is not None:
            return size
        return ConsoleDimensions(UNWRAPPED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _Console(highlight=False, soft_wrap=True)
errors = _Console(stderr=True, highlight=False, soft_wrap=True)


class Output(StrEnum):
    table = "table"
    json = "json"


OutputOption = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="table: for people; json: the API's own object, one JSON document on stdout "
        "(progress, hints and errors go to stderr).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The Descent server (default: DESCENT_URL, else the profile's url, else "
        "http://127.0.0.1:8000).",
        show_default=False,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key, where the server asks. It shows in `ps` and in shell history: prefer "
        "--api-key-file, DESCENT_API_KEY(_FILE) or a profile.",
    ),
]
ApiKeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--api-key-file", help="Read the API key from this file (or DESCENT_API_KEY_FILE)."
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="A profile of ~/.config/descent/config.toml: its profiles.NAME table (or "
        "DESCENT_PROFILE, else the file's default).",
    ),
]


@contextmanager
def connect(
    url: str | None,
    api_key: str | None,
    api_key_file: Path | None = None,
    profile: str | None = None,
) -> Iterator[Client]:
    """A client for the server the options, environment or profile name; a failed request is
    printed with its fix and ends the command with its exit code (see ExitCode)."""
    given = Options(url, api_key, str(api_key_file) if api_key_file else None, profile)
    try:
        server = resolve(given, os.environ)
    except ConfigError as error:
        fail(str(error))
    client = Client(server.url, api_key=server.api_key)
    try:
        yield client
    except ApiError as error:
        print_api_error(error)
        raise typer.Exit(ExitCode.for_error(error)) from None
    except KeyboardInterrupt:
        errors.print("stopped watching; the server carries on (descent cancel ID stops a job)")
        raise typer.Exit(130) from None
    finally:
        client.close()


def emit(output: Output, answer: Any, table: Any = None) -> None:
    """Print the answer: as the API's JSON, or as ``table`` (a rich renderable) for people."""
    if output is Output.json:
        typer.echo(json.dumps(api_object(answer), indent=2))
    elif table is not None:
        console.print(table)


def say(output: Output) -> Console:
    """Where lines for people go: stdout for a table, stderr when stdout holds the JSON."""
    return errors if output is Output.json else console


def print_api_error(error: ApiError) -> None:
    status = f" ({error.status})" if error.status else ""
    errors.print(f"[bold red]error{status}[/]: {error.title}: {error.detail}")
    for item in error.errors:
        if "job_id" in item:  # a job that stands in the way, e.g. of deleting its data set
            errors.print(f"  job {item['job_id']}: {item.get('status', '')}")
            continue
        where = f"item {item['item']} " if item.get("item") is not None else ""
        label = f"({item['name']}) " if item.get("name") else ""
        errors.print(f"  {where}{label}{item.get('field', '')}: {item.get('message', '')}")
    if error.fix:
        errors.print(f"[bold]fix[/]: {error.fix}")


def load_document(path: Path) -> dict[str, Any]:
    """A spec or batch file, YAML or JSON, as a JSON object; a bad file ends the command."""
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    is_json = path.suffix.lower() == ".json"
    try:
        document = json.loads(text) if is_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        fail(f"{path} is not valid {'JSON' if is_json else 'YAML'}: {exc}")
    if not isinstance(document, dict):
        fail(f"{path} must hold one object (field: value pairs), not {type(document).__name__}")
    return document


def fail(message: str, code: int = ExitCode.usage) -> NoReturn:
    errors.print(f"[bold red]error[/]: {message}")
    raise typer.Exit(code)


def number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
