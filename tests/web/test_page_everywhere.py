"""The page people keep open (#16), and its search view (#19), in a real Chromium at a phone's
390×844 and a laptop's 1366×768: no sideways scroll, no axe violation, readable charts, the
form in its own words, sweeps from the form, and a banner when the server goes away.

One small finished job is shared by the module; one long job runs only while the compare
view is watched, then is cancelled. Screenshots of every page at both sizes land in
``test-artifacts/web/page-*.png``.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.settings import PROJECT_ROOT
from tests.conftest import Service
from tests.factories import job_spec
from tests.harness import free_port, start_service, stop_service
from tests.web.conftest import SHOTS

pytestmark = [pytest.mark.integration, pytest.mark.web]

AXE = (PROJECT_ROOT / "tests" / "web" / "vendor" / "axe-core" / "axe.min.js").read_text()
SIZES = {"phone": (390, 844), "laptop": (1366, 768)}
WAIT_MS = 120_000
SMALL = job_spec(name="web-small-1", limit=300, validation=0.2, units=16, epochs=1, batch_size=32)
LONG = job_spec(name="web-long", limit=200, validation=0.2, units=16, epochs=400, batch_size=50)


def wait_until(predicate, seconds: float = 120, every: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def finished(service: Service, job_id: str) -> dict:
    return wait_until(
        lambda: (
            (job := service.client.get(f"/v1/jobs/{job_id}").json())["status"]
            in ("succeeded", "failed", "cancelled")
            and job
        )
    )


@pytest.fixture(scope="module")
def small_job(service: Service) -> dict:
    job = service.client.post("/v1/jobs", json=SMALL).json()
    done = finished(service, job["id"])
    assert done["status"] == "succeeded", done["error"]
    return done


class Tab:
    """A browser context at one size; records page errors (not the 4xx the tests cause)."""

    def __init__(self, browser, base_url: str, size=(1366, 768)) -> None:
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": size[0], "height": size[1]}
        )
        self.context.set_default_timeout(30_000)  # training waits name WAIT_MS
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")
                and self.errors.append(m.text)
            ),
        )

    def fits(self) -> bool:
        return self.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    def axe(self) -> list:
        # evaluate() runs through the DevTools protocol, which the page's CSP does not govern.
        self.page.evaluate(AXE + "\n;0")
        return self.page.evaluate(
            "() => axe.run().then(r => r.violations.map("
            "v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))})))"
        )

    def shot(self, name: str) -> None:
        """The viewport as a small PNG (a 64-colour palette: kept in the repository)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(self.page.screenshot())).convert("RGB")
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(
            SHOTS / f"{name}.png", optimize=True
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, service: Service) -> Iterator[Tab]:
    opened = Tab(browser, str(service.client.base_url))
    yield opened
    opened.close()


def loaded(page, path: str) -> None:
    page.goto(path)
    # A page that polls still has quiet half-seconds; an open event stream may not.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=10_000)


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_the_screen_and_axe_finds_nothing(
    browser, service: Service, small_job: dict, size: str
):
    tab = Tab(browser, str(service.client.base_url), SIZES[size])
    page = tab.page
    job_id = small_job["id"]
    pages = {
        "train": "/",
        "job": f"/job.html?id={job_id}",
        "job-not-found": "/job.html?id=" + "0" * 32,
        "compare": f"/compare.html?ids={job_id}",
        "predict": "/predict.html",
        "sweeps": "/search.html",
    }
    problems = {}
    try:
        for name, path in pages.items():
            loaded(page, path)
            if name == "job":
                page.locator("#status").filter(has_text="succeeded").wait_for()
            if not tab.fits():
                problems[name] = "scrolls sideways"
            violations = tab.axe()
            if violations:
                problems[name] = violations
            tab.shot(f"page-{name}-{SIZES[size][0]}x{SIZES[size][1]}")
        # A failed submit on a phone: the messages wrap, the page still fits.
        loaded(page, "/")
        page.get_by_label("a layer list").check()
        page.locator("#layer-1-units").fill("-3")
        page.get_by_role("button", name="Train", exact=True).click()
        page.locator("#layer-1-units-error").filter(has_text="greater than").wait_for()
        if not tab.fits():
            problems["train-errors"] = "scrolls sideways"
        if violations := tab.axe():
            problems["train-errors"] = violations
        tab.shot(f"page-train-errors-{SIZES[size][0]}x{SIZES[size][1]}")
        # The focus ring: at least 3:1 against the panel behind it.
        page.get_by_label("Epochs", exact=True).focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        ratio = page.evaluate(
            """() => {
              const rgb = s => s.match(/\\d+/g).slice(0, 3).map(Number);
              const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
              const style = getComputedStyle(document.activeElement);
              const ring = lum(rgb(style.outlineColor)), paper = lum([255, 255, 255]);
              return style.outlineStyle === 'none' ? 0
                : (Math.max(ring, paper) + 0.05) / (Math.min(ring, paper) + 0.05);
            }"""
        )
        assert ratio >= 3, ratio
    finally:
        tab.close()
    assert problems == {}
    assert tab.errors == []


def test_an_unknown_job_says_so(tab: Tab):
    loaded(tab.page, "/job.html?id=" + "f" * 32)
    assert tab.page.locator("h1").inner_text() == "No such job"
    assert "no job with the id" in tab.page.locator("#not-found").inner_text()


def test_the_charts_show_values_on_hover_zoom_and_switch_to_log(tab: Tab, small_job: dict):
    page = tab.page
    loaded(page, f"/job.html?id={small_job['id']}")
    page.locator("#status").filter(has_text="succeeded").wait_for()
    chart = page.locator("#loss-chart")
    assert chart.get_attribute("data-x-range") == "0,1"  # epochs 0..1 from the first point
    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    values = chart.locator(".u-legend .u-series:not([hidden]) .u-value").all_inner_texts()
    assert values[0] == "1" and all(v not in ("—", "") for v in values[1:3]), values
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 30, steps=4)
    page.mouse.up()
    low, high = map(float, chart.get_attribute("data-x-range").split(","))
    assert 0.1 < low < high < 0.9
    reset = chart.get_by_role("button", name="Reset zoom")
    assert reset.is_enabled()
    chart.get_by_label("Log scale").check()
    assert chart.get_attribute("data-x-range").startswith(f"{low:.3f}".rstrip("0"))  # kept
    assert chart.get_attribute("data-y-scale") == "log"
    reset.click()
    assert chart.get_attribute("data-x-range") == "0,1"
    assert tab.errors == []


def test_compare_keeps_scroll_and_hidden_lines_while_a_job_runs(
    tab: Tab, service: Service, small_job: dict
):
    page = tab.page
    page.set_viewport_size({"width": 1366, "height": 600})
    long_id = service.client.post("/v1/jobs", json=LONG).json()["id"]
    try:
        wait_until(
            lambda: len(service.client.get(f"/v1/jobs/{long_id}/history").json()["epochs"]) >= 2
        )
        loaded(page, f"/compare.html?ids={small_job['id']},{long_id}")
        chart = page.locator("#loss-chart")
        page.locator("#compare-note").filter(has_text="updating").wait_for(timeout=WAIT_MS)
        # Hide the small job's validation line, scroll down, and let a few refreshes come.
        chart.locator(".u-legend .u-series", has_text="web-small-1").first.click()
        page.evaluate("() => window.scrollTo(0, 400)")
        before = int(chart.get_attribute("data-points"))
        page.wait_for_function(
            "n => Number(document.getElementById('loss-chart').dataset.points) > n + 1",
            arg=before,
            timeout=WAIT_MS,
        )
        assert page.evaluate("() => window.scrollY") == 400
        hidden = chart.locator(".u-legend .u-series", has_text="web-small-1").first
        assert "u-off" in (hidden.get_attribute("class") or "")
        assert page.locator("#summary td.differs").count() > 0  # their settings differ
    finally:
        service.client.post(f"/v1/jobs/{long_id}/cancel")
    finished(service, long_id)
    assert tab.errors == []


def test_the_form_speaks_its_own_language_and_offers_the_whole_vocabulary(tab: Tab):
    page = tab.page
    loaded(page, "/")
    page.get_by_role("button", name="Train", exact=True).wait_for()
    page.wait_for_function("() => !document.getElementById('submit').disabled")
    optimizers = page.locator("#optimizer option").evaluate_all("os => os.map(o => o.value)")
    assert {"sgd", "adam", "adamw", "adagrad", "rmsprop", "nadam"} <= set(optimizers)
    schedules = page.locator("#schedule option").all_inner_texts()
    assert {"constant", "exponential decay", "cosine decay"} <= set(schedules)
    page.get_by_label("a layer list").check()
    kinds = page.locator("#layer-0-type option").evaluate_all("os => os.map(o => o.value)")
    assert {"batch_norm", "avg_pool2d"} <= set(kinds)
    # The API's error about model.layers[2] reads "Layer 3".
    page.locator("#layer-2-units").fill("0")
    page.get_by_role("button", name="Train", exact=True).click()
    summary = page.locator("#form-summary")
    summary.filter(has_text="Layer 3").wait_for()
    assert "model.layers" not in summary.inner_text()
    assert "Input should be" not in summary.inner_text()
    # A cleared learning rate is refused before anything is sent.
    page.locator("#layer-2-units").fill("10")
    page.get_by_label("Learning rate", exact=True).fill("")
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url))
    page.get_by_role("button", name="Train", exact=True).click()
    summary.filter(has_text="Learning rate").wait_for()
    assert "is empty" in page.locator("#learning-rate-error").inner_text()
    assert sent == [] and "/job.html" not in page.url
    assert tab.errors == []


def test_train_again_with_changes_copies_the_job_into_the_form(tab: Tab, small_job: dict):
    page = tab.page
    loaded(page, f"/job.html?id={small_job['id']}")
    page.get_by_role("link", name="Train again with changes").click()
    page.locator("#form-status").filter(has_text="Copied from").wait_for()
    assert page.get_by_label("Training rows").input_value() == "300"
    assert page.locator("#layer-1-units").input_value() == "16"
    assert page.locator("#job-form").get_by_label("Name").input_value() == "web-small-1 again"


def test_a_sweep_built_in_the_form_runs_and_shows_its_leaderboard_and_plot(
    tab: Tab, service: Service
):
    page = tab.page
    loaded(page, "/")
    page.wait_for_function("() => !document.getElementById('submit').disabled")
    page.locator("#job-form").get_by_label("Name").fill("web-sweep")
    page.get_by_label("Training rows").fill("300")
    page.get_by_label("Validate on").select_option("fraction")
    page.get_by_label("a layer list").check()
    page.locator("#layer-1-units").fill("16")
    page.get_by_label("Epochs", exact=True).fill("1")
    page.get_by_label("Vary learning rate").check()
    page.get_by_label("Learning rate values").fill("0.1, 0.01, 0.001")
    page.locator("#sweep-count").filter(has_text="3 jobs").wait_for()
    page.get_by_role("button", name="Run sweep").click()
    page.wait_for_url("**/search.html?batch=*")
    page.wait_for_function(
        "() => document.querySelectorAll('#board tr').length === 3"
        " && [...document.querySelectorAll('#board tr td:first-child')]"
        "    .every(td => td.textContent !== '—')",
        timeout=WAIT_MS,
    )
    scatter = page.locator('figure.scatter[data-param="optimizer.learning_rate"]')
    assert scatter.get_attribute("data-points") == "3"
    assert "optimizer.learning_rate" in page.locator("#board-head").inner_text()
    tab.shot("page-sweep-1366x768")
    page.set_viewport_size({"width": 390, "height": 844})
    assert tab.fits()
    assert tab.axe() == []
    tab.shot("page-sweep-390x844")
    assert tab.errors == []


def test_the_search_view_shows_trials_the_leaderboard_and_where_trials_stopped(
    tab: Tab, service: Service
):
    base = job_spec(limit=200, validation=0.2, units=8, epochs=1, batch_size=50)
    search = service.client.post(
        "/v1/searches",
        json={
            "name": "web-search",
            "base": base,
            "space": {"optimizer.learning_rate": {"choice": [0.05, 0.001]}},
            "sampler": {"type": "grid"},
            "max_trials": 2,
            "max_parallel": 1,
        },
    )
    assert search.status_code == 202, search.text
    page = tab.page
    loaded(page, f"/search.html?id={search.json()['id']}")
    page.locator("h1").filter(has_text="web-search").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('#board tr').length === 2"
        " && document.querySelector('figure.scatter')?.dataset.points === '2'",
        timeout=WAIT_MS,
    )
    assert "Stopped" in page.locator("#board-head").inner_text()
    assert page.locator("#best").inner_text().startswith("Best")
    assert tab.fits()
    tab.shot("page-search-1366x768")
    assert tab.axe() == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert tab.fits()
    tab.shot("page-search-390x844")
    assert tab.errors == []


def test_a_429_on_the_event_stream_is_waited_out_not_the_end(tab: Tab, small_job: dict):
    page = tab.page
    hits: list[str] = []

    def busy_once(route) -> None:
        hits.append(route.request.url)
        if len(hits) == 1:
            route.fulfill(
                status=429,
                headers={"retry-after": "1", "content-type": "application/problem+json"},
                body='{"detail": "too many streams"}',
            )
        else:
            route.continue_()

    page.route("**/events", busy_once)
    loaded(page, f"/job.html?id={small_job['id']}")
    for _ in range(50):  # Playwright runs route handlers only while it is called: no sleep()
        if len(hits) >= 2:
            break
        page.wait_for_timeout(200)
    assert len(hits) >= 2, hits
    page.locator("#status").filter(has_text="succeeded").wait_for()


@pytest.fixture(scope="module")
def lone_api(tmp_path_factory) -> Iterator[dict]:
    """An API with no worker that the outage test may stop and start again (on its port)."""
    home = tmp_path_factory.mktemp("outage-home")
    port = free_port()
    running = {"service": start_service(home, worker=False, port=port), "home": home, "port": port}
    yield running
    stop_service(running["service"])


def test_a_server_gone_shows_a_banner_that_clears_when_it_returns(browser, lone_api: dict):
    service = lone_api["service"]
    job_id = service.client.post("/v1/jobs", json=SMALL).json()["id"]  # stays queued
    tab = Tab(browser, str(service.client.base_url), SIZES["phone"])
    page = tab.page
    try:
        loaded(page, "/")
        # The list refreshes every 2 s, redrawing only what changed: the focus stays put.
        link = page.locator(f"#link-{job_id}")
        link.focus()
        page.wait_for_timeout(2500)  # one refresh of the list
        assert page.evaluate("() => document.activeElement.id") == f"link-{job_id}"
        assert "1st in the queue" in page.locator(f'tr[data-job="{job_id}"]').inner_text()
        stop_service(service)
        started = time.monotonic()
        banner = page.locator("#connection-banner")
        banner.filter(has_text="Connection to the server lost").wait_for(timeout=5_000)
        assert time.monotonic() - started <= 5
        assert tab.fits()
        tab.shot("page-train-outage-390x844")
        lone_api["service"] = start_service(lone_api["home"], worker=False, port=lone_api["port"])
        page.locator("#connection-banner").wait_for(state="hidden", timeout=30_000)
        page.locator(f'tr[data-job="{job_id}"]').wait_for()
    finally:
        tab.close()


def test_assets_are_compressed_cached_and_versioned(service: Service):
    client = httpx.Client(base_url=str(service.client.base_url))
    page = client.get("/", headers={"accept-encoding": "gzip"})
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-encoding"] == "gzip"
    script = re.search(r'src="(js/index\.js\?v=[0-9a-f]+)"', page.text)
    assert script, page.text[:500]
    versioned = client.get("/" + script[1], headers={"accept-encoding": "gzip"})
    assert "immutable" in versioned.headers["cache-control"]
    imported = re.search(r'from "\./(form\.js\?v=[0-9a-f]+)"', versioned.text)
    assert imported, versioned.text  # its imports carry the version too
    module = client.get("/js/" + imported[1], headers={"accept-encoding": "gzip"})
    assert module.headers["content-encoding"] == "gzip"
    assert int(module.headers["content-length"]) < len(module.content) / 2
    again = client.get(
        "/" + script[1],
        headers={"if-none-match": versioned.headers["etag"], "accept-encoding": "gzip"},
    )
    assert again.status_code == 304
    assert client.get("/nowhere.js").status_code == 404
    assert client.get("/../pyproject.toml").status_code == 404
    client.close()
