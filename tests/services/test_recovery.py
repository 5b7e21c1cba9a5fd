"""The recovery sweep against a real database: silent workers' jobs resume, then give up."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from core.settings import Settings
from models import Job
from models.base import utcnow
from models.db import session_scope
from services import jobs, recovery
from services.queue import Broker
from tests.conftest import ON_POSTGRES
from tests.harness import wiring
from tests.races import committed, statement
from training.spec import JobSpec

SPEC = {"dataset": {"name": "mnist", "limit": 50}, "model": {"preset": "dense"}, "epochs": 1}


def submit() -> str:
    with session_scope(Settings().resolved_database_url) as session:
        return jobs.submit(session, JobSpec.model_validate(SPEC), **wiring()).id


def claimed() -> str:
    job_id = submit()
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
    return job_id


def sweep_at(seconds_later: float) -> recovery.Swept:
    with session_scope(Settings().resolved_database_url) as session:
        later = utcnow() + timedelta(seconds=seconds_later)
        return recovery.sweep(session, Settings(), Broker(Settings()), later)


def job(job_id: str) -> Job:
    with session_scope(Settings().resolved_database_url) as session:
        return jobs.get(session, job_id)


def test_a_job_whose_worker_went_silent_is_queued_again_and_counted(home: Path):
    job_id = claimed()
    assert sweep_at(1).resumed == []  # its worker has just said it is alive
    timeout = Settings().heartbeat_timeout_seconds
    assert sweep_at(timeout + 1).resumed == [job_id]
    assert job(job_id).status == "queued"
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)  # the next worker takes it: its second attempt
    assert job(job_id).attempts == 2
    assert [t.status for t in job(job_id).transitions] == ["queued", "running", "queued", "running"]


def test_a_taken_over_attempt_can_neither_beat_nor_write_for_the_job(home: Path):
    job_id = claimed()  # attempt 1; its heartbeat is late, not dead
    url = Settings().resolved_database_url
    assert sweep_at(Settings().heartbeat_timeout_seconds + 1).resumed == [job_id]
    with session_scope(url) as session:  # queued again: no attempt holds it
        assert not recovery.hold(session, job_id, 1, checkpoint_epoch=7)
    with session_scope(url) as session:
        assert jobs.claim(session, job_id)  # attempt 2
    claimed_at = job(job_id).heartbeat_at
    with session_scope(url) as session:
        assert not recovery.hold(session, job_id, 1, checkpoint_epoch=7)
        assert not recovery.holds(session, job_id, 1)
    late = job(job_id)
    assert (late.heartbeat_at, late.checkpoint_epoch) == (claimed_at, None)
    with session_scope(url) as session:
        assert recovery.hold(session, job_id, 2, checkpoint_epoch=3)
    assert job(job_id).checkpoint_epoch == 3
    with session_scope(url) as session:
        jobs.succeed(session, job_id, {})
    with session_scope(url) as session:  # a finished job is no attempt's to write to
        assert not recovery.hold(session, job_id, 2, checkpoint_epoch=4)
    assert job(job_id).checkpoint_epoch == 3


def test_past_the_attempt_cap_the_job_fails_saying_why(home: Path):
    job_id = claimed()
    with session_scope(Settings().resolved_database_url) as session:
        session.execute(update(Job).where(Job.id == job_id).values(attempts=3))
    swept = sweep_at(Settings().heartbeat_timeout_seconds + 1)
    assert swept.failed == [job_id]
    failed = job(job_id)
    assert failed.status == "failed"
    assert "stopped answering on each of its 3 attempts" in failed.error
    assert "smaller batch_size" in failed.error


def test_a_queued_job_whose_message_was_lost_is_sent_again_once(home: Path):
    job_id = submit()
    assert job(job_id).enqueued_at is not None
    later = Settings().resend_after_seconds + 1
    assert sweep_at(later).resent == [job_id]
    assert sweep_at(later).resent == []  # the send was recorded; not again until it is old
    assert job(job_id).status == "queued"


def test_a_cancelling_job_whose_worker_died_ends_cancelled(home: Path):
    job_id = claimed()
    with session_scope(Settings().resolved_database_url) as session:
        jobs.cancel(session, job_id)
    assert sweep_at(Settings().heartbeat_timeout_seconds + 1).cancelled == [job_id]
    assert job(job_id).status == "cancelled"


def test_resending_backs_off_for_a_job_that_merely_waits_in_line(home: Path):
    job_id = submit()
    resend = Settings().resend_after_seconds
    assert sweep_at(resend + 1).resent == [job_id]
    # Sent again at +resend; the next resend waits as long as the job had waited by then.
    assert sweep_at(2 * resend + 1.5).resent == []
    assert sweep_at(3 * resend + 3).resent == [job_id]


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite: the cancel's first UPDATE takes the database's write lock, so the sweep "
    "cannot commit until the cancel has",
)
def test_a_job_the_sweep_queues_again_while_it_is_cancelled_is_cancelled(home: Path):
    job_id = claimed()
    later = utcnow() + timedelta(seconds=Settings().heartbeat_timeout_seconds + 1)

    def requeue(session):
        assert recovery.sweep(session, Settings(), Broker(Settings()), later).resumed == [job_id]

    # The cancel finds the job not queued; the sweep puts it back in the queue before the
    # cancel tries it as running.
    url = Settings().resolved_database_url
    with committed(requeue, before=statement("UPDATE job ", nth=2)), session_scope(url) as session:
        cancelled = jobs.cancel(session, job_id)
    assert cancelled.status == job(job_id).status == "cancelled"
    assert [t.status for t in job(job_id).transitions] == [
        "queued", "running", "queued", "cancelled",
    ]  # fmt: skip


def test_forgetting_a_finished_jobs_checkpoint_does_not_change_the_job_a_client_read(home: Path):
    """A watcher that saw the job finish holds the job the API still serves afterwards."""
    job_id = claimed()
    with session_scope(Settings().resolved_database_url) as session:
        session.execute(update(Job).where(Job.id == job_id).values(checkpoint_key="k/model"))
    before = job(job_id).updated_at
    with session_scope(Settings().resolved_database_url) as session:
        recovery.forget_checkpoint(session, job_id)
    after = job(job_id)
    assert after.checkpoint_key is None
    assert after.updated_at == before
