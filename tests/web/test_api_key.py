"""With DESCENT_AUTH=required the page asks for an API key, sends it with every request (the
live event stream, predictions and downloads included), and asks again when it stops working."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Backend, Service, start_service, stop_service
from tests.web.conftest import Browser, wait_for_status
from tests.web.test_predict_page import draw

pytestmark = [pytest.mark.integration, pytest.mark.web]

EPOCHS = 2


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Service]:
    """The service with keys required (on loopback; PostgreSQL + Redis on that pass)."""
    home = tmp_path_factory.mktemp("descent-secured")
    running = start_service(home, DESCENT_AUTH="required", **backend(home))
    yield running
    stop_service(running)


@pytest.fixture
def web(browser, secured: Service) -> Iterator[Browser]:
    opened = Browser(browser, secured)
    yield opened
    opened.close()


def keys(service: Service, *args: str) -> str:
    """``descent keys ...`` against the service's database, as whoever runs it would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env |= {"DESCENT_HOME": str(service.home), **service.overrides}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", "keys", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def create_key(service: Service, name: str) -> tuple[str, str]:
    """A new key's id and secret."""
    printed = keys(service, "create", "--name", name)
    found = re.search(r"^id:\s+(\S+)$.*^secret:\s+(\S+)$", printed, re.M | re.S)
    assert found, printed
    return found[1], found[2]


def save_key(page, secret: str) -> None:
    page.get_by_label("API key", exact=True).fill(secret)
    page.get_by_role("button", name="Save key").click()


def test_with_a_key_the_page_trains_watches_predicts_and_downloads(web: Browser, secured: Service):
    page = web.page
    page.goto("/")
    panel = page.locator("#api-key-panel")
    panel.wait_for()
    assert "descent keys create --name" in panel.inner_text()
    web.shot("11-key-asked")

    save_key(page, "dsk_not-a-key")
    page.locator("#api-key-error").filter(has_text="unknown or has been revoked").wait_for()
    assert page.get_by_role("button", name="Forget key").is_hidden()
    web.shot("12-wrong-key")

    _, secret = create_key(secured, "web-tester")
    save_key(page, secret)
    panel.wait_for(state="hidden")
    page.locator("#jobs").filter(has_text="No jobs yet").wait_for()  # the list loaded with it
    page.get_by_label("Training rows").fill("500")
    page.get_by_label("Validate on").select_option("fraction")
    page.get_by_label("a layer list").check()
    page.locator("#layer-1-units").fill("16")
    page.get_by_label("Epochs", exact=True).fill(str(EPOCHS))
    page.get_by_role("button", name="Train").click()
    page.wait_for_url("**/job.html?id=*")
    job_id = page.url.rsplit("id=", 1)[1]
    wait_for_status(page, "succeeded", "failed")
    page.get_by_role("link", name="Predict with this model").wait_for()
    web.shot("13-job-with-key")
    # Every point came from the event stream, which the page read with the key.
    assert int(page.locator("#loss-chart").get_attribute("data-points")) == EPOCHS + 1
    assert page.locator("#status").inner_text().strip() == "succeeded"

    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download .onnx").click()
    assert downloaded.value.suggested_filename == f"{job_id}.onnx"
    assert os.path.getsize(downloaded.value.path()) > 1000

    page.get_by_role("link", name="Predict with this model").click()
    page.locator(f"#model option[value='{job_id}']").wait_for(state="attached")
    draw(page, [[(0.5, 0.15), (0.5, 0.85)]])
    page.locator("#bars li").first.wait_for()
    web.shot("14-predicted-with-key")
    assert page.locator("#answer").inner_text() in set("0123456789")
    assert page.locator("#bars li").count() == 10

    job = secured.client.get(f"/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {secret}"})
    assert job.json()["status"] == "succeeded"  # the key's owner's job, read with that key
    assert web.errors == []


def test_a_forgotten_or_revoked_key_brings_the_form_back(web: Browser, secured: Service):
    page = web.page
    key_id, secret = create_key(secured, "web-revoked")
    page.goto("/")
    save_key(page, secret)
    page.locator("#api-key-panel").wait_for(state="hidden")

    page.get_by_role("button", name="Forget key").click()
    page.locator("#api-key-panel").wait_for()
    page.goto("/compare.html")  # the key is gone from the tab, not only from the page
    page.locator("#api-key-panel").wait_for()

    save_key(page, secret)
    page.locator("#api-key-panel").wait_for(state="hidden")
    page.goto("/")  # the tab keeps the key from page to page
    page.locator("#jobs tr").first.wait_for()
    assert page.locator("#api-key-panel").count() == 0

    keys(secured, "revoke", key_id)
    # The job list's next refresh gets a 401: the form comes back with the server's message.
    page.locator("#api-key-error").filter(has_text="unknown or has been revoked").wait_for()
    assert page.get_by_label("API key", exact=True).evaluate("e => e === document.activeElement")
    web.shot("15-key-revoked")
    assert web.errors == []
