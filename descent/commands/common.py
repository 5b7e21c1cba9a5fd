"""What every client command shares: server options, spec files, errors printed readably."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console

from descent.client import DEFAULT_URL, ApiError, Client

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

UrlOption = Annotated[
    str, typer.Option("--url", envvar="DESCENT_URL", help="The Descent server.", show_default=True)
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="DESCENT_API_KEY", help="API key, where the server asks."),
]
DEFAULT = DEFAULT_URL


@contextmanager
def connect(url: str, api_key: str | None) -> Iterator[Client]:
    """A client; an API error is printed with its fix and ends the command with status 1."""
    client = Client(url, api_key=api_key)
    try:
        yield client
    except ApiError as error:
        print_api_error(error)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("stopped watching; the server carries on (descent cancel ID stops a job)")
        raise typer.Exit(130) from None
    finally:
        client.close()


def print_api_error(error: ApiError) -> None:
    status = f" ({error.status})" if error.status else ""
    errors.print(f"[bold red]error{status}[/]: {error.title}: {error.detail}")
    for item in error.errors:
        if "job_id" in item:  # a job that stands in the way, e.g. of deleting its data set
            errors.print(f"  job {item['job_id']}: {item.get('status', '')}")
            continue
        where = f"item {item['item']} " if "item" in item else ""
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


def fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[bold red]error[/]: {message}")
    raise typer.Exit(code)


def number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
