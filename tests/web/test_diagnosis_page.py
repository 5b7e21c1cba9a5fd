"""Why it learns, or doesn't (#15), on the page: a job's verdict and diagnoses, its layer-health
chart, the confusion heatmap and the misclassified gallery, on a healthy job and on one whose
learning rate is far too high; and on the form, the live model summary and the learning-rate
finder. Real service, real training on small slices, Debian's Chromium, axe-core.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Service
from tests.web.test_page_everywhere import SIZES, Tab

pytestmark = [pytest.mark.integration, pytest.mark.web]

TRAINABLE_LAYERS = 2  # the hidden dense layer and the output layer (flatten has no weights)


@pytest.fixture(scope="module")
def jobs(healthy_job: dict, diverged_job: dict) -> dict[str, dict]:
    """One healthy and one diverged job (tests/conftest.py), finished."""
    return {"healthy": healthy_job, "diverged": diverged_job}


@pytest.fixture(scope="module")
def laptop(browser, service: Service) -> Iterator[Tab]:
    opened = Tab(browser, str(service.client.base_url), SIZES["laptop"])
    yield opened
    opened.close()


GALLERY_LOADED = (
    "() => [...document.querySelectorAll('#gallery img')]"
    ".every(i => i.complete && i.naturalWidth > 0)"
)


def open_job(tab: Tab, job: dict) -> None:
    """A finished job's page with everything on it: verdict, health, evaluation, images."""
    page = tab.page
    page.goto(f"/job.html?id={job['id']}")
    page.locator("#status").filter(has_text=job["status"]).wait_for()
    page.locator("#verdict").filter(has_text="Verdict").wait_for()
    page.locator("#health-chart .u-legend").wait_for()
    page.locator("#evaluation-part[data-state]").wait_for(state="attached")
    page.wait_for_function(GALLERY_LOADED)


def fits_a_phone(tab: Tab, name: str) -> None:
    """The same view at 390×844: no sideways scroll, nothing for axe."""
    tab.page.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    try:
        tab.page.wait_for_function(
            "() => [...document.querySelectorAll('figure.chart .uplot')]"
            ".every(p => p.getBoundingClientRect().right <= window.innerWidth)"
        )
        assert tab.fits()
        assert tab.axe() == []
        tab.shot(f"diagnosis-{name}-390x844")
    finally:
        tab.page.set_viewport_size({"width": SIZES["laptop"][0], "height": SIZES["laptop"][1]})


def health_series(page) -> int:
    """The lines of the layer-health chart, as its legend lists them (less the x column)."""
    return page.locator("#health-chart .u-legend .u-series").count() - 1


def test_a_healthy_job_shows_success_health_confusion_and_gallery(
    laptop: Tab, service: Service, jobs: dict
):
    page, job = laptop.page, jobs["healthy"]
    open_job(laptop, job)
    history = service.client.get(f"/v1/jobs/{job['id']}/history").json()
    assert history["verdict"]["outcome"] == "healthy", history["verdict"]
    assert history["diagnoses"] == []
    verdict = page.locator("#verdict")
    assert verdict.inner_text().startswith("Verdict: Healthy.")
    assert verdict.get_attribute("data-success") == "true"
    assert "good" in verdict.get_attribute("class").split()
    assert "good" in page.locator("#best").get_attribute("class").split()
    assert page.locator("#best").inner_text().startswith("Best epoch: ")

    # One line per trainable layer, one point per epoch (epoch 0 included), on a log scale.
    assert health_series(page) == TRAINABLE_LAYERS
    chart = page.locator("#health-chart")
    assert chart.get_attribute("data-series") == str(TRAINABLE_LAYERS)
    assert chart.get_attribute("data-points") == str(jobs["healthy"]["spec"]["epochs"] + 1)
    assert chart.get_attribute("data-y-scale") == "log"
    assert page.locator("#health-rows tr").count() == TRAINABLE_LAYERS

    # The heatmap: a table of counts summing to the evaluated rows, with each class's recall.
    evaluation = service.client.get(f"/v1/jobs/{job['id']}/evaluation").json()
    page.locator("#confusion-table").wait_for()
    table = page.locator("#confusion-table")
    assert table.locator("tbody tr").count() == 10
    counts = [int(t) for t in table.locator("td.cell").all_inner_texts()]
    assert sum(counts) == evaluation["rows"]
    recalls = table.locator("td.recall").all_inner_texts()
    assert len(recalls) == 10 and all(r.endswith("%") for r in recalls), recalls
    expected = evaluation["per_class"][0]["recall"] * 100
    assert abs(float(recalls[0].rstrip("%").lstrip("<>")) - expected) <= 0.1

    # The gallery: every image loaded (through the API key's fetch), captioned, with alt text.
    shown = len(evaluation["misclassified"])
    assert 0 < shown <= 36
    assert page.locator("#gallery img").count() == shown  # every one loaded (open_job waits)
    first = evaluation["misclassified"][0]
    caption = page.locator("#gallery figcaption").first.inner_text()
    assert f"true {first['true']}, predicted {first['predicted']}" in caption
    assert page.locator("#gallery img").first.get_attribute("alt")
    laptop.shot("diagnosis-healthy-1366x768")
    assert laptop.axe() == []
    fits_a_phone(laptop, "healthy")
    assert laptop.errors == []


def test_a_diverged_job_is_shown_as_diverged_without_success_styling(
    laptop: Tab, service: Service, jobs: dict
):
    page, job = laptop.page, jobs["diverged"]
    open_job(laptop, job)
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-outcome") == "diverged"
    assert verdict.get_attribute("data-success") == "false"
    assert "Diverged" in verdict.inner_text()
    # Nothing green: no success notice, no green best row.
    assert page.locator(".notice.good:not(:empty)").count() == 0
    assert page.locator("tr.best.success").count() == 0
    assert page.locator("#status .status.not-success").inner_text() == job["status"]
    diagnosis = page.locator("#diagnoses li[data-code='diverged']")
    assert diagnosis.locator(".evidence").inner_text()
    assert diagnosis.locator("ul.remedies li").count() >= 1
    laptop.shot("diagnosis-diverged-1366x768")
    assert laptop.axe() == []
    fits_a_phone(laptop, "diverged")
    assert laptop.errors == []


def test_the_model_summary_follows_the_layers_as_they_are_edited(laptop: Tab):
    page = laptop.page
    page.goto("/")
    page.get_by_label("a layer list").check()
    hidden = page.locator("#check-layers tr").nth(1)  # the hidden dense layer, 128 units at first
    hidden.filter(has_text="100,480").wait_for()  # 784 × 128 weights + 128 biases
    page.locator("#layer-1-units").fill("64")
    hidden.filter(has_text="50,240").wait_for()
    assert "64" in hidden.locator("td.shape").inner_text()
    assert "50,890 parameters" in page.locator("#check-total").inner_text()  # + 64 × 10 + 10
    # A warning names its diagnosis in the job page's words.
    page.get_by_label("Learning rate", exact=True).fill("5")
    page.locator("#check-warnings li[data-code='diverged']").filter(has_text="Diverged").wait_for()
    assert laptop.errors == []


def test_the_learning_rate_finder_fills_the_field(laptop: Tab):
    page = laptop.page
    page.goto("/")
    page.get_by_label("Training rows").fill("500")
    page.get_by_label("a layer list").check()
    page.locator("#layer-1-units").fill("16")
    page.get_by_role("button", name="Find a learning rate").click()
    use = page.locator("#lr-find-use")
    use.wait_for(state="visible", timeout=120_000)
    rate = use.inner_text().removeprefix("Use ").strip()
    assert float(rate) > 0
    assert int(page.locator("#lr-find-chart").get_attribute("data-points")) > 10
    use.click()
    assert page.get_by_label("Learning rate", exact=True).input_value() == rate
    laptop.shot("diagnosis-lr-find-1366x768")
    assert laptop.axe() == []
    fits_a_phone(laptop, "lr-find")
    assert laptop.errors == []
