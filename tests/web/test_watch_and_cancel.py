"""The job page of a long job: overfitting marked as it happens, then cancelled by a click;
and the compare view overlaying two jobs' curves."""

import re

import pytest

from tests.conftest import Service
from tests.factories import job_spec
from tests.web.conftest import Browser, text, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.web]

# Few rows, a wide layer and a brisk learning rate: validation loss soon turns up while
# training loss keeps falling. Far more epochs than the test waits for.
OVERFITTING_SPEC = job_spec(
    name="web-overfit", limit=300, validation=0.2, units=256, epochs=500, batch_size=16,
    optimizer={"name": "adam", "learning_rate": 0.003},
)  # fmt: skip


@pytest.fixture(scope="module")
def cancel_run(web: Browser, service: Service) -> dict:
    job_id = service.client.post("/v1/jobs", json=OVERFITTING_SPEC).json()["id"]
    page = web.page
    page.goto(f"/job.html?id={job_id}")
    # Read as it appears, in the same look: a later epoch with a new best clears the mark.
    overfitting = page.wait_for_function(
        "() => { const mark = document.getElementById('overfitting').textContent;"
        " return mark.includes('Overfitting since epoch') && mark; }"
    ).json_value()
    web.shot("06-overfitting-marked")
    points_before = int(page.locator("#loss-chart").get_attribute("data-points"))
    page.get_by_role("button", name="Cancel job").click()
    wait_for_status(page, "cancelled")
    web.shot("07-cancelled")
    return {
        "job_id": job_id,
        "overfitting": overfitting,
        "points_before": points_before,
        "points_after": int(page.locator("#loss-chart").get_attribute("data-points")),
        "cancel_enabled": page.locator("#cancel").is_enabled(),  # hidden once it ends
        "note": text(page, "#cancel-note"),
        "errors": web.errors,
    }


def test_overfitting_is_named_on_the_page_as_it_happens(service: Service, cancel_run: dict):
    rows = service.client.get(f"/v1/jobs/{cancel_run['job_id']}/history").json()["epochs"]
    marked = re.search(r"since epoch (\d+):.* epoch (\d+)'s weights", cancel_run["overfitting"])
    assert marked, cancel_run["overfitting"]
    since, best = int(marked[1]), int(marked[2])
    # The mark shown is the one some epoch of the job was recorded with, as that epoch came.
    assert any(row["overfitting_since"] == since and row["best_epoch"] == best for row in rows)
    assert since > best


def test_the_cancel_button_stops_the_job_and_the_curve_stays(service: Service, cancel_run: dict):
    job = service.client.get(f"/v1/jobs/{cancel_run['job_id']}").json()
    assert job["status"] == "cancelled"
    rows = service.client.get(f"/v1/jobs/{cancel_run['job_id']}/history").json()["epochs"]
    assert cancel_run["points_after"] == len(rows) >= cancel_run["points_before"]
    assert len(rows) < OVERFITTING_SPEC["epochs"]
    assert not cancel_run["cancel_enabled"]
    assert cancel_run["note"].startswith("Cancelled.")
    assert cancel_run["errors"] == []


def test_the_compare_view_overlays_both_jobs(web: Browser, form_run: dict, cancel_run: dict):
    page = web.page
    page.goto(f"/compare.html?ids={form_run['job_id']},{cancel_run['job_id']}")
    page.locator("#summary tr").nth(1).wait_for()
    legend = page.locator("#loss-chart .u-legend").inner_text()
    assert "web-small" in legend and "web-overfit" in legend
    assert int(page.locator("#loss-chart").get_attribute("data-points")) > 1
    rows = page.locator("#summary tr").all_inner_texts()
    assert "since epoch" in rows[1] and "no" in rows[0].split("\t")[-1]
    web.shot("08-compare")
    assert web.errors == []
