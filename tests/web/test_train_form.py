"""The job form: a job submitted through it trains, and its page draws the curve live."""

import pytest

from tests.conftest import Service
from tests.web.conftest import FORM_EPOCHS, Browser

pytestmark = [pytest.mark.integration, pytest.mark.web]


def test_the_form_submits_the_job_its_fields_describe(service: Service, form_run: dict):
    job = service.client.get(f"/v1/jobs/{form_run['job_id']}").json()
    assert job["name"] == "web-small"
    assert job["spec"]["dataset"] == {
        "name": "mnist",
        "limit": 4000,
        "validation": {"fraction": 0.1},
        "positive_classes": None,  # the resolved spec writes every field out
    }
    assert [layer.get("units") for layer in job["spec"]["model"]["layers"]] == [None, 64, 10]
    assert job["spec"]["epochs"] == FORM_EPOCHS
    assert job["status"] == "succeeded", job["error"]


def test_the_curve_gains_points_while_the_job_runs(form_run: dict):
    while_running = sorted({s["points"] for s in form_run["samples"] if s["status"] == "running"})
    assert len([p for p in while_running if p > 0]) >= 2, form_run["samples"]
    assert form_run["points"] == FORM_EPOCHS + 1  # epoch 0, the untrained model, comes first
    assert form_run["errors"] == []


def test_the_job_page_lists_every_epoch_and_names_the_best(form_run: dict):
    assert form_run["table_rows"] == FORM_EPOCHS + 1
    assert form_run["best"].startswith("Best epoch: ")
    assert form_run["status"] == "succeeded"


def test_the_apis_messages_appear_next_to_the_fields_they_name(web: Browser):
    page = web.page
    page.goto("/")
    page.get_by_label("a layer list").check()
    page.locator("#layer-1-units").fill("-3")
    page.get_by_label("Epochs", exact=True).fill("0")
    page.get_by_role("button", name="Train").click()
    page.locator("#epochs-error").filter(has_text="greater than or equal to 1").wait_for()
    assert "greater than" in page.locator("#layer-1-units-error").inner_text()
    assert page.get_by_label("Epochs", exact=True).get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "form-summary"
    assert "/job.html" not in page.url  # nothing was queued
    web.shot("04-validation-errors")


def test_every_field_has_a_label_and_the_form_works_from_the_keyboard(web: Browser):
    page = web.page
    page.goto("/")
    page.get_by_label("a layer list").check()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(c => !c.closest('[hidden]') && c.labels.length === 0
                    && !c.getAttribute('aria-label'))
            .map(c => c.id || c.name)"""
    )
    assert unlabelled == []
    page.get_by_label("Epochs", exact=True).fill("0")
    page.locator("#job-form").get_by_label("Name").focus()
    for _ in range(60):  # Tab through every control until the submit button has the focus
        if page.evaluate("document.activeElement.id") == "submit":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "submit"
    page.keyboard.press("Enter")
    page.locator("#epochs-error").filter(has_text="greater than or equal to 1").wait_for()
    web.shot("05-keyboard-submit")
    assert web.errors == []


def test_a_layer_kind_the_server_knows_appears_in_the_form(web: Browser):
    page = web.page
    page.goto("/")
    page.get_by_label("a layer list").check()
    page.locator("#layer-0-type").select_option("gaussian_noise")  # no JS names this kind
    assert page.locator("#layer-0-stddev").input_value() == "0.1"
    page.locator("#layer-0-stddev").fill("-1")
    page.get_by_role("button", name="Train").click()
    page.locator("#layer-0-stddev-error").filter(has_text="greater than 0").wait_for()
    activations = page.locator("#layer-1-activation option").all_inner_texts()
    assert {"gelu", "leaky_relu", "swish"} <= set(activations)  # all the server knows
    assert page.locator("#activation").input_value() == "relu"
    web.shot("06-gaussian-noise-layer")
    assert web.errors == []


def test_a_form_whose_layer_kinds_did_not_load_at_first_waits_and_then_works(web: Browser):
    page = web.page
    refused: list[str] = []

    def refuse_once(route) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, content_type="application/problem+json", body="{}")
        else:
            route.continue_()

    page.route("**/v1/layers", refuse_once)
    try:
        page.goto("/")
        page.locator("#form-status").filter(has_text="trying again").wait_for()
        assert page.locator("#submit").is_disabled()  # nothing half-known is sent
        page.wait_for_function("() => !document.getElementById('submit').disabled")  # no eval: CSP
        assert refused
        assert page.locator("#form-status").inner_text().strip() == ""
        assert page.locator("#activation").input_value() == "relu"
        page.get_by_label("a layer list").check()
        assert "gaussian_noise" in page.locator("#layer-0-type option").all_inner_texts()
    finally:
        page.unroute("**/v1/layers")
