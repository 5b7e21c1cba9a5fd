"""A job read while a worker changes it tells one story: its status and its transitions agree
(a watch counts the transitions to know which status events it has been told already)."""

from pathlib import Path

from sqlalchemy import event

from core.settings import Settings
from models.db import get_engine, session_scope
from services import jobs
from tests.factories import job_spec
from tests.harness import wiring
from training.spec import JobSpec

SPEC = job_spec(limit=50, validation=None, preset="dense", epochs=1)


def read_while_claimed(read) -> list[tuple[str, list[str]]]:
    """``read(session)``'s jobs as (status, transition statuses), a worker's claim of the job
    committing just before the read's first statement that touches the transitions."""
    url = Settings().resolved_database_url
    with session_scope(url) as session:
        job_id = jobs.submit(session, JobSpec.model_validate(SPEC), **wiring()).id
    claimed: list[bool] = []

    def claim_first(_conn, _cursor, statement: str, *_args) -> None:
        reads_transitions = statement.lstrip().upper().startswith("SELECT")
        if reads_transitions and "job_transition" in statement and not claimed:
            claimed.append(True)
            with session_scope(url) as other:
                assert jobs.claim(other, job_id)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", claim_first)
    try:
        with session_scope(url) as session:
            found = read(session, job_id)
            told = [(job.status, [t.status for t in job.transitions]) for job in found]
    finally:
        event.remove(engine, "before_cursor_execute", claim_first)
    assert claimed, "the read never loaded the transitions"
    return told


def test_a_job_read_as_a_worker_claims_it_shows_the_status_its_transitions_end_with(home: Path):
    [(status, transitions)] = read_while_claimed(
        lambda session, job_id: [jobs.get(session, job_id)]
    )
    assert transitions[-1] == status, (status, transitions)


def test_a_page_of_jobs_read_as_a_worker_claims_one_agrees_with_itself(home: Path):
    [(status, transitions)] = read_while_claimed(
        lambda session, _: jobs.page(session, limit=5, offset=0)[0]
    )
    assert transitions[-1] == status, (status, transitions)
