"""A batch's jobs reach the broker at most ``max_parallel`` at a time, against a real database
and the real (SQLite) broker: the messages are read back from the broker's own table."""

import base64
import json
import sqlite3
from pathlib import Path

import pytest

from core.settings import Settings
from models.db import session_scope
from services import batches, jobs
from tests.conftest import ON_POSTGRES
from tests.factories import job_spec
from tests.harness import wiring
from tests.races import committed, statement
from training.spec import JobSpec
from workers.tasks import start_next_of_batch

SPEC = job_spec(limit=50, validation=None, preset="dense", epochs=1)


def url() -> str:
    return Settings().resolved_database_url


def broker_messages(home: Path) -> list[str]:
    """The job ids waiting in the broker, oldest first."""
    with sqlite3.connect(home / "broker.db") as db:
        rows = db.execute("SELECT payload FROM kombu_message WHERE visible ORDER BY id").fetchall()
    bodies = [json.loads(base64.b64decode(json.loads(row[0])["body"])) for row in rows]
    return [body[0][0] for body in bodies]


def create_batch(size: int, max_parallel: int) -> list[str]:
    specs = [JobSpec.model_validate({**SPEC, "name": f"item {i}"}) for i in range(size)]
    with session_scope(url()) as session:
        batch = batches.create(session, specs, name="b", max_parallel=max_parallel, **wiring())
        return [job.id for job in batches.jobs_of(session, batch.id)]


def finish(job_id: str) -> None:
    """What a worker does with a job: claim it, record the outcome, free its slot."""
    with session_scope(url()) as session:
        assert jobs.claim(session, job_id)
    with session_scope(url()) as session:
        jobs.succeed(session, job_id, {"loss": 1.0})
    start_next_of_batch(job_id, **wiring())


def test_only_max_parallel_jobs_of_a_batch_are_sent(home: Path):
    ids = create_batch(5, max_parallel=2)
    assert broker_messages(home) == ids[:2]


def test_a_finished_job_makes_room_for_the_next_in_order(home: Path):
    ids = create_batch(4, max_parallel=2)
    finish(ids[0])
    assert broker_messages(home) == ids[:3]  # nothing consumes here: ids[0]'s message stays


def test_freeing_a_slot_twice_sends_only_one_job(home: Path):
    ids = create_batch(4, max_parallel=1)
    finish(ids[0])
    # a duplicate delivery of the finished job ends the same way
    start_next_of_batch(ids[0], **wiring())
    assert broker_messages(home) == ids[:2]


def test_jobs_submitted_after_a_large_batch_wait_behind_max_parallel_jobs_only(home: Path):
    ids = create_batch(6, max_parallel=2)
    with session_scope(url()) as session:
        other = jobs.submit(session, JobSpec.model_validate(SPEC), **wiring()).id
    finish(ids[0])
    assert broker_messages(home) == [ids[0], ids[1], other, ids[2]]


def test_cancel_cancels_what_is_queued_stops_what_runs_and_sends_nothing_more(home: Path):
    ids = create_batch(4, max_parallel=2)
    with session_scope(url()) as session:
        assert jobs.claim(session, ids[0])
        batch_id = jobs.get(session, ids[0]).batch_id
    with session_scope(url()) as session:
        batches.cancel(session, batch_id)
    with session_scope(url()) as session:
        statuses = [job.status for job in batches.jobs_of(session, batch_id)]
        transitions = [t.status for t in jobs.get(session, ids[3]).transitions]
    assert statuses == ["cancelling", "cancelled", "cancelled", "cancelled"]
    assert transitions == ["queued", "cancelled"]
    with session_scope(url()) as session:
        jobs.end_cancelled(session, ids[0], None)  # what its worker does when it stops
    start_next_of_batch(ids[0], **wiring())
    assert broker_messages(home) == ids[:2]


def test_a_job_cancelled_before_its_turn_is_passed_over(home: Path):
    ids = create_batch(3, max_parallel=1)
    with session_scope(url()) as session:
        jobs.cancel(session, ids[1])
    finish(ids[0])
    assert broker_messages(home) == [ids[0], ids[2]]


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite: the cancel's first UPDATE takes the database's write lock, so no claim can "
    "commit until the cancel has",
)
def test_a_job_claimed_while_its_batch_is_cancelled_is_asked_to_stop(home: Path):
    ids = create_batch(2, max_parallel=2)
    with session_scope(url()) as session:
        batch_id = jobs.get(session, ids[0]).batch_id

    def claim(session):
        assert jobs.claim(session, ids[0])

    # A worker claims the first job once the cancel has read which jobs are unfinished.
    with committed(claim, before=statement("UPDATE job ")), session_scope(url()) as session:
        batches.cancel(session, batch_id)
        answered = [job.status for job in batches.jobs_of(session, batch_id)]  # as the API
    with session_scope(url()) as session:
        stored = [job.status for job in batches.jobs_of(session, batch_id)]
        assert jobs.should_stop(session, ids[0])  # its worker stops within one batch
    assert answered == stored == ["cancelling", "cancelled"]
