"""Searches over HTTP without training: trials are real queued jobs, and the worker's side
(claiming, recording epochs, ending) is played through the same services the worker calls, so
the decisions (ASHA at a rung, the next trial when one ends) are the ones a real run takes."""

from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import batches, epochs, jobs
from services.queue import Broker
from tests.api.conftest import MNIST_SPEC

BASE = {
    **MNIST_SPEC,
    "epochs": 4,
    "dataset": {**MNIST_SPEC["dataset"], "validation": {"fraction": 0.2}},
}
SEARCH = {
    "name": "lr",
    "base": BASE,
    "space": {
        "optimizer.learning_rate": {"loguniform": [1e-4, 1.0]},
        "batch_size": {"choice": [16, 32, 64]},
    },
    "sampler": {"type": "random", "seed": 3},
    "max_trials": 4,
    "max_parallel": 2,
    "early_stopping": {"type": "asha", "reduction_factor": 3, "rungs": [1]},
}


def settings() -> Settings:
    return Settings()


def train(job_id: str, *val_losses: float | None) -> None:
    """The worker's part: claim the job and record epochs 0.. with these validation losses."""
    with session_scope(settings().resolved_database_url) as session:
        if jobs.get(session, job_id).status == "queued":
            assert jobs.claim(session, job_id)
    for epoch, value in enumerate(val_losses):
        with session_scope(settings().resolved_database_url) as session:
            logs = {"loss": value, "val_loss": value, "val_accuracy": 0.5}
            epochs.record(session, job_id, epoch, 1.0, logs)


def end(job_id: str) -> None:
    """The job ends as the worker ends it (cancelled if asked to stop), then fills its slot."""
    with session_scope(settings().resolved_database_url) as session:
        status = jobs.get(session, job_id).status
        if status == "cancelling":
            jobs.end_cancelled(session, job_id, {"val_loss": 1.0})
        elif status == "running":
            jobs.succeed(session, job_id, {"val_loss": 1.0})
    with session_scope(settings().resolved_database_url) as session:
        batches.dispatch_after(session, job_id, Broker(settings()))


def trial(search: dict[str, Any], number: int) -> dict[str, Any]:
    return next(t for t in search["trials"] if t["number"] == number)


def test_a_search_runs_trials_and_stops_the_losers_at_the_rung(client: TestClient):
    response = client.post("/v1/searches", json=SEARCH)
    assert response.status_code == 202, response.text
    search = response.json()
    url = f"/v1/searches/{search['id']}"
    assert response.headers["location"] == url
    assert search["status"] == "running"
    assert search["direction"] == "minimize" and search["metric"] == "val_loss"
    assert [t["status"] for t in search["trials"]] == ["queued", "queued"]  # max_parallel
    lr = search["trials"][0]["params"]["optimizer.learning_rate"]
    assert 1e-4 <= lr <= 1.0
    assert search["trials"][0]["params"]["batch_size"] in (16, 32, 64)
    first, second = (t["job_id"] for t in search["trials"])
    # A trial is an ordinary job, with the parameters in its spec.
    job = client.get(f"/v1/jobs/{first}").json()
    assert job["spec"]["optimizer"]["learning_rate"] == lr

    train(first, 2.3, 0.5)  # the first at the rung continues (it is the best so far)
    train(second, 2.3, 1.5)  # behind it: stopped, the job asked to stop
    search = client.get(url).json()
    assert trial(search, 0)["stopped_early"] is False
    stopped = trial(search, 1)
    assert stopped["stopped_early"] and stopped["stopped_at_epoch"] == 1
    assert stopped["stop_reason"].startswith("stopped early at epoch 1: not in the top 1/3")
    assert stopped["status"] == "cancelling"

    train(second, 2.3, 1.5)  # recorded again (a resumed attempt): the decision stands, once
    end(second)
    end(second)  # reported twice: one arrival, one new trial
    search = client.get(url).json()
    assert search["arrival_order"] == [1]
    assert search["budget"]["trials_started"] == 3
    assert trial(search, 1)["status"] == "cancelled"
    assert client.get(f"/v1/jobs/{second}/history").json()["epochs"][-1]["epoch"] == 1

    train(first, 2.3, 0.5, 0.4, 0.3, 0.2)
    end(first)
    for number in (2, 3):
        job_id = trial(client.get(url).json(), number)["job_id"]
        train(job_id, 2.3, None)  # diverged: its loss is not a number
        end(job_id)
    search = client.get(url).json()
    assert search["status"] == "succeeded"
    assert search["budget"]["trials_started"] == 4
    assert search["best"]["number"] == 0 and search["best"]["value"] == 0.2
    assert "not a number" in trial(search, 3)["stop_reason"]
    assert sorted(search["arrival_order"]) == [0, 1, 2, 3]
    board = client.get(f"{url}/leaderboard").json()
    assert [t["number"] for t in board["trials"]][:2] == [0, 1]
    # Every trial's epochs are counted: 5 + 2 + 2 + 2 trained epochs (epoch 0 is free).
    assert search["budget"]["epochs_spent"] == 4 + 1 + 1 + 1
    listed = client.get("/v1/searches").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == search["id"]
    assert client.post(f"{url}/cancel").json()["code"] == "search_finished"
    with client.stream("GET", f"{url}/events") as stream:  # a finished search's stream ends
        text = "".join(stream.iter_text())
    assert text.count("event: trial") == 4 and text.count("event: status") == 1
    assert '"status": "succeeded"' in text


def test_a_space_that_can_produce_an_invalid_spec_is_refused_naming_the_path(client: TestClient):
    bad = {**SEARCH, "space": {**SEARCH["space"], "batch_size": {"int": [0, 64]}}}
    response = client.post("/v1/searches", json=bad)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "search_space_invalid"
    assert problem["errors"][0]["field"] == "space.batch_size"
    assert problem["errors"][0]["value"] == 0
    grid = {**SEARCH, "sampler": {"type": "grid"}}
    response = client.post("/v1/searches", json=grid)
    assert response.json()["errors"][0]["field"] == "space.optimizer.learning_rate"
    nowhere = {**SEARCH, "space": {"optimizer.nonsense": {"choice": [1, 2]}}}
    assert client.post("/v1/searches", json=nowhere).status_code == 422
    typo = {**SEARCH, "metric": "val_acuracy"}
    assert client.post("/v1/searches", json=typo).json()["errors"][0]["field"] == "metric"
    assert client.get("/v1/searches").json()["total"] == 0


def test_a_grid_search_takes_each_point_once_and_cancel_stops_it(client: TestClient):
    grid = {
        **SEARCH,
        "space": {
            "batch_size": {"choice": [16, 32]},
            "optimizer.name": {"choice": ["sgd", "adam"]},
        },
        "sampler": {"type": "grid", "seed": 1},
        "max_trials": None,
        "max_parallel": 4,
    }
    search = client.post("/v1/searches", json=grid).json()
    points = {(t["params"]["batch_size"], t["params"]["optimizer.name"]) for t in search["trials"]}
    assert len(points) == 4 and search["budget"]["max_trials"] == 4
    cancelled = client.post(f"/v1/searches/{search['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert {t["status"] for t in cancelled["trials"]} == {"cancelled"}
    assert client.get("/v1/searches/0123456789abcdef0123456789abcdef").status_code == 404


def test_the_recovery_sweep_reports_a_trial_whose_worker_died_before_reporting_it(
    client: TestClient,
):
    """The worker ended the job and died before ``dispatch_after``: the sweep records the
    result and starts the next trial, once, however often it runs."""
    from services import recovery

    search = client.post("/v1/searches", json={**SEARCH, "max_parallel": 1}).json()
    url = f"/v1/searches/{search['id']}"
    job_id = search["trials"][0]["job_id"]
    train(job_id, 2.3, 0.5, 0.4, 0.3, 0.2)
    with session_scope(settings().resolved_database_url) as session:
        jobs.succeed(session, job_id, {"val_loss": 0.2})  # and no dispatch_after
    for _ in range(2):
        with session_scope(settings().resolved_database_url) as session:
            recovery.sweep(session, settings(), Broker(settings()))
    search = client.get(url).json()
    assert search["arrival_order"] == [0]
    assert search["budget"]["trials_started"] == 2
    assert trial(search, 0)["value"] == 0.2


def test_a_trial_stopped_early_can_be_resumed_by_its_owner(client: TestClient):
    from sqlalchemy import update

    from models import Job

    search = client.post("/v1/searches", json=SEARCH).json()
    url = f"/v1/searches/{search['id']}"
    first, second = (t["job_id"] for t in search["trials"])
    train(first, 2.3, 0.5)
    train(second, 2.3, 1.5)  # stopped at the rung
    with session_scope(settings().resolved_database_url) as session:  # the checkpoint it kept
        session.execute(update(Job).where(Job.id == second).values(checkpoint_key="k"))
    assert client.post(f"{url}/trials/1/resume").json()["code"] == "trial_not_resumable"
    end(second)
    assert client.post(f"{url}/trials/0/resume").json()["code"] == "trial_not_resumable"
    assert client.post(f"{url}/trials/9/resume").json()["code"] == "trial_not_found"
    resumed = client.post(f"{url}/trials/1/resume")
    assert resumed.status_code == 200, resumed.text
    assert trial(resumed.json(), 1)["status"] == "queued"
    assert trial(resumed.json(), 1)["stop_reason"].endswith("; resumed by its owner")
