"""A worker process that crashes (SIGABRT, SIGSEGV) is told apart from one killed for memory
(SIGKILL): on the job's last attempt, the job fails saying which, with advice that fits."""

import subprocess
import sys
from pathlib import Path

import pytest
from billiard.common import human_status
from billiard.exceptions import WorkerLostError

from core.settings import Settings
from models.db import session_scope
from services import jobs
from tests.services.test_recovery import job, submit
from workers.child_exits import child_lost, signal_name

WORKER = "celery@trainer"


def lost(exitcode: int) -> WorkerLostError:
    """What Celery's parent reports for a pool child that exited with ``exitcode``."""
    return WorkerLostError(f"Worker exited prematurely: {human_status(exitcode)} Job: 7.")


def test_the_signal_of_a_real_child_that_aborted_is_read_from_celerys_report():
    aborted = subprocess.run([sys.executable, "-c", "import os; os.abort()"], check=False)
    assert signal_name(lost(aborted.returncode)) == "SIGABRT"
    assert signal_name(lost(-9)) == "SIGKILL"
    assert signal_name(lost(-11)) == "SIGSEGV"
    assert signal_name(lost(1)) is None  # an exit code: no signal to speak of
    assert signal_name(ValueError("signal 6")) is None


def running(worker: str = WORKER) -> str:
    job_id = submit()
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id, worker=worker, host="h", device="cpu")
    return job_id


@pytest.fixture
def one_attempt(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DESCENT_MAX_ATTEMPTS", "1")
    return Settings()


def test_a_crash_on_the_last_attempt_fails_the_job_as_a_crash_not_as_memory(
    one_attempt: Settings,
):
    job_id = running()
    assert child_lost(one_attempt, job_id, WORKER, "SIGABRT")
    failed = job(job_id)
    assert failed.status == "failed"
    assert "crashed (signal SIGABRT) while training this spec" in failed.error
    assert "out of memory" not in failed.error.replace("not an out-of-memory kill", "")
    killed = running()
    assert child_lost(one_attempt, killed, WORKER, "SIGKILL")
    assert "running out of memory" in job(killed).error


def test_only_the_last_attempt_and_only_the_workers_own_job_is_failed(
    home: Path, one_attempt: Settings
):
    elsewhere = running(worker="celery@other")
    assert not child_lost(one_attempt, elsewhere, WORKER, "SIGSEGV")
    assert job(elsewhere).status == "running"
    early = running()
    assert not child_lost(Settings(max_attempts=3), early, WORKER, "SIGSEGV")
    assert job(early).status == "running"  # the sweep resumes it from its checkpoint
