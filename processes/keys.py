"""``descent keys``: create, list and revoke API keys, on the server, against its database."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import Settings

app = typer.Typer(
    help="Manage API keys (run where the server's DESCENT_DATABASE_URL or DESCENT_HOME points).",
    no_args_is_help=True,
)


def _session():  # noqa: ANN202 - a context manager from models.db
    from models.db import session_scope
    from processes import migrate

    url = Settings().resolved_database_url  # the CLI's entry point reads the environment
    migrate.upgrade(url)
    return session_scope(url)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. a person or a machine.")],
    owner: Annotated[
        str | None, typer.Option(help="Who owns what the key submits (default: the name).")
    ] = None,
    admin: Annotated[bool, typer.Option(help="See and act on every owner's things.")] = False,
) -> None:
    """Create a key and print its secret: it is shown this once and stored only hashed."""
    from services import api_keys

    with _session() as session:
        key, secret = api_keys.create(session, name, owner=owner, admin=admin)
        typer.echo(f"id:     {key.id}\nowner:  {key.owner}{' (admin)' if admin else ''}")
        typer.echo(f"secret: {secret}")
    typer.echo(
        "Keep the secret now; it cannot be shown again. Clients send it as "
        "`Authorization: Bearer <secret>` (the descent CLI reads DESCENT_API_KEY).",
        err=True,
    )


@app.command("list")
def list_keys() -> None:
    """Every key: id, name, owner, admin, created, revoked."""
    from services import api_keys

    with _session() as session:
        for key in api_keys.list_all(session):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            admin = " admin" if key.admin else ""
            typer.echo(f"{key.id}  {key.name}  owner={key.owner}{admin}  {revoked}")


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `descent keys list`).")],
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from core.errors import NotFound
    from services import api_keys

    try:
        with _session() as session:
            key = api_keys.revoke(session, key_id)
            typer.echo(f"revoked {key.id} ({key.name}, owner {key.owner})")
    except NotFound as error:
        typer.echo(f"error: {error.detail}; {error.plain_fix}", err=True)
        raise typer.Exit(1) from None
