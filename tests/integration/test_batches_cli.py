"""End to end through the ``descent`` command: a 2×2 optimizer sweep on a small slice, watched
live, next to single jobs; the real API, Celery worker, SQLite and broker underneath."""

import json
import os
import re
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner, Result

from core.settings import PROJECT_ROOT
from descent.cli import app
from tests.conftest import Service
from tests.factories import job_spec
from tests.integration.test_crash_resume import wait_until

pytestmark = pytest.mark.integration

small_spec = partial(job_spec, limit=1000, validation=0.2, units=32, batch_size=64, seed=3)
SPEC = small_spec()
SWEEP = {
    "name": "cli-sweep",
    "base": SPEC,
    "vary": {"optimizer.name": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.01]},
    "max_parallel": 1,
}
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def cli(service: Service, *args: str, columns: int = 80) -> Result:
    env = {"DESCENT_URL": str(service.client.base_url), "COLUMNS": str(columns)}
    return CliRunner().invoke(app, list(args), env=env)


def submitted_id(output: str, kind: str) -> str:
    match = re.search(rf"submitted {kind} ([0-9a-f]{{32}})", output)
    assert match, output
    return match.group(1)


# Far more than it could train in the test's time: "first" ends only because it is cancelled.
FIRST = small_spec(name="first", limit=10000, epochs=1000)


def descent(service: Service, *args: str) -> tuple[subprocess.Popen[str], str]:
    """``descent ARGS`` running in a subprocess, and the first line it printed."""
    env = {
        **os.environ, "DESCENT_URL": str(service.client.base_url), "PYTHONUNBUFFERED": "1",
        "COLUMNS": "80",
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "descent.cli", *args],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    return process, process.stdout.readline()


@pytest.fixture(scope="module")
def run(service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A long job keeps the worker busy while the sweep (max_parallel 1), watched by ``descent
    batch --watch``, and then a single job, watched by ``descent submit --watch``, are queued
    behind it; then it is cancelled. Each command runs in a subprocess of its own."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "first.yaml").write_text(yaml.safe_dump(FIRST))
    (folder / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    (folder / "watched.json").write_text(json.dumps({**SPEC, "name": "watched"}))

    first = submitted_id(cli(service, "submit", str(folder / "first.yaml")).output, "job")
    sweep, head = descent(service, "batch", str(folder / "sweep.yaml"), "--watch")
    batch_id = submitted_id(head, "batch")  # printed once the batch's job 0 is queued
    watched, watched_head = descent(service, "submit", str(folder / "watched.json"), "--watch")
    watched_id = submitted_id(watched_head, "job")
    # Both are queued behind "first" now, however long the commands took to start: let it go.
    wait_until(service, first, lambda job: job["status"] == "running", "first's start")
    assert service.client.post(f"/v1/jobs/{first}/cancel").status_code == 202
    rest, _ = sweep.communicate(timeout=400)
    watched_rest, _ = watched.communicate(timeout=400)

    batch = service.client.get(f"/v1/batches/{batch_id}").json()
    histories = {
        job["id"]: service.client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
        for job in batch["jobs"]
    }
    started = {
        job_id: service.client.get(f"/v1/jobs/{job_id}").json()["started_at"]
        for job_id in [first, watched_id, *histories]
    }
    return {
        "batch": batch, "histories": histories, "output": head + rest, "rc": sweep.returncode,
        "watched_output": watched_head + watched_rest, "watched_rc": watched.returncode,
        "watched_id": watched_id, "first": first, "started": started, "folder": folder,
    }  # fmt: skip


def test_the_sweep_finishes_and_the_watch_reports_every_job(run: dict):
    assert run["rc"] == 0, run["output"]
    batch, output = run["batch"], run["output"]
    assert batch["status"] == "succeeded"
    assert batch["counts"]["succeeded"] == 4
    for job in batch["jobs"]:
        name, rate = job["varied"]["optimizer.name"], job["varied"]["optimizer.learning_rate"]
        label = f"job {job['index']} (name={name} learning_rate={rate})"
        assert f"{label}: running" in output
        assert f"{label}: succeeded, best val_loss" in output
    assert "leaderboard by best val_loss (lowest first)" in output


def test_the_leaderboard_follows_the_recorded_metrics(run: dict):
    best = {}
    for job_id, epochs in run["histories"].items():
        trained = [(row["val_loss"], row["epoch"]) for row in epochs if row["epoch"] >= 1]
        best[job_id] = min(trained)
    expected = sorted(best, key=lambda job_id: best[job_id])
    leaderboard = run["batch"]["leaderboard"]
    assert [row["job_id"] for row in leaderboard] == expected
    assert [(row["value"], row["epoch"]) for row in leaderboard] == [best[i] for i in expected]
    printed = run["output"].split("leaderboard by best val_loss")[1]
    positions = [printed.index(job_id[:8]) for job_id in expected]
    assert positions == sorted(positions), printed


def test_every_arm_starts_from_the_same_weights_and_data(run: dict):
    histories = list(run["histories"].values())
    untrained = {tuple(h[0][metric] for metric in METRICS) for h in histories}
    assert len(untrained) == 1, untrained  # identical weights and validation split
    trained = {tuple(h[1][metric] for metric in METRICS) for h in histories}
    assert len(trained) == 4  # the varied optimizer settings are what tell them apart


def test_other_jobs_take_their_turn_between_the_batch_jobs(run: dict):
    started, batch_jobs = run["started"], [job["id"] for job in run["batch"]["jobs"]]
    order = sorted(started, key=lambda job_id: started[job_id])
    assert order == [run["first"], batch_jobs[0], run["watched_id"], *batch_jobs[1:]]


def test_submit_watch_prints_each_epoch_then_a_summary(service: Service, run: dict):
    output, job_id = run["watched_output"], run["watched_id"]
    assert run["watched_rc"] == 0, output
    epochs = service.client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
    lines = output.splitlines()
    assert "status: running" in lines and "status: succeeded" in lines
    for row in epochs:
        values = "  ".join(f"{metric} {row[metric]:.4f}" for metric in METRICS)
        line = next(line for line in lines if line.startswith(f"epoch {row['epoch']}/2 "))
        assert values in line, line
    assert lines.index("status: succeeded") > lines.index("status: running")
    assert "(untrained)" in next(line for line in lines if line.startswith("epoch 0/2"))
    assert f"final val_loss      │ {epochs[-1]['val_loss']:.4f}" in output
    assert f"predict with: descent predict {job_id} image.png" in lines


def test_a_batch_with_one_invalid_item_is_refused_whole(service: Service, run: dict):
    before = service.client.get("/v1/jobs").json()["total"]
    bad = {"specs": [SPEC, {**SPEC, "optimizer": {"name": "adam", "learning_rate": -1}}]}
    path = run["folder"] / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = cli(service, "batch", str(path))
    assert result.exit_code == 3  # a 4xx: bad request
    assert "none was created" in result.output
    assert "item 1 optimizer.learning_rate: Input should be greater than 0" in result.output
    assert service.client.get("/v1/jobs").json()["total"] == before


def test_history_prints_the_epochs_and_plots_them(service: Service, run: dict):
    path = run["folder"] / "curves.png"
    result = cli(service, "history", run["watched_id"], "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert f"history of job {run['watched_id']}" in result.output
    assert path.read_bytes().startswith(b"\x89PNG")
    batch_plot = run["folder"] / "batch.png"
    result = cli(service, "batch-status", run["batch"]["id"], "--plot", str(batch_plot))
    assert result.exit_code == 0, result.output
    assert batch_plot.read_bytes().startswith(b"\x89PNG")


def test_jobs_lists_the_newest_first(service: Service, run: dict):
    result = cli(service, "jobs", "--limit", "3", columns=160)
    assert result.exit_code == 0, result.output
    assert run["watched_id"] in result.output


def test_predict_reads_image_files_like_the_api_reads_pixels(service: Service, run: dict):
    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        digits = data["x_test"][:3]
    paths = []
    for index, digit in enumerate(digits):
        paths.append(run["folder"] / f"digit{index}.png")
        Image.fromarray(255 - digit).save(paths[-1])  # dark ink on white paper
    model_id = run["watched_id"]
    result = cli(service, "predict", model_id, *map(str, paths), columns=200)
    assert result.exit_code == 0, result.output
    answers = service.client.post(
        f"/v1/models/{model_id}/predict", json={"instances": digits.tolist()}
    ).json()["predictions"]
    for path, answer in zip(paths, answers, strict=True):
        row = next(line for line in result.output.splitlines() if str(path) in line)
        assert row.split("│")[2].strip() == answer["label"]


def test_cancel_of_a_finished_job_says_why_it_cannot(service: Service, run: dict):
    result = cli(service, "cancel", run["watched_id"])
    assert result.exit_code == 3  # a 4xx: bad request
    assert "already finished with status 'succeeded'" in result.output
