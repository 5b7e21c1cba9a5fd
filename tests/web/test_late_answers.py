"""The job page when an answer comes after newer news from the event stream: a read of the job
sent while it ran, or the cancel's answer, landing after the job's final event, or after the
recovery sweep put it back in the queue. The page stays on the newer status: a late answer
never takes it back.

No worker runs: the test moves the job on with the service calls a worker makes, and holds
the page's requests with Playwright's routing until the stream has told the job's end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models import JobStatus
from models.base import utcnow
from services import jobs
from tests.api.conftest import MNIST_SPEC
from tests.conftest import Service, as_worker
from tests.web.conftest import Browser, text, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.web]

# Each answer the page reads through response.text() is counted once the code awaiting it has
# run: that code is promise continuations only, which all run before a timer's callback.
COUNT_THE_ANSWERS_READ = """
window.__read = [];
const readText = Response.prototype.text;
Response.prototype.text = async function () {
  const body = await readText.call(this);
  setTimeout(() => window.__read.push(new URL(this.url).pathname));
  return body;
};
"""


@pytest.fixture
def web(browser, api_only: Service) -> Iterator[Browser]:
    opened = Browser(browser, api_only)
    opened.context.add_init_script(COUNT_THE_ANSWERS_READ)
    yield opened
    opened.close()


def wait_until_read(web: Browser, path: str, times: int) -> None:
    web.page.wait_for_function(
        "([path, times]) => window.__read.filter((p) => p === path).length >= times",
        arg=[path, times],
    )


def read_held_while_running(web: Browser, api_only: Service) -> tuple[str, list, dict]:
    """A new job opened on the page, then claimed: the job read that the "running" event asks
    for is held (the page reads the job when it opens, then on each status event). Returns the
    job's id, the held route, and what that read would have been told."""
    job_id = api_only.client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    path = f"/v1/jobs/{job_id}"
    reads, held = [], []

    def hold_the_second_read(route) -> None:
        reads.append(route)
        if len(reads) == 2:
            held.append(route)
        else:
            route.continue_()

    web.page.route(f"**{path}", hold_the_second_read)
    web.page.goto(f"/job.html?id={job_id}")
    wait_for_status(web.page, "queued")
    with web.page.expect_request(f"**{path}"):
        as_worker(api_only, jobs.claim, job_id)
    return job_id, held, api_only.client.get(path).json()


def test_a_read_sent_while_the_job_ran_and_answered_after_it_succeeded_is_not_shown(
    web: Browser, api_only: Service
):
    job_id, held, running = read_held_while_running(web, api_only)
    path, page = f"/v1/jobs/{job_id}", web.page
    as_worker(api_only, jobs.succeed, job_id, {"loss": 0.5})
    wait_for_status(page, "succeeded")
    page.get_by_role("link", name="Predict with this model").wait_for()

    assert len(held) == 1 and running["status"] == "running"
    held[0].fulfill(json=running)
    wait_until_read(web, path, 3)
    assert text(page, "#status") == "succeeded"
    assert page.get_by_role("link", name="Predict with this model").is_visible()
    assert page.locator("#cancel").is_hidden()  # a finished job has nothing to cancel
    assert web.errors == []


def test_the_cancel_answer_that_comes_after_the_job_ended_cancelled_is_not_shown(
    web: Browser, api_only: Service
):
    job_id = api_only.client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(api_only, jobs.claim, job_id)
    path = f"/v1/jobs/{job_id}/cancel"
    page, held = web.page, []

    def answer_later(route) -> None:
        held.append((route, route.fetch()))  # the server takes the cancel now; the page waits

    page.route(f"**{path}", answer_later)
    page.goto(f"/job.html?id={job_id}")
    wait_for_status(page, "running")
    page.get_by_role("button", name="Cancel job").click()
    wait_for_status(page, "cancelling")  # told by the stream, while the answer is held
    as_worker(api_only, jobs.end_cancelled, job_id, None)
    wait_for_status(page, "cancelled")

    route, answer = held[0]
    assert answer.json()["status"] == "cancelling"
    route.fulfill(response=answer)
    wait_until_read(web, path, 1)
    assert text(page, "#status") == "cancelled"
    assert text(page, "#cancel-note").startswith("Cancelled")
    assert page.locator("#cancel").is_hidden()  # a finished job has nothing to cancel
    assert web.errors == []


def test_a_read_sent_while_the_job_ran_and_answered_after_its_worker_was_lost_is_not_shown(
    web: Browser, api_only: Service
):
    """The recovery sweep takes the job back to the queue: a read that says "running" is
    older than that, though "running" comes after "queued" in a job's life."""
    job_id, held, running = read_held_while_running(web, api_only)
    path, page = f"/v1/jobs/{job_id}", web.page
    as_worker(
        api_only, jobs.move, job_id, JobStatus.running, JobStatus.queued, utcnow(),
        enqueued_at=utcnow(),
    )  # fmt: skip
    wait_for_status(page, "queued")
    wait_until_read(web, path, 2)  # the read the "queued" event asked for

    assert len(held) == 1 and running["status"] == "running"
    held[0].fulfill(json=running)
    wait_until_read(web, path, 3)
    assert text(page, "#status") == "queued"
    assert "worker was lost" in text(page, "#resume-note")
    assert page.get_by_role("button", name="Cancel job").is_enabled()
    assert web.errors == []
