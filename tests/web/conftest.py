"""The web page in a real headless Chromium (Debian's ``chromium``) against the real service.

Screenshots of every step are kept under ``test-artifacts/web/`` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Service

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = PROJECT_ROOT / "test-artifacts" / "web"
WAIT_MS = 180_000  # training on a shared two-core machine; no assertion is about speed

# Each sample records the loss chart's point count and the status shown when it changed, so a
# test can tell that the curve grew while the job was still running.
WATCH_THE_CURVE = """
window.__samples = [];
document.addEventListener("DOMContentLoaded", () => {
  const chart = document.getElementById("loss-chart");
  const status = document.getElementById("status");
  if (!chart || !status) return;
  new MutationObserver(() => window.__samples.push(
    {points: Number(chart.dataset.points), status: status.textContent.trim()}
  )).observe(chart, {attributes: true, attributeFilter: ["data-points"]});
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    # .ci/run installs chromium and sets this, so CI fails rather than skipping in silence.
    if os.environ.get("DESCENT_TEST_BROWSER") == "required":
        raise pytest.UsageError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
    for item in items:
        if "tests/web/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Browser:
    """One page on the service; it records the page's errors and takes named screenshots."""

    def __init__(self, browser, service: Service) -> None:
        self.context = browser.new_context(
            base_url=str(service.client.base_url), viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(WAIT_MS)
        self.context.add_init_script(WATCH_THE_CURVE)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        # The browser logs every 4xx as an error; the tests cause some on purpose.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def shot(self, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def samples(self) -> list[dict]:
        return self.page.evaluate("window.__samples")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def web(browser, service: Service) -> Iterator[Browser]:
    opened = Browser(browser, service)
    yield opened
    opened.close()


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_for_status(page, *statuses: str) -> None:
    page.wait_for_function(
        "statuses => statuses.includes(document.getElementById('status').textContent.trim())",
        arg=list(statuses),
    )


FORM_EPOCHS = 8


@pytest.fixture(scope="session")
def form_run(browser, service: Service) -> Iterator[dict]:
    """Fill in the form like a person, submit, and watch the job page until the job ends."""
    web = Browser(browser, service)
    page = web.page
    page.goto("/")
    page.locator("#job-form").get_by_label("Name").fill("web-small")
    page.get_by_label("Data set").select_option("mnist")
    page.get_by_label("Training rows").fill("4000")
    page.get_by_label("Validate on").select_option("fraction")
    page.get_by_label("Share held out").fill("0.1")
    page.get_by_label("a layer list").check()
    page.locator("#layer-1-units").fill("64")  # the hidden layer; its label is "Units"
    page.get_by_label("Epochs", exact=True).fill(str(FORM_EPOCHS))
    web.shot("01-form-filled")
    page.get_by_role("button", name="Train").click()
    page.wait_for_url("**/job.html?id=*")
    job_id = page.url.rsplit("id=", 1)[1]
    page.wait_for_function(
        "() => Number(document.getElementById('loss-chart').dataset.points) >= 3"
        " && document.getElementById('status').textContent.trim() === 'running'"
    )
    web.shot("02-curve-growing-while-running")
    wait_for_status(page, "succeeded", "failed")
    page.get_by_role("link", name="Predict with this model").wait_for()
    web.shot("03-job-succeeded")
    yield {
        "job_id": job_id,
        "samples": web.samples(),
        "points": int(page.locator("#loss-chart").get_attribute("data-points")),
        "status": text(page, "#status"),
        "table_rows": page.locator("#epochs tr").count(),
        "best": text(page, "#best"),
        "errors": web.errors,
    }
    web.close()
