"""A worker process that crashes (SIGABRT, SIGSEGV) is told apart from one killed for memory
(SIGKILL): on the job's last attempt, the job fails saying which, with advice that fits; on an
earlier one, and when a worker restarts, the job is queued again at once to resume."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from billiard.common import human_status
from billiard.exceptions import WorkerLostError

from core.settings import Settings
from models import Job
from models.base import utcnow
from models.db import session_scope
from services import jobs
from tests.services.test_recovery import job, submit
from workers.child_exits import child_lost, resume_own_jobs, signal_name

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


def test_only_the_last_attempt_is_failed_an_earlier_one_resumed_and_only_the_workers_own(
    home: Path, one_attempt: Settings
):
    elsewhere = running(worker="celery@other")
    assert not child_lost(one_attempt, elsewhere, WORKER, "SIGSEGV")
    assert job(elsewhere).status == "running"
    early = running()
    assert child_lost(Settings(max_attempts=3), early, WORKER, "SIGSEGV") == "resumed"
    assert job(early).status == "queued"  # at once, to resume from its checkpoint


def test_a_restarted_worker_resumes_only_its_own_silent_jobs_at_once(home: Path):
    settings = Settings(heartbeat_seconds=1)
    silent, live, others = running(), running(), running(worker="celery@other")
    with session_scope(settings.resolved_database_url) as session:
        for job_id in (silent, others):
            session.get(Job, job_id).heartbeat_at = utcnow() - timedelta(seconds=5)
    assert resume_own_jobs(settings, WORKER) == [silent]
    assert job(silent).status == "queued"  # resumes from its checkpoint, not after the timeout
    assert job(live).status == "running"  # still beating: another process of that name has it
    assert job(others).status == "running"  # another worker's: the sweep's to judge
