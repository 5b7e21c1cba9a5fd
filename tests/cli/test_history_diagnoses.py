"""``descent history`` prints the verdict and each diagnosis with its evidence and remedies under
the table, and ``--output json`` gives them as the API does; a real job on the real service."""

import json

import pytest
from typer.testing import CliRunner, Result

from descent.cli import app
from tests.conftest import Service

pytestmark = pytest.mark.integration


def descent(service: Service, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"DESCENT_URL": service.url, "COLUMNS": "400"})


def test_history_prints_the_verdict_evidence_and_remedies(service: Service, diverged_job: dict):
    result = descent(service, "history", diverged_job["id"])
    assert result.exit_code == 0, result.output
    assert "verdict: diverged" in result.output
    assert "error Diverged (diverged) since epoch 1" in result.output
    assert "the training loss" in result.output
    assert (
        "try: Lower the learning rate ten times: optimizer.learning_rate 10 -> 1" in result.output
    )


def test_history_json_carries_the_apis_verdict_and_diagnoses(service: Service, diverged_job: dict):
    result = descent(service, "history", diverged_job["id"], "--output", "json")
    answer = json.loads(result.stdout)
    assert answer == service.client.get(f"/v1/jobs/{diverged_job['id']}/history").json()
    assert answer["verdict"]["success"] is False
    assert [d["code"] for d in answer["diagnoses"]] == ["diverged"]
