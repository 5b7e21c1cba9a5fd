"""The job page of a job whose worker is lost: the recovery sweep puts it back in the queue, and
the next worker resumes it from its last checkpoint, training the epochs after it again. The
page shows the job waiting in the queue, says why, and shows each re-trained epoch once.

No worker runs: the test moves the job on with the service calls a worker and the sweep make."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models import JobStatus
from models.base import utcnow
from services import epochs, jobs
from tests.api.conftest import MNIST_SPEC
from tests.conftest import Service, as_worker
from tests.web.conftest import Browser, text, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.web]

SPEC = {**MNIST_SPEC, "epochs": 3}
EPOCH_TABLE = """() => [...document.querySelectorAll('#epochs tr')].map(
  (row) => [...row.cells].map((cell) => cell.textContent.trim())
)"""


@pytest.fixture
def web(browser, api_only: Service) -> Iterator[Browser]:
    opened = Browser(browser, api_only)
    yield opened
    opened.close()


def record_epoch(service: Service, job_id: str, epoch: int, val_loss: float) -> None:
    logs = {"loss": 2.0 / (epoch + 1), "accuracy": 0.2 * epoch, "val_loss": val_loss}
    as_worker(service, epochs.record, job_id, epoch, 1.0, logs)


def wait_for_val_loss(page, epoch: int, shown: str) -> None:
    """Until the epoch table's row for ``epoch`` shows ``shown`` as its validation loss."""
    page.wait_for_function(
        f"([epoch, shown]) => ({EPOCH_TABLE})().some("
        "  (cells) => cells[0].split(' ')[0] === String(epoch) && cells[2] === shown)",
        arg=[epoch, shown],
    )


def test_a_job_whose_worker_was_lost_is_shown_queued_then_resumed_with_each_epoch_once(
    web: Browser, api_only: Service
):
    job_id = api_only.client.post("/v1/jobs", json=SPEC).json()["id"]
    page = web.page
    page.goto(f"/job.html?id={job_id}")
    wait_for_status(page, "queued")
    as_worker(api_only, jobs.claim, job_id)
    wait_for_status(page, "running")
    # The lost worker's epochs 2 and 3 are past its checkpoint (epoch 1), and look best.
    for epoch, val_loss in ((0, 2.2), (1, 1.1), (2, 0.05), (3, 0.04)):
        record_epoch(api_only, job_id, epoch, val_loss)
    wait_for_val_loss(page, 3, "0.04")

    as_worker(
        api_only, jobs.move, job_id, JobStatus.running, JobStatus.queued, utcnow(),
        enqueued_at=utcnow(),
    )  # fmt: skip
    wait_for_status(page, "queued")
    web.shot("lost-worker-1-queued-again")
    note = text(page, "#resume-note")
    assert "worker was lost" in note and "last checkpoint" in note
    assert page.get_by_role("button", name="Cancel job").is_enabled()

    as_worker(api_only, jobs.claim, job_id)
    as_worker(api_only, epochs.forget_after, job_id, 1)
    wait_for_status(page, "running")
    assert text(page, "#resume-note") == ""
    record_epoch(api_only, job_id, 2, val_loss=0.9)
    wait_for_val_loss(page, 2, "0.9")
    resumed = page.evaluate(EPOCH_TABLE)
    web.shot("lost-worker-2-epoch-2-again")
    # The lost worker's epoch 3 is no longer in the job's history: it is trained again next.
    assert [cells[0] for cells in resumed] == ["0", "1", "2 (best)"]
    assert text(page, "#best").startswith("Best epoch so far: 2")

    record_epoch(api_only, job_id, 3, val_loss=0.6)
    as_worker(api_only, jobs.succeed, job_id, {"val_loss": 0.6})
    wait_for_status(page, "succeeded")
    page.get_by_role("link", name="Predict with this model").wait_for()
    web.shot("lost-worker-3-succeeded")
    table = page.evaluate(EPOCH_TABLE)
    assert [cells[0] for cells in table] == ["0", "1", "2", "3 (best)"]
    assert [cells[2] for cells in table] == ["2.2", "1.1", "0.9", "0.6"]
    assert page.locator("#loss-chart").get_attribute("data-points") == "4"
    assert text(page, "#best").startswith("Best epoch: 3")
    assert text(page, "#resume-note") == ""
    assert web.errors == []
