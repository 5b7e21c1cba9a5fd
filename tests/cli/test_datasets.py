"""``descent datasets``: upload a CSV or JSON rows, list and show them, delete them, and say
plainly what the server refuses. Against the API alone: none of it needs a worker."""

import json
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from core.settings import PROJECT_ROOT
from descent.cli import app
from tests.conftest import Service

pytestmark = pytest.mark.integration

EXAMPLES = PROJECT_ROOT / "examples"


def descent(service: Service, *args: str | Path, answer: str | None = None) -> Result:
    env = {"DESCENT_URL": service.url, "COLUMNS": "400"}
    return CliRunner().invoke(app, ["datasets", *map(str, args)], env=env, input=answer)


def listed(service: Service) -> dict[str, list[str]]:
    """``descent datasets list``'s rows by name: [source, task, shape, classes / target, rows]."""
    result = descent(service, "list")
    assert result.exit_code == 0, result.output
    rows = [line.split("│") for line in result.output.splitlines() if line.startswith("│")]
    return {cells[1].strip(): [cell.strip() for cell in cells[2:7]] for cells in rows}


def upload(service: Service, path: Path, name: str, task: str, *more: str) -> Result:
    return descent(service, "upload", path, "--name", name, "--task", task, *more)


@pytest.fixture
def houses(tmp_path: Path) -> Path:
    path = tmp_path / "houses.csv"
    path.write_text("price,rooms,area\n100,2,50\n180,3,80\n260,5,120\n")
    return path


def test_an_uploaded_csv_is_listed_after_the_built_in_data_sets(api_only: Service):
    result = upload(api_only, EXAMPLES / "line.csv", "points", "regression")
    assert result.exit_code == 0, result.output
    assert "uploaded data set points" in result.output
    rows = listed(api_only)
    assert list(rows)[:2] == ["mnist", "asl"]
    mnist = ["built-in", "classification", "28×28×1", "10 classes", "60,000 + 10,000 test"]
    assert rows["mnist"] == mnist
    assert rows["points"] == ["upload", "regression", "1", "1 target value", "2"]


def test_a_json_file_of_rows_is_uploaded_with_its_class_names(api_only: Service, tmp_path: Path):
    path = tmp_path / "gates.json"
    rows = {"x": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 1, 1, 0], "class_names": ["off", "on"]}
    path.write_text(json.dumps(rows))
    result = upload(api_only, path, "xor", "classification")
    assert result.exit_code == 0, result.output
    assert listed(api_only)["xor"] == ["upload", "classification", "2", "2 classes", "4"]
    shown = descent(api_only, "show", "xor")
    assert "2: off, on" in shown.output


def test_show_names_a_csvs_features_and_its_target_column(api_only: Service, houses: Path):
    result = upload(api_only, houses, "houses", "regression", "--target", "price")
    assert result.exit_code == 0, result.output
    shown = descent(api_only, "show", "houses")
    assert shown.exit_code == 0, shown.output
    fields = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("│") for line in shown.output.splitlines())
        if len(cells) > 2
    }
    assert fields["features"] == "rooms, area"  # price, the first column, is the target
    assert fields["input shape"] == "2"
    assert fields["rows"] == "3"
    assert fields["source"] == "upload"
    assert fields["id"] == api_only.client.get("/v1/datasets/houses").json()["id"]


def test_delete_with_yes_removes_the_data_set(api_only: Service, houses: Path):
    assert upload(api_only, houses, "short-lived", "regression").exit_code == 0
    result = descent(api_only, "delete", "short-lived", "--yes")
    assert result.exit_code == 0, result.output
    assert "deleted data set short-lived" in result.output
    assert "short-lived" not in listed(api_only)
    assert api_only.client.get("/v1/datasets/short-lived").status_code == 404


def test_delete_asks_first_and_no_keeps_the_data_set(api_only: Service, houses: Path):
    assert upload(api_only, houses, "kept", "regression").exit_code == 0
    declined = descent(api_only, "delete", "kept", answer="n\n")
    assert declined.exit_code == 1
    assert "delete data set kept (regression, 3 rows)?" in declined.output
    assert "nothing deleted" in declined.output
    assert "kept" in listed(api_only)
    accepted = descent(api_only, "delete", "kept", answer="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "kept" not in listed(api_only)


def test_a_bad_csv_shows_the_servers_422_and_is_not_stored(api_only: Service, tmp_path: Path):
    path = tmp_path / "words.csv"
    path.write_text("x,y\n1,3\ntwo,5\n")
    result = upload(api_only, path, "words", "regression")
    assert result.exit_code == 3  # a 4xx: bad request
    assert "error (422)" in result.output
    assert "column 'x' holds 'two', which is not a number" in result.output
    assert "fix" in result.output and "encode categories as numbers" in result.output
    assert "words" not in listed(api_only)


def test_deleting_a_built_in_data_set_shows_the_405(api_only: Service):
    result = descent(api_only, "delete", "mnist", "--yes")
    assert result.exit_code == 3  # a 4xx: bad request
    assert "error (405)" in result.output
    assert "'mnist' is a built-in data set" in result.output
    assert "mnist" in listed(api_only)


def test_deleting_a_data_set_a_queued_job_uses_lists_the_job_until_it_is_cancelled(
    api_only: Service,
):
    assert upload(api_only, EXAMPLES / "line.csv", "in-use", "regression").exit_code == 0
    spec = yaml.safe_load((EXAMPLES / "line.yaml").read_text())
    spec["dataset"]["name"] = "in-use"
    submitted = api_only.client.post("/v1/jobs", json=spec)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]

    refused = descent(api_only, "delete", "in-use", "--yes")
    assert refused.exit_code == 3  # a 4xx: bad request
    assert "error (409)" in refused.output
    assert f"  job {job_id}: queued" in refused.output.splitlines()
    assert "descent cancel JOB_ID" in refused.output
    assert "in-use" in listed(api_only)

    assert api_only.client.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
    assert descent(api_only, "delete", "in-use", "--yes").exit_code == 0
    assert "in-use" not in listed(api_only)


def test_an_unknown_data_set_is_a_404_that_names_it(api_only: Service):
    result = descent(api_only, "show", "nowhere")
    assert result.exit_code == 3  # a 4xx: bad request
    assert "error (404)" in result.output and "nowhere" in result.output


def test_a_json_file_without_y_is_refused_before_anything_is_sent(
    api_only: Service, tmp_path: Path
):
    path = tmp_path / "half.json"
    path.write_text(json.dumps({"x": [[1], [2]], "labels": [3, 5]}))
    result = upload(api_only, path, "half", "regression")
    assert result.exit_code == 2
    assert "it lacks y" in result.output and "labels, which are not rows" in result.output
    assert "half" not in listed(api_only)


def test_the_examples_upload_command_makes_the_data_set_line_yaml_trains_on(api_only: Service):
    readme = (EXAMPLES / "README.md").read_text()
    [command] = [line for line in readme.splitlines() if line.startswith("descent datasets")]
    args = shlex.split(command.split("#")[0])[2:]  # after "descent datasets"
    paths = [str(PROJECT_ROOT / arg) if arg.startswith("examples/") else arg for arg in args]
    result = descent(api_only, *paths)
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((EXAMPLES / "line.yaml").read_text())
    checked = api_only.client.post("/v1/jobs/validate", json=spec).json()
    assert checked["summary"]["total_params"] == 2  # m and b
    assert checked["summary"]["task"] == "regression"
