"""The worker parent serves what its pool children counted, after they are gone: a fresh
process plays the parent (prometheus_client chooses multiprocess mode once, at import, so it
cannot be this test process) and forks children as Celery's prefork pool does."""

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings
from tests.harness import free_port
from workers import metrics, metrics_server


def _count_an_epoch() -> None:
    metrics.epoch_ended("cpu", 2.0, 10)


def _hold_gpu_memory(ready, stop) -> None:  # type: ignore[no-untyped-def]
    metrics._metrics().gpu_memory.labels("gpu:0", "current").set(5e9)
    ready.set()
    stop.wait(60)


def parent(home: str, port: int) -> None:
    """The worker parent's part, run in its own process: report what a scraper sees."""
    settings = Settings(home=Path(home), worker_metrics_port=port, worker_metrics_host="127.0.0.1")
    folder = metrics_server.prepare(settings)
    metrics_server.serve(settings)
    fork = multiprocessing.get_context("fork")
    for _ in range(3):  # three jobs, each in a child that exits after it
        child = fork.Process(target=_count_an_epoch)
        child.start()
        child.join()
    ready, stop = fork.Event(), fork.Event()
    holder = fork.Process(target=_hold_gpu_memory, args=(ready, stop))
    holder.start()
    ready.wait(30)
    url = f"http://127.0.0.1:{port}/metrics"
    seen = {"training": httpx.get(url).text, "again": httpx.get(url).text}
    os.kill(holder.pid, signal.SIGKILL)  # killed: it never says it is gone
    holder.join()
    seen["after_kill"] = httpx.get(url).text
    seen["files"] = sorted(path.name for path in folder.iterdir())
    print(json.dumps(seen))


def test_the_parent_serves_the_sum_of_its_children_once_each_and_drops_a_killed_childs_gauge(
    tmp_path: Path,
):
    stale = tmp_path / "metrics" / "worker-999999999"  # a worker long gone
    stale.mkdir(parents=True)
    call = f"parent({str(tmp_path)!r}, {free_port()})"
    script = f"from tests.workers.test_metrics_server import parent; {call}"
    env = {k: v for k, v in os.environ.items() if k != metrics_server.VARIABLE}
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    for scrape in ("training", "again"):  # merging the dead children's files counts nothing twice
        assert 'descent_training_samples_total{queue="cpu"} 30.0' in seen[scrape]
        assert 'descent_epoch_duration_seconds_count{queue="cpu"} 3.0' in seen[scrape]
        assert 'descent_gpu_memory_bytes{device="gpu:0",kind="current"} 5e+09' in seen[scrape]
    assert 'descent_training_samples_total{queue="cpu"} 30.0' in seen["after_kill"]
    assert "descent_gpu_memory_bytes{" not in seen["after_kill"]
    assert seen["files"] == ["counter_merged.db", "histogram_merged.db"]
    assert not stale.exists()


def test_a_port_of_zero_serves_nothing(tmp_path: Path):
    assert metrics_server.serve(Settings(home=tmp_path, worker_metrics_port=0)) is None


def test_a_port_already_taken_is_logged_and_the_worker_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setenv(metrics_server.VARIABLE, str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(
            home=tmp_path, worker_metrics_port=port, worker_metrics_host="127.0.0.1"
        )
        assert metrics_server.serve(settings) is None
    assert f"could not serve worker metrics on 127.0.0.1:{port}" in caplog.text
