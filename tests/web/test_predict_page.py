"""Draw a digit on the canvas and read the model's answer."""

import pytest

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


def test_a_digit_drawn_on_the_canvas_is_recognised(web: Browser, form_run: dict):
    page = web.page
    page.goto(f"/predict.html?model={form_run['job_id']}")
    page.locator(f"#model option[value='{form_run['job_id']}']").wait_for(state="attached")
    assert page.locator("#model").input_value() == form_run["job_id"]
    draw(page, [[(0.5, 0.15), (0.5, 0.85)]])  # a "1": one stroke down the middle
    page.locator("#bars li").first.wait_for()
    web.shot("09-predicted-one")
    assert page.locator("#answer").inner_text() == "1"
    assert page.locator("#bars li").count() == 10
    assert page.locator("#bars li.top").inner_text().startswith("1")
    assert web.errors == []
