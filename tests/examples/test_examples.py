"""The ready-made files in examples/ are specs and batches the API accepts."""

from pathlib import Path

import pytest
import yaml

from api.routes.batches import parse_items
from api.schemas.batches import BatchCreate
from core.settings import PROJECT_ROOT
from training.spec import JobSpec

EXAMPLES = PROJECT_ROOT / "examples"
# line.yaml trains on a user data set ("line"), which has to be uploaded first.
JOB_FILES = ["mnist-dense.yaml", "asl-dense.yaml", "asl-cnn.yaml"]


def load(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


@pytest.mark.parametrize("name", JOB_FILES)
def test_job_examples_are_valid_specs(name: str):
    spec = JobSpec.model_validate(load(name))
    assert spec.name and spec.name.startswith("dli-")


def test_the_optimizer_comparison_is_four_optimizers_at_three_learning_rates():
    specs = parse_items(BatchCreate.model_validate(load("optimizer-comparison.yaml")))
    arms = {(spec.optimizer.name, spec.optimizer.learning_rate) for spec in specs}
    assert len(specs) == len(arms) == 12
    assert {spec.seed for spec in specs} == {0}


def test_the_search_example_is_a_search_the_api_accepts(home: Path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from core.settings import Settings

    with TestClient(create_app(Settings())) as client:
        search = client.post("/v1/searches", json=load("search-mnist.yaml"))
        assert search.status_code == 202, search.text
        assert search.json()["early_stopping"]["rungs"] == [1, 3]
        assert len(search.json()["trials"]) == 2  # max_parallel


def test_every_example_is_listed_in_the_examples_readme():
    readme = (EXAMPLES / "README.md").read_text()
    for path in EXAMPLES.glob("*.yaml"):
        assert f"`{path.name}`" in readme, path.name


def test_the_line_data_is_the_two_points_of_the_lesson():
    assert Path(EXAMPLES / "line.csv").read_text().splitlines() == ["x,y", "1,3", "2,5"]


def test_the_line_example_trains_on_its_csv_once_uploaded(home: Path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from core.settings import Settings

    with TestClient(create_app(Settings())) as client:
        spec = load("line.yaml")
        assert client.post("/v1/jobs/validate", json=spec).json()["errors"][0]["field"] == (
            "dataset.name"
        )
        csv = (EXAMPLES / "line.csv").read_bytes()
        form = {"name": "line", "task": "regression"}
        upload = client.post("/v1/datasets", data=form, files={"file": ("line.csv", csv)})
        assert upload.status_code == 201, upload.text
        checked = client.post("/v1/jobs/validate", json=spec).json()
        assert checked["summary"]["total_params"] == 2  # m and b
        assert checked["summary"]["task"] == "regression"
