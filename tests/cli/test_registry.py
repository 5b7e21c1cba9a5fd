"""``descent models register|alias|versions`` name a model, and ``descent predict`` takes the
name, NAME@ALIAS or NAME/versions/N where it takes an id."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from core.settings import PROJECT_ROOT
from descent.cli import app
from descent.exit_codes import ExitCode
from tests.api.test_predict import register_model
from tests.conftest import Service

pytestmark = pytest.mark.integration

NAME = "cli-digits"  # the service is shared by the session's tests: a name of this module's


def descent(service: Service, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"DESCENT_URL": service.url, "COLUMNS": "400"})


def test_register_alias_list_and_predict_by_name(api_only: Service, tmp_path: Path):
    model_id = register_model(api_only.client, tmp_path, api_only.settings)
    registered = descent(api_only, "models", "register", model_id, NAME, "-o", "json")
    assert registered.exit_code == 0, registered.output
    assert json.loads(registered.stdout)["version"] == 1
    moved = descent(api_only, "models", "alias", NAME, "production", "1")
    assert moved.exit_code == 0, moved.output
    assert f"{NAME}@production is version 1 (model {model_id})" in moved.output
    listed = descent(api_only, "models", "versions", NAME)
    assert model_id in listed.output and "production" in listed.output

    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        Image.fromarray(data["x_test"][0]).save(tmp_path / "seven.png")
    by_id = descent(api_only, "predict", model_id, str(tmp_path / "seven.png"), "-o", "json")
    for ref in (NAME, f"{NAME}@production", f"{NAME}/versions/1"):
        by_ref = descent(api_only, "predict", ref, str(tmp_path / "seven.png"), "-o", "json")
        assert by_ref.exit_code == 0, by_ref.output
        assert json.loads(by_ref.stdout) == json.loads(by_id.stdout), ref

    missing = descent(api_only, "models", "alias", NAME, "staging", "7")
    assert missing.exit_code == ExitCode.bad_request
    assert "has no version 7" in missing.output
