"""``descent`` in scripts: ``--output json`` answers with the API's own objects, one document on
stdout, and the exit status tells a failed job, a cancelled one, a refused request, a server that
cannot be reached and a usage error apart. The real service underneath."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from core.settings import PROJECT_ROOT
from descent.cli import app
from descent.exit_codes import ExitCode
from services import jobs
from tests.conftest import Service, as_worker
from tests.factories import job_spec

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("cli_script.sh")
TINY = job_spec(name="scripted", limit=300, validation=0.2, units=8, epochs=1, seed=1)


def cli(service: Service, *args: str, columns: int = 80) -> Result:
    env = {"DESCENT_URL": service.url, "COLUMNS": str(columns), "DESCENT_PROFILE": None}
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture(scope="module")
def script(service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """cli_script.sh run once, with ``descent`` and ``python`` from this environment."""
    work = tmp_path_factory.mktemp("script")
    (work / "spec.json").write_text(json.dumps(TINY))
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "DESCENT_URL": service.url, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("DESCENT_PROFILE", None)
    env.pop("DESCENT_API_KEY", None)
    env["XDG_CONFIG_HOME"] = str(work / "config")  # no user's profile in the way
    ran = subprocess.run(
        ["bash", str(SCRIPT), str(work / "spec.json"), str(work)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    return {"work": work, "rc": ran.returncode, "stderr": ran.stderr}


def test_the_script_submits_watches_and_reads_history_and_model(service: Service, script: dict):
    work = script["work"]
    assert script["rc"] == 0, script["stderr"]
    final = json.loads((work / "final.json").read_text())
    assert final == service.client.get(f"/v1/jobs/{final['id']}").json()  # the API's object
    assert (work / "shown").read_text().strip() == "succeeded"
    history = json.loads((work / "history.json").read_text())
    assert [row["epoch"] for row in history["epochs"]] == [0, 1]
    model = json.loads((work / "model.json").read_text())
    assert model == service.client.get(f"/v1/models/{final['model_id']}").json()
    assert model["job"]["id"] == final["id"]
    assert int((work / "params").read_text()) == 784 * 8 + 8 + 8 * 10 + 10


def test_a_downloaded_model_is_the_servers_keras_file(service: Service, script: dict):
    work = script["work"]
    path = Path((work / "downloaded").read_text().strip())
    assert path == work / "model.keras"
    model_id = json.loads((work / "final.json").read_text())["model_id"]
    served = service.client.get(f"/v1/models/{model_id}/download", params={"format": "keras"})
    assert path.read_bytes() == served.content


def test_each_kind_of_trouble_has_its_exit_status(script: dict):
    codes = dict(line.split() for line in (script["work"] / "codes").read_text().splitlines())
    assert codes == {
        "validate-bad": str(ExitCode.bad_request.value),
        "submit-bad": str(ExitCode.bad_request.value),
        "unknown-job": str(ExitCode.bad_request.value),
        "unreachable": str(ExitCode.unreachable.value),
        "missing-file": str(ExitCode.usage.value),
        "usage": str(ExitCode.usage.value),
    }


def test_refusals_keep_stdout_empty_and_explain_on_stderr(script: dict):
    work = script["work"]
    assert (work / "bad.out").read_text() == ""
    assert (work / "unreachable.out").read_text() == ""
    assert "epochs" in (work / "bad.err").read_text()


def test_a_piped_table_keeps_each_row_whole_on_its_line(service: Service, script: dict):
    final = json.loads((script["work"] / "final.json").read_text())
    result = cli(service, "jobs", "--limit", "200", columns=40)  # a narrow terminal nearby
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if final["id"] in line)
    assert "scripted" in row and "succeeded" in row, result.output


def test_watching_a_failed_job_exits_1_and_a_cancelled_one_4(api_only: Service, tmp_path: Path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(TINY))
    submitted = [json.loads(cli(api_only, "submit", str(path), "-o", "json").stdout)["id"]]
    submitted.append(json.loads(cli(api_only, "submit", str(path), "-o", "json").stdout)["id"])
    failing, cancelled = submitted
    as_worker(api_only, jobs.claim, failing)
    as_worker(api_only, jobs.fail, failing, "the data ran out")
    assert cli(api_only, "cancel", cancelled).exit_code == 0

    watched = cli(api_only, "watch", failing, "-o", "json")
    assert watched.exit_code == ExitCode.job_failed == 1, watched.output
    assert json.loads(watched.stdout)["error"] == "the data ran out"
    watched = cli(api_only, "watch", cancelled)
    assert watched.exit_code == ExitCode.job_cancelled == 4, watched.output
    assert "cancelled" in watched.stdout
