"""``descent keys``: a created key works once and only its hash is stored; revoked, it is 401.
``descent serve`` refuses to run open on a non-loopback address."""

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api.app import create_app
from core.settings import Settings
from descent.cli import app
from descent.client import Client
from models import ApiKey
from models.db import session_scope

runner = CliRunner()


def test_create_list_revoke(home: Path, monkeypatch):
    created = runner.invoke(app, ["keys", "create", "--name", "ci", "--owner", "team-a"])
    assert created.exit_code == 0, created.output
    key_id = re.search(r"id:\s+(\w+)", created.output).group(1)
    secret = re.search(r"secret:\s+(\S+)", created.output).group(1)
    with session_scope(Settings().resolved_database_url) as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.owner == "team-a" and secret not in (stored.key_hash, stored.name)

    monkeypatch.setenv("DESCENT_AUTH", "required")
    with TestClient(create_app(Settings())) as test_client:
        test_client.headers["authorization"] = f"Bearer {secret}"
        assert test_client.get("/v1/jobs").status_code == 200

        listed = runner.invoke(app, ["keys", "list"])
        assert f"{key_id}  ci  owner=team-a  active" in listed.output
        revoked = runner.invoke(app, ["keys", "revoke", key_id])
        assert revoked.exit_code == 0 and "revoked" in revoked.output
        assert test_client.get("/v1/jobs").status_code == 401
    assert "revoked 2" in runner.invoke(app, ["keys", "list"]).output


def test_revoking_an_unknown_key_says_how_to_find_one(home: Path):
    result = runner.invoke(app, ["keys", "revoke", "nope"])
    assert result.exit_code == 1
    assert "no API key with id 'nope'" in result.output
    assert "descent keys list" in result.output


def test_the_client_sends_its_key_as_a_bearer_token():
    client = Client("http://x", api_key="dsk_abc")
    assert client._http.headers["authorization"] == "Bearer dsk_abc"


def test_serve_refuses_an_open_server_on_the_network(home: Path):
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--no-worker"])
    assert result.exit_code == 2
    assert "DESCENT_AUTH=required" in result.output
