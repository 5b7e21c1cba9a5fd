"""A real ASHA search on a small MNIST slice, with the whole service killed mid-search.

Learning rate (loguniform 1e-4..1) by batch size, four trials one at a time, judged at epoch 1.
The seed is chosen so that the first trial draws a sound rate (0.018) and the others include a
rate too high to learn (0.43: it diverges) and one too low to get anywhere in one epoch (2.2e-4).
The server and its worker are SIGKILLed while a trial trains; once restarted, the search must
finish with every trial once: none lost, none started twice, each history complete up to where
the trial stopped.
"""

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from descent.cli import app
from tests.conftest import Backend, production_topology
from tests.factories import job_spec
from tests.harness import Service, start_service, stop_service
from tests.integration.test_crash_resume import children

# A restart of the whole service is the production topology's test: on the PostgreSQL + Redis
# pass where there is one (tests/conftest.py).
pytestmark = [pytest.mark.integration, production_topology]

EPOCHS = 3
SEARCH = {
    "name": "lr-batch",
    "base": job_spec(limit=1000, validation=0.2, units=32, epochs=EPOCHS, seed=1),
    "space": {
        "optimizer.learning_rate": {"loguniform": [1e-4, 1.0]},
        "batch_size": {"choice": [32, 64]},
    },
    "sampler": {"type": "random", "seed": 285},
    "max_trials": 4,
    "max_parallel": 1,
    "early_stopping": {"type": "asha", "reduction_factor": 3, "rungs": [1]},
}
# A dead worker's trial is taken over within seconds (nothing else trains in this service).
RECOVERY = {
    "DESCENT_HEARTBEAT_SECONDS": "0.5",
    "DESCENT_HEARTBEAT_TIMEOUT_SECONDS": "6",
    "DESCENT_RECONCILE_SECONDS": "1",
    "DESCENT_RESEND_AFTER_SECONDS": "5",  # a message the killed worker had taken is sent again
}


def wait_for(service: Service, url: str, check, what: str, timeout: float = 240) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        search = service.client.get(url).json()
        if check(search):
            return search  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout}s; log: {service.log}")


def cli(service: Service, *args: str) -> Result:
    env = {"DESCENT_URL": service.url, "COLUMNS": "160"}
    return CliRunner().invoke(app, list(args), env=env)


def kill(service: Service) -> None:
    """SIGKILL the server, its worker and the worker's children: nothing shuts down cleanly."""
    tree, found = [service.pid], [service.pid]
    while found:
        found = [child for pid in found for child in children(pid)]
        tree += found
    for pid in reversed(tree):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    service.process.wait()
    service.client.close()


def test_asha_stops_the_losers_at_the_first_rung_and_survives_a_crash(
    tmp_path: Path, backend: Backend
):
    home = tmp_path / "home"
    service = start_service(home, **RECOVERY, **backend(home))
    try:
        search_file = tmp_path / "search.yaml"
        search_file.write_text(yaml.safe_dump(SEARCH))
        submitted = cli(service, "search", str(search_file), "--output", "json")
        assert submitted.exit_code == 0, submitted.output
        search_id = json.loads(submitted.stdout)["id"]
        url = f"/v1/searches/{search_id}"
        # Killed while trial 1 trains (trial 0 has ended and been judged).
        running = lambda s: any(t["number"] == 1 and t["status"] == "running" for t in s["trials"])  # noqa: E731
        wait_for(service, url, running, "trial 1")
        kill(service)
        service = start_service(home, port=int(service.url.rsplit(":", 1)[1]), **RECOVERY,
                                **backend(home))  # fmt: skip
        watched = cli(service, "search-status", search_id, "--watch")  # until it ends
        search = service.client.get(url).json()
        histories = {
            t["number"]: service.client.get(f"/v1/jobs/{t['job_id']}/history").json()["epochs"]
            for t in search["trials"]
        }
    finally:
        stop_service(service)

    assert search["status"] == "succeeded", search
    assert watched.exit_code == 0, watched.output
    assert f"best: trial {search['best']['number']}" in watched.stdout
    assert "stopped at 1" in watched.stdout  # the leaderboard says where trials stopped
    trials = {t["number"]: t for t in search["trials"]}
    assert sorted(trials) == [0, 1, 2, 3]  # none lost, none twice
    assert len({t["job_id"] for t in trials.values()}) == 4
    assert sorted(search["arrival_order"]) == [0, 1, 2, 3]
    rates = {n: t["params"]["optimizer.learning_rate"] for n, t in trials.items()}
    assert 0.005 < rates[0] < 0.02 and rates[1] < 3e-4 and rates[2] > 0.3
    # The best ran to the end; the too-slow and the diverging trials stopped at the rung.
    best = trials[search["best"]["number"]]
    assert not best["stopped_early"] and best["status"] == "succeeded"
    assert [row["epoch"] for row in histories[best["number"]]] == list(range(EPOCHS + 1))
    for number in (1, 2):
        assert trials[number]["stopped_at_epoch"] == 1, trials[number]
        assert trials[number]["status"] == "cancelled"
        assert trials[number]["stop_reason"].startswith("stopped early at epoch 1")
    for number, trial in trials.items():  # each history complete up to where it ended
        last = trial["stopped_at_epoch"] or EPOCHS
        assert [row["epoch"] for row in histories[number]] == list(range(last + 1)), number
    assert search["budget"]["epochs_spent"] < 4 * EPOCHS
