"""Draw a digit on the canvas, or upload a hand sign, and read the model's answer."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.settings import PROJECT_ROOT
from tests.conftest import Service
from tests.factories import job_spec
from tests.web.conftest import Browser

pytestmark = [pytest.mark.integration, pytest.mark.web]


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Strokes in fractions of the pad's size, drawn with the mouse."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


SEEN = (
    "[...document.getElementById('seen').getContext('2d')"
    ".getImageData(0, 0, 28, 28).data].filter((_, i) => i % 4 === 0)"
)


def is_prediction(request) -> bool:
    return request.method == "POST" and request.url.split("?")[0].endswith("/predict")


def test_a_digit_drawn_on_the_canvas_is_recognised(web: Browser, form_run: dict):
    page = web.page
    page.goto(f"/predict.html?model={form_run['job_id']}")
    page.locator(f"#model option[value='{form_run['job_id']}']").wait_for(state="attached")
    assert page.locator("#model").input_value() == form_run["job_id"]
    with page.expect_request(is_prediction) as asked:
        draw(page, [[(0.5, 0.15), (0.5, 0.85)]])  # a "1": one stroke down the middle
    # The drawing goes as a file, for the server's conversion to frame it like MNIST (the
    # browser does not show Playwright a body that holds files, so only its type is checked).
    assert asked.value.headers["content-type"].startswith("multipart/form-data")
    page.locator("#bars li").first.wait_for()
    web.shot("09-predicted-one")
    assert page.locator("#answer").inner_text() == "1"
    # What the model saw, as the server framed it: a stroke 20 pixels tall, centred by mass.
    seen = np.array(page.evaluate(SEEN), dtype=float).reshape(28, 28)
    rows = np.flatnonzero(seen.max(axis=1) > 32)
    assert 18 <= rows[-1] - rows[0] + 1 <= 20
    centre = [(seen.sum(axis=1 - axis) @ np.arange(28)) / seen.sum() for axis in (0, 1)]
    np.testing.assert_allclose(centre, 13.5, atol=1)
    assert page.locator("#bars li").count() == 10
    assert page.locator("#bars li.top").inner_text().startswith("1")
    assert web.errors == []


ASL_SPEC = job_spec(name="web-asl", dataset="asl", classes=24, limit=4000, units=128, epochs=4)


@pytest.fixture(scope="module")
def asl_model(service: Service) -> str:
    job = service.wait_for_job(service.client.post("/v1/jobs", json=ASL_SPEC).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    return job["model_id"]


def test_an_uploaded_hand_sign_is_answered_with_a_letter(
    web: Browser, service: Service, asl_model: str, tmp_path: Path
):
    with np.load(PROJECT_ROOT / "data" / "sign_mnist.npz") as data:
        image = data["x_test"][0]
    png = tmp_path / "sign.png"
    Image.fromarray(image).save(png)
    page = web.page
    page.goto(f"/predict.html?model={asl_model}")
    page.locator(f"#model option[value='{asl_model}']").wait_for(state="attached")
    with page.expect_request(is_prediction) as asked:
        page.get_by_label("Or upload an image").set_input_files(png)
    assert asked.value.headers["content-type"].startswith("multipart/form-data")
    page.locator("#bars li").first.wait_for()
    web.shot("10-predicted-letter")
    seen = np.array(page.evaluate(SEEN)).reshape(28, 28)
    assert np.abs(seen - image.astype(int)).mean() < 8  # the model saw the picture uploaded
    answer = page.locator("#answer").inner_text()
    same_image = service.client.post(
        f"/v1/models/{asl_model}/predict", json={"instances": [image.tolist()]}
    ).json()["predictions"][0]
    assert answer == same_image["label"]
    assert answer in set("ABCDEFGHIKLMNOPQRSTUVWXY")
    assert page.locator("#bars li").count() == 24
    assert web.errors == []
